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
import dev.quantforge.platform.Text;
import dev.quantforge.platform.access.ProjectAccess;
import dev.quantforge.platform.access.ProjectService;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.inspect.ModelSummary;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.ops.OpRegistry;
import dev.quantforge.report.ConfigHash;
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
    private final ProjectService projects;
    private final Map<String, JobTypeSpec> specs = new HashMap<>();

    public JobService(JobRepository jobs, JobLogRepository logs, ArtifactRepository artifacts, ReportRepository reports,
                      ModelService models, DatasetService datasets, ObjectMapper json, List<JobTypeSpec.Declared> types,
                      ProjectService projects) {
        this.projects = projects;
        this.jobs = jobs;
        this.logs = logs;
        this.artifacts = artifacts;
        this.reports = reports;
        this.models = models;
        this.datasets = datasets;
        this.json = json;
        types.forEach(t -> this.specs.put(t.spec().type(), t.spec()));
    }

    public record Submitted(JobView job, boolean created) {
    }

    /**
     * Validates and queues a job. With an {@code Idempotency-Key} seen before, returns the first
     * job (created=false) without queuing another.
     */
    public Submitted submit(JsonNode body, String idempotencyKey) {
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 200
                || idempotencyKey.chars().anyMatch(Character::isISOControl))) {
            throw ApiException.invalid(List.of(new FieldError("Idempotency-Key", "must be 1 to 200 printable characters, got "
                    + idempotencyKey.length() + " characters")));
        }
        String requestHash = ConfigHash.of(body);
        if (idempotencyKey != null) {
            Optional<JobRecord> seen = jobs.findByIdempotencyKey(idempotencyKey);
            if (seen.isPresent()) {
                return new Submitted(view(sameRequest(seen.get(), idempotencyKey, requestHash)), false);
            }
        }
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object: {\"type\":\"evaluate\",\"modelId\":\"...\",\"config\":{}}");
        }
        Text.requireNoNul(body, "");
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
        // a type that can take its model from another job's (compile_tensorrt's fromJobId) needs no modelId
        UUID modelId = uuid(body, "modelId", errors, spec == null || spec.modelFromJob() == null);
        Map<JobTypeSpec.DatasetRole, UUID> datasetIds = new HashMap<>();
        for (JobTypeSpec.DatasetRole role : JobTypeSpec.DatasetRole.values()) {
            boolean required = spec != null && spec.requiredDatasets().contains(role);
            UUID id = uuid(body, role.field(), errors, required);
            if (id != null) {
                if (spec != null && !spec.uses(role)) {
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
            if (errors.isEmpty() && effectiveConfig instanceof tools.jackson.databind.node.ObjectNode c) {
                spec.validateDatasets(c, datasetIds.keySet(), errors);
            }
        }
        if (errors.isEmpty() && modelId == null) {
            modelId = modelOfJob(spec, (tools.jackson.databind.node.ObjectNode) effectiveConfig, errors);
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        UUID project = ProjectAccess.current();
        ModelEntity model = models.live(modelId);
        if (!model.getProjectId().equals(project)) {
            // a caller that reads every project (the service token) still submits in its own project, on its own inputs
            throw ApiException.notFound("model", modelId);
        }
        if (spec.quantizes() && models.summary(model).quantizableNodes().isEmpty()) {
            String msg = "model " + model.getId() + " (" + model.getName() + ") has no quantizable nodes ("
                    + String.join(", ", OpRegistry.quantizableOpTypes()) + "); its op types are " + models.summary(model).opTypes().keySet() + ", so there is nothing to quantize";
            throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "Nothing to quantize", msg,
                    List.of(new FieldError("modelId", msg)));
        }
        List<FieldError> submissionErrors = new ArrayList<>();
        spec.validateSubmission((tools.jackson.databind.node.ObjectNode) effectiveConfig, submission(model, datasetIds), submissionErrors);
        if (!submissionErrors.isEmpty()) {
            boolean aboutModel = submissionErrors.stream().allMatch(f -> f.field().equals("modelId"));
            throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST,
                    aboutModel ? "Model not supported by this job type" : "Invalid job config",
                    submissionErrors.size() == 1 ? submissionErrors.get(0).field() + ": " + submissionErrors.get(0).message()
                            : submissionErrors.size() + " problems with the submission; see errors", submissionErrors);
        }
        for (Map.Entry<JobTypeSpec.DatasetRole, UUID> e : datasetIds.entrySet()) {
            DatasetEntity ds = datasets.live(e.getValue());
            if (!ds.getProjectId().equals(project)) {
                throw ApiException.notFound("dataset", e.getValue());
            }
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
        projects.checkJobSlot(project);
        UUID id = UUID.randomUUID();
        boolean inserted = jobs.insert(new JobRepository.NewJob(id, type, modelId,
                datasetIds.get(JobTypeSpec.DatasetRole.CALIBRATION), datasetIds.get(JobTypeSpec.DatasetRole.EVALUATION),
                datasetIds.get(JobTypeSpec.DatasetRole.TRAINING), json.writeValueAsString(effectiveConfig), priority,
                new ArrayList<>(new TreeSet<>(spec.requirements((tools.jackson.databind.node.ObjectNode) effectiveConfig))), maxAttempts,
                idempotencyKey, requestHash, project));
        if (!inserted) {
            // a concurrent request with the same key won the insert
            return new Submitted(view(sameRequest(jobs.findByIdempotencyKey(idempotencyKey).orElseThrow(), idempotencyKey, requestHash)),
                    false);
        }
        logs.append(id, "INFO", "job submitted: " + type + " on model " + model.getName());
        return new Submitted(get(id), true);
    }

    /** The model of the job the config names ({@link JobTypeSpec#modelFromJob}), for a submission without modelId. */
    private UUID modelOfJob(JobTypeSpec spec, tools.jackson.databind.node.ObjectNode config, List<FieldError> errors) {
        String key = spec.modelFromJob();
        String field = "config." + key;
        JsonNode from = config.path(key);
        if (!from.isString()) {
            errors.add(new FieldError("modelId", "is required, or give " + field + " (a job whose model to use)"));
            return null;
        }
        try {
            UUID id = UUID.fromString(from.stringValue());
            // another project's job is no job (no existence leak, not even its model id)
            Optional<JobRecord> job = jobs.find(id).filter(j -> j.projectId().equals(ProjectAccess.current()));
            if (job.isEmpty()) {
                errors.add(new FieldError(field, "there is no job " + id));
                return null;
            }
            return job.get().modelId();
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError(field, "must be a job id (UUID), got '" + from.stringValue() + "'"));
            return null;
        }
    }

    /** The submission's model, datasets and the jobs it may name, for {@link JobTypeSpec#validateSubmission}. */
    private JobTypeSpec.Submission submission(ModelEntity model, Map<JobTypeSpec.DatasetRole, UUID> datasetIds) {
        ModelSummary summary = models.summary(model);
        return new JobTypeSpec.Submission() {
            private List<ModelSummary.NodeRef> nodes;

            @Override
            public UUID modelId() {
                return model.getId();
            }

            @Override
            public ModelSummary model() {
                return summary;
            }

            @Override
            public List<ModelSummary.NodeRef> nodes() {
                if (nodes == null) {
                    nodes = models.nodes(model);
                }
                return nodes;
            }

            @Override
            public java.util.Optional<JobTypeSpec.DatasetFacts> dataset(JobTypeSpec.DatasetRole role) {
                return java.util.Optional.ofNullable(datasetIds.get(role)).map(datasets::live)
                        .map(d -> new JobTypeSpec.DatasetFacts(d.getId(), d.getName(), d.isHasLabels()));
            }

            @Override
            public java.util.Optional<JobTypeSpec.JobFacts> job(UUID id) {
                return jobs.find(id).filter(j -> j.projectId().equals(model.getProjectId())).map(j -> new JobTypeSpec.JobFacts(j.id(), j.type(), j.modelId(),
                        j.state().apiName(), j.resultJson() == null ? null : json.readTree(j.resultJson())));
            }
        };
    }

    /**
     * The job an Idempotency-Key was first used for, when this request is the same one again; a key
     * reused for a different body is refused (422) rather than answered with an unrelated job.
     */
    private static JobRecord sameRequest(JobRecord first, String idempotencyKey, String requestHash) {
        if (first.requestHash() != null && !first.requestHash().equals(requestHash)) {
            String msg = "Idempotency-Key '" + idempotencyKey + "' was already used for a different request (job " + first.id()
                    + "); send the same body to get that job again, or use a new key for a new job";
            throw ApiException.unprocessable("Idempotency-Key reused", msg, List.of(new FieldError("Idempotency-Key", msg)));
        }
        return first;
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
        if (t != null && !API_TYPES.contains(t)) {
            throw ApiException.invalid(List.of(new FieldError("type", "must be one of " + String.join(", ", new TreeSet<>(API_TYPES)))));
        }
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
        List<String> deleted = before.state() == JobState.FAILED || before.state() == JobState.CANCELLED
                ? jobs.deletedInputs(before) : List.of();
        if (!deleted.isEmpty()) {
            String field = deleted.get(0);
            UUID input = switch (field) {
                case "modelId" -> before.modelId();
                case "calibrationDatasetId" -> before.calibrationDatasetId();
                case "evaluationDatasetId" -> before.evaluationDatasetId();
                default -> before.trainingDatasetId();
            };
            String what = field.equals("modelId") ? "model" : field.replace("DatasetId", "") + " dataset";
            String msg = "job " + id + " cannot be retried: its " + what + " " + input + " was deleted; upload it again and "
                    + "submit a new job";
            throw new ApiException(org.springframework.http.HttpStatus.CONFLICT, "Input deleted", msg, List.of(new FieldError(field, msg)));
        }
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
                r.resultJson() == null ? null : json.readTree(r.resultJson()), arts, reports.idsForJob(r.id()), jobs.deletedInputs(r));
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
        if (!v.isNumber() || !v.canConvertToExactIntegral() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            errors.add(new FieldError(field, "must be an integer between " + min + " and " + max + ", got " + v));
            return dflt;
        }
        return v.asInt();
    }

}
