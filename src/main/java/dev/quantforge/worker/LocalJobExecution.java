package dev.quantforge.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import dev.quantforge.dataset.DatasetEntity;
import dev.quantforge.dataset.DatasetService;
import dev.quantforge.job.JobLogRepository;
import dev.quantforge.job.JobRecord;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.model.ModelEntity;
import dev.quantforge.model.ModelService;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.storage.BlobStore;

/** A job run in this process: inputs are read straight from the blob store. */
final class LocalJobExecution implements JobExecution {

    private final JobRecord job;
    private final JsonNode config;
    private final ModelEntity model;
    private final ModelService models;
    private final DatasetService datasets;
    private final BlobStore blobs;
    private final JobLogRepository logs;
    private final LiveProgress progress;
    private final Path workDir;
    private final dev.quantforge.artifact.ArtifactRepository artifacts;
    private final JobResults results;
    private final dev.quantforge.report.ReportRepository reports;
    private final ObjectMapper json;
    private final String workerId;
    private final Path cacheDir;
    private final JsonNode workerCapabilities;

    LocalJobExecution(JobRecord job, ObjectMapper json, ModelService models, DatasetService datasets, BlobStore blobs,
                      dev.quantforge.artifact.ArtifactRepository artifacts, JobResults results,
                      dev.quantforge.report.ReportRepository reports, String workerId, JobLogRepository logs,
                      LiveProgress progress, Path workDir, Path cacheDir, JsonNode workerCapabilities) {
        this.cacheDir = cacheDir;
        this.workerCapabilities = workerCapabilities;
        this.artifacts = artifacts;
        this.results = results;
        this.reports = reports;
        this.json = json;
        this.workerId = workerId;
        this.job = job;
        this.config = json.readTree(job.configJson());
        this.models = models;
        this.model = models.entity(job.modelId());
        if (model.isDeleted()) {
            throw new InvalidInputException("model " + model.getId() + " (" + model.getName() + ") was deleted; upload it again and submit a new job");
        }
        this.datasets = datasets;
        this.blobs = blobs;
        this.logs = logs;
        this.progress = progress;
        this.workDir = workDir;
    }

    @Override
    public UUID jobId() {
        return job.id();
    }

    @Override
    public String type() {
        return job.type();
    }

    @Override
    public JsonNode config() {
        return config;
    }

    @Override
    public int attempt() {
        return job.attempts();
    }

    @Override
    public UUID modelId() {
        return job.modelId();
    }

    @Override
    public Path modelFile() {
        try {
            return blobs.localFile(model.getSha256());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public List<TensorInfo> modelInputs() {
        return models.tensorInputs(model);
    }

    @Override
    public Optional<DatasetInput> dataset(DatasetRole role) {
        UUID id = switch (role) {
            case CALIBRATION -> job.calibrationDatasetId();
            case EVALUATION -> job.evaluationDatasetId();
            case TRAINING -> job.trainingDatasetId();
        };
        if (id == null) {
            return Optional.empty();
        }
        DatasetEntity e = datasets.entity(id);
        if (e.isDeleted()) {
            // a race with the delete (the guard refuses deletes while a job is queued or running)
            throw new InvalidInputException(role.name().toLowerCase() + " dataset " + id + " (" + e.getName() + ") was deleted; "
                    + "upload it again and submit a new job");
        }
        List<TensorInfo> tensors = datasets.tensors(e);
        return Optional.of(new DatasetInput() {
            @Override
            public UUID id() {
                return e.getId();
            }

            @Override
            public String name() {
                return e.getName();
            }

            @Override
            public List<TensorInfo> tensors() {
                return tensors;
            }

            @Override
            public SampleSource open() throws IOException {
                return datasets.open(e);
            }
        });
    }

    @Override
    public Progress progress() {
        return progress;
    }

    @Override
    public void log(String message) {
        logs.append(job.id(), "INFO", message);
    }

    @Override
    public UUID saveReport(JobOutcome.ReportDraft report) {
        return results.saveReport(job.id(), job.modelId(), workerId, report)
                .orElseThrow(() -> new dev.quantforge.quant.progress.CancelledException(LiveProgress.LEASE_LOST));
    }

    @Override
    public List<JsonNode> savedReports() {
        return reports.forJob(job.id()).stream().map(r -> (JsonNode) json.valueToTree(r)).toList();
    }

    @Override
    public Optional<Path> artifactOf(UUID otherJobId, String kind) {
        return artifacts.forJob(otherJobId).stream().filter(a -> a.kind().equals(kind)).findFirst()
                .map(a -> {
                    try {
                        return blobs.localFile(a.sha256());
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
    }

    @Override
    public JsonNode workerCapabilities() {
        return workerCapabilities;
    }

    @Override
    public Path cacheDir() {
        return cacheDir;
    }

    @Override
    public Path workDir() {
        return workDir;
    }
}
