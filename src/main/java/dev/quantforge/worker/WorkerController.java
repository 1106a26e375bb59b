package dev.quantforge.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.dataset.DatasetEntity;
import dev.quantforge.dataset.DatasetService;
import dev.quantforge.job.JobLogRepository;
import dev.quantforge.job.JobRecord;
import dev.quantforge.job.JobRepository;
import dev.quantforge.job.JobService;
import dev.quantforge.job.JobState;
import dev.quantforge.job.LeaseReaper;
import dev.quantforge.model.ModelEntity;
import dev.quantforge.model.ModelService;
import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.platform.ShutdownDrain;
import dev.quantforge.platform.Text;
import dev.quantforge.platform.access.Caller;
import dev.quantforge.platform.access.ProjectAccess;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * The remote worker protocol (docs/API.md "Workers"): a worker anywhere registers, long-polls for
 * a lease, downloads its inputs, heartbeats progress (and learns of cancel), then completes with
 * its result and artifact files, or fails. Every write is fenced by the worker's lease.
 */
@RestController
@RequestMapping("/api/v1/workers")
@Tag(name = "workers", description = "Remote worker protocol")
public class WorkerController {

    private final WorkerRegistry registry;
    private final JobRepository jobs;
    private final JobLogRepository logs;
    private final JobService jobService;
    private final JobResults results;
    private final ModelService models;
    private final DatasetService datasets;
    private final QfProperties props;
    private final ObjectMapper json;
    private final InstanceDirectory scratch;
    private final LeaseReaper reaper;
    private final ShutdownDrain drain;

    public WorkerController(WorkerRegistry registry, JobRepository jobs, JobLogRepository logs, JobService jobService,
                            JobResults results, ModelService models, DatasetService datasets, QfProperties props, ObjectMapper json,
                            InstanceDirectory scratch, LeaseReaper reaper, ShutdownDrain drain) {
        this.reaper = reaper;
        this.drain = drain;
        this.scratch = scratch;
        this.registry = registry;
        this.jobs = jobs;
        this.logs = logs;
        this.jobService = jobService;
        this.results = results;
        this.models = models;
        this.datasets = datasets;
        this.props = props;
        this.json = json;
    }

    /**
     * @param id the worker's instance identity, kept across its restarts (optional): registering again under it
     *           revives the worker's row and requeues at once the jobs its previous incarnation held
     */
    public record Registration(String name, JsonNode capabilities, UUID id) {
    }

    @PostMapping
    @Operation(operationId = "registerWorker", summary = "Register a worker with its capabilities ({cpu:true, onnxruntime:{...}, cuda:true, "
            + "tensorrt:{version, trtexec}, gpu:{name, computeCapability, memoryMiB, driver, cuda}, tags:[...]})")
    public ResponseEntity<Map<String, Object>> register(@RequestBody Registration body) {
        if (body == null || body.name() == null || body.name().isBlank()) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("name", "is required")));
        }
        JsonNode caps = body.capabilities() == null ? JsonNodeFactory.instance.objectNode() : body.capabilities();
        if (!caps.isObject()) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("capabilities", "must be an object")));
        }
        Text.requireNoNul(caps, "capabilities");
        String name = Text.label(body.name());
        if (name == null) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("name", "is required (printable characters)")));
        }
        Caller caller = ProjectAccess.caller();
        // a worker key of the default project (or QF_API_TOKEN) registers a fleet worker; another project's key, that project's
        UUID project = caller.seesAllProjects() ? null : caller.projectId();
        UUID id;
        if (body.id() == null) {
            id = registry.register(name, caps, true, project);
        } else {
            id = body.id();
            if (!registry.registerAs(id, name, caps, true, project)) {
                throw ApiException.conflict("worker id " + id + " belongs to another project; register without an id or with your own");
            }
            // the worker process restarted: what it held before died with it
            reaper.requeueJobsOfRestartedWorker(id);
        }
        return ResponseEntity.status(HttpStatus.CREATED).body(Map.of("id", id, "name", name, "capabilities", caps,
                "capabilityTags", WorkerRegistry.tags(caps), "leaseSeconds", props.jobs().leaseSeconds(),
                "heartbeatSeconds", Math.max(1, props.jobs().leaseSeconds() / 4)));
    }

    @GetMapping
    @Operation(operationId = "listWorkers", summary = "Workers: name, capabilities, last heartbeat, current job, live")
    public List<WorkerRegistry.WorkerInfo> list() {
        return registry.list(registry.liveSeconds()).stream().filter(WorkerController::visible).toList();
    }

    public record LeaseRequest(Integer waitSeconds) {
    }

    @PostMapping("/{id}/lease")
    @Operation(operationId = "leaseJob", summary = "Lease the next job this worker can run; waits up to waitSeconds (≤ 60), 204 when none")
    public ResponseEntity<ObjectNode> lease(@PathVariable UUID id, @RequestBody(required = false) LeaseRequest body)
            throws InterruptedException {
        WorkerRegistry.WorkerInfo worker = worker(id);
        int wait = body == null || body.waitSeconds() == null ? 0 : body.waitSeconds();
        if (wait < 0 || wait > 60) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("waitSeconds", "must be between 0 and 60")));
        }
        long end = System.nanoTime() + wait * 1_000_000_000L;
        do {
            if (drain.draining()) {
                // this replica is shutting down: lease from another one (a job leased now might never reach the worker)
                throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "Service unavailable",
                        "this API replica is shutting down and hands out no more leases; lease from another replica", null);
            }
            registry.touch(id, null);
            Optional<JobRecord> claimed = jobs.claim(id.toString(), worker.capabilityTags(), props.jobs().leaseSeconds(), worker.projectId());
            if (claimed.isPresent()) {
                JobRecord job = claimed.get();
                List<String> deleted = jobs.deletedInputs(job);
                if (!deleted.isEmpty()) {
                    // a race with a delete: fail it as bad input instead of handing out inputs that are gone
                    String msg = "the job's input " + deleted.get(0) + " was deleted; upload it again and submit a new job";
                    jobs.fail(job.id(), id.toString(), "invalid_input", msg, false);
                    logs.append(job.id(), "ERROR", "failed: " + msg);
                    continue;
                }
                registry.touch(id, job.id());
                logs.append(job.id(), "INFO", "attempt " + job.attempts() + " of " + job.maxAttempts()
                        + " leased by remote worker " + worker.name() + " (" + id + ")");
                return ResponseEntity.ok(task(job));
            }
            if (wait > 0) {
                Thread.sleep(Math.min(250, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            }
        } while (System.nanoTime() < end);
        return ResponseEntity.noContent().build();
    }

    private ObjectNode task(JobRecord job) {
        String base = ServletUriComponentsBuilder.fromCurrentContextPath().toUriString();
        ObjectNode t = JsonNodeFactory.instance.objectNode();
        t.set("job", json.valueToTree(jobService.view(job)));
        t.put("leaseSeconds", props.jobs().leaseSeconds());
        t.put("heartbeatSeconds", Math.max(1, props.jobs().leaseSeconds() / 4));
        ModelEntity m = models.entity(job.modelId());
        ObjectNode model = t.putObject("model");
        model.put("id", m.getId().toString());
        model.put("name", m.getName());
        model.put("sha256", m.getSha256());
        model.put("sizeBytes", m.getSizeBytes());
        model.put("url", base + "/api/v1/models/" + m.getId() + "/content");
        model.set("inputs", json.valueToTree(models.tensorInputs(m)));
        ObjectNode ds = t.putObject("datasets");
        putDataset(ds, "calibration", job.calibrationDatasetId(), base);
        putDataset(ds, "evaluation", job.evaluationDatasetId(), base);
        putDataset(ds, "training", job.trainingDatasetId(), base);
        return t;
    }

    private void putDataset(ObjectNode out, String role, UUID id, String base) {
        if (id == null) {
            return;
        }
        DatasetEntity e = datasets.entity(id);
        ObjectNode d = out.putObject(role);
        d.put("id", e.getId().toString());
        d.put("name", e.getName());
        d.put("sha256", e.getSha256());
        d.put("sizeBytes", e.getSizeBytes());
        d.put("format", e.getFormat());
        d.put("preprocessing", e.getPreprocessing());
        d.put("sampleCount", e.getSampleCount());
        d.put("hasLabels", e.isHasLabels());
        d.set("tensors", json.valueToTree(datasets.tensors(e)));
        d.put("url", base + "/api/v1/datasets/" + e.getId() + "/content");
        if (e.getTokenizerSha256() != null) {
            // a text dataset is read with its tokenizer.json: a second download, cached by sha256 like the first
            d.put("text", e.getTextOptions());
            ObjectNode tokenizer = d.putObject("tokenizer");
            tokenizer.put("sha256", e.getTokenizerSha256());
            tokenizer.put("url", base + "/api/v1/datasets/" + e.getId() + "/tokenizer");
        }
    }

    public record Heartbeat(JobProgress progress, List<String> logs) {
    }

    public record JobProgress(Double fraction, String phase, String message) {
    }

    @PostMapping("/{id}/jobs/{jobId}/heartbeat")
    @Operation(operationId = "heartbeatJob", summary = "Renew the lease and report progress; the answer says whether cancel was requested",
            description = "leaseLost=true (with cancelRequested=true) means the job is no longer this worker's: stop and drop its result.")
    public Map<String, Object> heartbeat(@PathVariable UUID id, @PathVariable UUID jobId, @RequestBody(required = false) Heartbeat body) {
        worker(id);
        registry.touch(id, jobId);
        JobProgress p = body == null || body.progress() == null ? new JobProgress(null, null, null) : body.progress();
        if (p.fraction() != null && (p.fraction() < 0 || p.fraction() > 1)) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("progress.fraction", "must be between 0 and 1")));
        }
        Optional<Boolean> answer = jobs.heartbeat(jobId, id.toString(), props.jobs().leaseSeconds(), p.fraction(), p.phase(), p.message());
        if (answer.isPresent() && body != null && body.logs() != null) {
            body.logs().stream().limit(1000).forEach(line -> logs.append(jobId, "INFO", line));
        }
        return Map.of("cancelRequested", answer.orElse(true), "leaseLost", answer.isEmpty());
    }

    @PostMapping(path = "/{id}/jobs/{jobId}/complete", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    @Operation(operationId = "completeJob", summary = "Complete a job: multipart part 'result' = {result, reports:[...], artifacts:[{kind, name, part, resultField}]} "
            + "plus one file part per artifact")
    public ResponseEntity<Map<String, Object>> complete(@PathVariable UUID id, @PathVariable UUID jobId,
                                                        MultipartHttpServletRequest request) throws IOException {
        worker(id);
        JobRecord job = jobService.record(jobId);
        String resultText = request.getParameter("result");
        if (resultText == null) {
            MultipartFile part = request.getFile("result");
            resultText = part == null ? null : new String(part.getBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        if (resultText == null) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("result", "the multipart part 'result' (JSON) is required")));
        }
        JsonNode body = json.readTree(resultText);
        Text.requireNoNul(body, "result");
        if (!body.path("result").isObject()) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("result.result", "must be an object")));
        }
        Path dir = scratch.newDirectory("complete-");
        try {
            List<JobOutcome.ReportDraft> reports = new ArrayList<>();
            for (JsonNode r : body.path("reports")) {
                reports.add(new JobOutcome.ReportDraft(r.path("config"), r.path("metrics"), r.path("runtime"),
                        r.path("layers").isArray() ? r.path("layers") : JsonNodeFactory.instance.arrayNode(),
                        r.path("resultField").isString() ? r.path("resultField").stringValue() : null));
            }
            List<JobOutcome.ArtifactDraft> artifacts = new ArrayList<>();
            int i = 0;
            for (JsonNode a : body.path("artifacts")) {
                String partName = a.path("part").asString("");
                MultipartFile file = request.getFile(partName);
                if (file == null) {
                    throw ApiException.invalid(List.of(new ApiException.FieldError("artifacts[" + i + "].part",
                            "no file part named '" + partName + "' in the request")));
                }
                Path target = dir.resolve("artifact-" + i++);
                file.transferTo(target);
                artifacts.add(new JobOutcome.ArtifactDraft(a.path("kind").asString("profile"), a.path("name").asString(partName),
                        target, a.path("resultField").isString() ? a.path("resultField").stringValue() : null));
            }
            JobOutcome outcome = new JobOutcome((ObjectNode) body.path("result"), reports, artifacts);
            if (!results.complete(jobId, job.modelId(), id.toString(), outcome)) {
                throw ApiException.conflict("job " + jobId + " is not leased to worker " + id + " (lease expired or job finished); result dropped");
            }
            registry.touch(id, null);
            return ResponseEntity.ok(Map.of("state", JobState.SUCCEEDED.apiName()));
        } finally {
            AttemptRunner.deleteTree(dir);
            scratch.release(dir);
        }
    }

    @PostMapping("/{id}/jobs/{jobId}/reports")
    @Operation(operationId = "storeJobReport", summary = "Store a report while the job runs (a probe or a trial): {config, metrics, runtime, layers}")
    public Map<String, Object> report(@PathVariable UUID id, @PathVariable UUID jobId, @RequestBody JsonNode body) {
        worker(id);
        JobRecord job = jobService.record(jobId);
        if (!body.path("config").isObject() || !body.path("metrics").isObject()) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("config", "config and metrics objects are required")));
        }
        Text.requireNoNul(body, "");
        JobOutcome.ReportDraft draft = new JobOutcome.ReportDraft(body.path("config"), body.path("metrics"),
                body.path("runtime").isObject() ? body.path("runtime") : JsonNodeFactory.instance.objectNode(),
                body.path("layers").isArray() ? body.path("layers") : JsonNodeFactory.instance.arrayNode(), null);
        UUID reportId = results.saveReport(jobId, job.modelId(), id.toString(), draft)
                .orElseThrow(() -> ApiException.conflict("job " + jobId + " is not leased to worker " + id));
        return Map.of("id", reportId);
    }

    public record Failure(String code, String message, Boolean retryable) {
    }

    @PostMapping("/{id}/jobs/{jobId}/fail")
    @Operation(operationId = "failJob", summary = "Report that a job failed (retryable → requeued while attempts remain); code 'cancelled' acknowledges a cancel")
    public Map<String, Object> fail(@PathVariable UUID id, @PathVariable UUID jobId, @RequestBody Failure body) {
        worker(id);
        jobService.record(jobId);
        registry.touch(id, null);
        if ("cancelled".equals(body.code())) {
            if (!jobs.markCancelled(jobId, id.toString())) {
                throw ApiException.conflict("job " + jobId + " is not leased to worker " + id);
            }
            logs.append(jobId, "INFO", "cancelled");
            return Map.of("state", JobState.CANCELLED.apiName());
        }
        String code = body.code() == null ? "worker_error" : body.code();
        String message = body.message() == null ? "the worker reported a failure" : body.message();
        JobState state = jobs.fail(jobId, id.toString(), code, message, body.retryable() == null || body.retryable())
                .orElseThrow(() -> ApiException.conflict("job " + jobId + " is not leased to worker " + id));
        logs.append(jobId, "ERROR", "remote worker reported failure (" + code + "): " + message + " → " + state.apiName());
        return Map.of("state", state.apiName());
    }

    public record Release(String reason) {
    }

    @PostMapping("/{id}/jobs/{jobId}/release")
    @Operation(operationId = "releaseJob", summary = "Hand a running job back to the queue unfinished (the worker is shutting down): "
            + "queued again at once and the attempt is not counted; a cancel request wins")
    public Map<String, Object> release(@PathVariable UUID id, @PathVariable UUID jobId, @RequestBody(required = false) Release body) {
        worker(id);
        jobService.record(jobId);
        registry.touch(id, null);
        String reason = body == null || body.reason() == null || body.reason().isBlank() ? "the worker shut down" : Text.label(body.reason());
        JobState state = jobs.handBack(jobId, id.toString(), reason)
                .orElseThrow(() -> ApiException.conflict("job " + jobId + " is not leased to worker " + id));
        logs.append(jobId, "INFO", "remote worker " + id + " handed this attempt back (" + reason + ") → " + state.apiName()
                + " (the attempt is not counted)");
        return Map.of("state", state.apiName());
    }

    private WorkerRegistry.WorkerInfo worker(UUID id) {
        return registry.find(id, registry.liveSeconds()).filter(WorkerController::visible)
                .orElseThrow(() -> ApiException.notFound("worker", id));
    }

    /** A fleet worker is the service's (visible to callers that see every project); a project's worker to that project. */
    private static boolean visible(WorkerRegistry.WorkerInfo w) {
        UUID scope = ProjectAccess.scope();
        return scope == null || scope.equals(w.projectId());
    }
}
