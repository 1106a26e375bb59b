package dev.quantforge.job;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import org.springframework.stereotype.Service;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import dev.quantforge.artifact.ArtifactRepository;
import dev.quantforge.dataset.DatasetEntity;
import dev.quantforge.dataset.DatasetService;
import dev.quantforge.model.ModelEntity;
import dev.quantforge.model.ModelService;
import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.ApiException.FieldError;
import dev.quantforge.platform.Page;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.report.ReportRepository;

/** Submission (validated, idempotent), listing, cancel and retry of jobs. */
@Service
public class JobService {

    /** Every type of the API; those without a {@link JobTypeSpec} are not built yet. */
    public static final Set<String> API_TYPES = Set.of("evaluate", "benchmark", "ptq", "sensitivity", "auto_quantize", "qat", "compile_tensorrt");

    private final JobRepository jobs;
    private final JobLogRepository logs;
    private final ArtifactRepository artifacts;
    private final ReportRepository reports;
    private final ModelService models;
    private final DatasetService datasets;
    private final ObjectMapper json;
    private final Map<String, JobTypeSpec> specs = new HashMap<>();

    public JobService(JobRepository jobs, JobLogRepository logs, ArtifactRepository artifacts, ReportRepository reports,
                      ModelService models, DatasetService datasets, ObjectMapper json, List<JobTypeSpec> specs) {
        this.jobs = jobs;
        this.logs = logs;
        this.artifacts = artifacts;
        this.reports = reports;
        this.models = models;
        this.datasets = datasets;
        this.json = json;
        specs.forEach(s -> this.specs.put(s.type(), s));
    }

    public record Submitted(JobView job, boolean created) {
    }

    /**
     * Validates and queues a job. With an {@code Idempotency-Key} seen before, returns the first
     * job (created=false) without queuing another.
     */
    public Submitted submit(JsonNode body, String idempotencyKey) {
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 200)) {
            throw ApiException.invalid(List.of(new FieldError("Idempotency-Key", "must be 1 to 200 characters")));
        }
        if (idempotencyKey != null) {
            Optional<JobRecord> seen = jobs.findByIdempotencyKey(idempotencyKey);
            if (seen.isPresent()) {
                return new Submitted(view(seen.get()), false);
            }
        }
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object: {\"type\":\"evaluate\",\"modelId\":\"...\",\"config\":{}}");
        }
        List<FieldError> errors = new ArrayList<>();
        Set<String> known = Set.of("type", "modelId", "calibrationDatasetId", "evaluationDatasetId", "trainingDatasetId",
                "config", "priority", "maxAttempts");
        for (String key : body.propertyNames()) {
            if (!known.contains(key)) {
                errors.add(new FieldError(key, "unknown field; known fields: " + String.join(", ", new TreeSet<>(known))));
            }
        }
        String type = text(body, "type", errors, true);
        JobTypeSpec spec = null;
        if (type != null) {
            spec = specs.get(type);
            if (spec == null && API_TYPES.contains(type)) {
                throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "Job type not available",
                        "job type '" + type + "' is not available in this version of the service; available types: "
                                + String.join(", ", new TreeSet<>(specs.keySet())),
                        List.of(new FieldError("type", "not available yet")));
            }
            if (spec == null) {
                errors.add(new FieldError("type", "unknown job type '" + type + "'; available types: " + String.join(", ", new TreeSet<>(specs.keySet()))));
            }
        }
        UUID modelId = uuid(body, "modelId", errors, true);
        Map<JobTypeSpec.DatasetRole, UUID> datasetIds = new HashMap<>();
        for (JobTypeSpec.DatasetRole role : JobTypeSpec.DatasetRole.values()) {
            boolean required = spec != null && spec.requiredDatasets().contains(role);
            UUID id = uuid(body, role.field(), errors, required);
            if (id != null) {
                if (spec != null && !spec.requiredDatasets().contains(role) && !spec.optionalDatasets().contains(role)) {
                    errors.add(new FieldError(role.field(), "a " + type + " job does not use a " + role.name().toLowerCase() + " dataset"));
                } else {
                    datasetIds.put(role, id);
                }
            }
        }
        int priority = intField(body, "priority", 0, -1000, 1000, errors);
        int maxAttempts = intField(body, "maxAttempts", 3, 1, 20, errors);
        JsonNode effectiveConfig = null;
        if (spec != null) {
            effectiveConfig = spec.validateConfig(body.get("config"), errors);
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        ModelEntity model = models.find(modelId).orElseThrow(() -> ApiException.notFound("model", modelId));
        if (spec.needsQuantizableNodes() && models.summary(model).quantizableNodes().isEmpty()) {
            String msg = "model " + model.getId() + " (" + model.getName() + ") has no quantizable nodes (Conv, ConvTranspose, Gemm, "
                    + "MatMul); its op types are " + models.summary(model).opTypes().keySet() + ", so there is nothing to quantize";
            throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "Nothing to quantize", msg,
                    List.of(new FieldError("modelId", msg)));
        }
        List<FieldError> modelErrors = new ArrayList<>();
        spec.validateModel(models.summary(model), modelErrors);
        if (!modelErrors.isEmpty()) {
            throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "Model not supported by this job type",
                    modelErrors.get(0).message(), modelErrors);
        }
        for (Map.Entry<JobTypeSpec.DatasetRole, UUID> e : datasetIds.entrySet()) {
            DatasetEntity ds = datasets.find(e.getValue()).orElseThrow(() -> ApiException.notFound("dataset", e.getValue()));
            if (spec.labelledDatasets().contains(e.getKey()) && !ds.isHasLabels()) {
                String msg = "dataset " + ds.getId() + " (" + ds.getName() + ") has no labels, and a " + type
                        + " job needs them: add an integer array 'labels' to the npz, or upload images in class sub-folders";
                throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "Dataset has no labels", msg,
                        List.of(new FieldError(e.getKey().field(), msg)));
            }
            try {
                InputBinding.bind(models.tensorInputs(model), datasets.tensors(ds));
            } catch (InvalidInputException mismatch) {
                throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "Dataset does not fit the model",
                        e.getKey().field() + " " + ds.getId() + " (" + ds.getName() + ") cannot feed model " + model.getId()
                                + " (" + model.getName() + "): " + mismatch.getMessage(),
                        List.of(new FieldError(e.getKey().field(), mismatch.getMessage())));
            }
        }
        UUID id = UUID.randomUUID();
        boolean inserted = jobs.insert(new JobRepository.NewJob(id, type, modelId,
                datasetIds.get(JobTypeSpec.DatasetRole.CALIBRATION), datasetIds.get(JobTypeSpec.DatasetRole.EVALUATION),
                datasetIds.get(JobTypeSpec.DatasetRole.TRAINING), json.writeValueAsString(effectiveConfig), priority,
                new ArrayList<>(new TreeSet<>(spec.requirements())), maxAttempts, idempotencyKey));
        if (!inserted) {
            // a concurrent request with the same key won the insert
            return new Submitted(view(jobs.findByIdempotencyKey(idempotencyKey).orElseThrow()), false);
        }
        logs.append(id, "INFO", "job submitted: " + type + " on model " + model.getName());
        return new Submitted(get(id), true);
    }

    public JobView get(UUID id) {
        return view(record(id));
    }

    public JobRecord record(UUID id) {
        return jobs.find(id).orElseThrow(() -> ApiException.notFound("job", id));
    }

    public Page<JobView> list(String state, String type, UUID modelId, int page, int size) {
        JobState s = null;
        if (state != null && !state.isBlank()) {
            try {
                s = JobState.fromApiName(state);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid(List.of(new FieldError("state", "must be one of queued, running, succeeded, failed, cancelled")));
            }
        }
        String t = type == null || type.isBlank() ? null : type;
        return new Page<>(jobs.list(s, t, modelId, page, size).stream().map(this::view).toList(), page, size, jobs.count(s, t, modelId));
    }

    public JobView cancel(UUID id) {
        JobRecord before = record(id);
        if (before.state().isTerminal()) {
            throw ApiException.conflict("job " + id + " is already " + before.state().apiName() + " and cannot be cancelled");
        }
        jobs.requestCancel(id);
        logs.append(id, "INFO", "cancel requested");
        return get(id);
    }

    public JobView retry(UUID id) {
        JobRecord before = record(id);
        if (!jobs.retry(id)) {
            throw ApiException.conflict("job " + id + " is " + before.state().apiName() + "; only failed or cancelled jobs can be retried");
        }
        logs.append(id, "INFO", "retry requested");
        return get(id);
    }

    public List<JobLogRepository.LogLine> logs(UUID id, long after, int limit) {
        record(id);
        return logs.after(id, after, limit);
    }

    public JobView view(JobRecord r) {
        List<JobView.ArtifactRef> arts = artifacts.forJob(r.id()).stream()
                .map(a -> new JobView.ArtifactRef(a.id(), a.kind(), a.name(), a.sha256(), a.sizeBytes())).toList();
        return new JobView(r.id(), r.type(), r.state().apiName(), r.modelId(), r.calibrationDatasetId(), r.evaluationDatasetId(),
                r.trainingDatasetId(), r.configJson() == null ? null : json.readTree(r.configJson()), r.priority(),
                new JobView.Progress(r.progressFraction(), r.progressPhase(), r.progressMessage()), r.attempts(), r.maxAttempts(),
                r.workerId(), r.requirements(), r.cancelRequested(), r.createdAt(), r.startedAt(), r.finishedAt(),
                r.errorCode() == null && r.errorMessage() == null ? null : new JobView.Error(r.errorCode(), r.errorMessage()),
                r.resultJson() == null ? null : json.readTree(r.resultJson()), arts, reports.idsForJob(r.id()));
    }

    // --- body field helpers: each problem becomes a field error ---

    private static String text(JsonNode body, String field, List<FieldError> errors, boolean required) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                errors.add(new FieldError(field, "is required"));
            }
            return null;
        }
        if (!v.isString()) {
            errors.add(new FieldError(field, "must be a string"));
            return null;
        }
        return v.stringValue();
    }

    private static UUID uuid(JsonNode body, String field, List<FieldError> errors, boolean required) {
        String s = text(body, field, errors, required);
        if (s == null) {
            return null;
        }
        try {
            return UUID.fromString(s);
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError(field, "must be a UUID, got '" + s + "'"));
            return null;
        }
    }

    private static int intField(JsonNode body, String field, int dflt, int min, int max, List<FieldError> errors) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || !v.canConvertToExactIntegral() || v.asLong() < min || v.asLong() > max) {
            errors.add(new FieldError(field, "must be an integer between " + min + " and " + max + ", got " + v));
            return dflt;
        }
        return v.asInt();
    }

}
