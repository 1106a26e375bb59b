package dev.quantforge.job;

import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import tools.jackson.databind.JsonNode;

import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.Page;
import dev.quantforge.platform.Paging;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/api/v1/jobs")
@Tag(name = "jobs", description = "Submit, follow, cancel and retry jobs")
public class JobController {

    private final JobService service;
    private final JobEvents events;

    public JobController(JobService service, JobEvents events) {
        this.service = service;
        this.events = events;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "submitJob", summary = "Submit a job",
            description = "Body {type, modelId, calibrationDatasetId?, evaluationDatasetId?, trainingDatasetId?, config, priority?, maxAttempts?}. "
                    + "The config is validated and completed with defaults; datasets are checked against the model's inputs. "
                    + "A repeat with the same Idempotency-Key returns the first job with 200.")
    public ResponseEntity<JobView> submit(@RequestBody JsonNode body,
                                          @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        JobService.Submitted s = service.submit(body, idempotencyKey);
        return ResponseEntity.status(s.created() ? HttpStatus.CREATED : HttpStatus.OK).body(s.job());
    }

    @GetMapping
    @Operation(operationId = "listJobs", summary = "List jobs, newest first, filtered by state, type and model")
    public Page<JobView> list(@RequestParam(required = false) String state, @RequestParam(required = false) String type,
                              @RequestParam(required = false) UUID modelId,
                              @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Paging.check(page, size);
        return service.list(state, type, modelId, page, size);
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getJob", summary = "One job, with progress, result, artifacts and report ids")
    public JobView get(@PathVariable UUID id) {
        return service.get(id);
    }

    @PostMapping("/{id}/cancel")
    @Operation(operationId = "cancelJob", summary = "Cancel a job (a queued job at once; a running job at its next progress point, within seconds)")
    public JobView cancel(@PathVariable UUID id) {
        return service.cancel(id);
    }

    @PostMapping("/{id}/retry")
    @Operation(operationId = "retryJob", summary = "Requeue a failed or cancelled job")
    public JobView retry(@PathVariable UUID id) {
        return service.retry(id);
    }

    @GetMapping("/{id}/logs")
    @Operation(operationId = "getJobLogs", summary = "The job's log lines (after=seq to page on)")
    public List<JobLogRepository.LogLine> logs(@PathVariable UUID id, @RequestParam(defaultValue = "0") long after,
                                               @RequestParam(defaultValue = "1000") int limit) {
        if (limit < 1 || limit > 10000) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("limit", "must be between 1 and 10000")));
        }
        return service.logs(id, after, limit);
    }

    @GetMapping(path = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    @Operation(operationId = "followJobEvents", summary = "Follow a job: server-sent events 'state', 'progress' and 'log' until it ends",
            description = "Each 'log' event's id is the line's sequence number: a client that reconnects (to any replica) with Last-Event-ID "
                    + "gets the lines after it, not the whole log again.")
    public SseEmitter events(@PathVariable UUID id,
                             @RequestHeader(value = "Last-Event-ID", required = false) Long lastEventId) {
        service.record(id);
        return events.follow(id, lastEventId == null ? 0 : Math.max(0, lastEventId));
    }
}
