package dev.quantforge.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.progress.Progress;

/** What a running job sees: its config, its inputs as local files, and where to report progress. */
public interface JobExecution {

    UUID jobId();

    String type();

    /** The effective config (defaults filled in at submission). */
    JsonNode config();

    /** The effective config bound into a typed record (see {@link dev.quantforge.platform.ApiJson#bind}). */
    default <T> T config(Class<T> type) {
        return dev.quantforge.platform.ApiJson.bind(config(), type);
    }

    int attempt();

    UUID modelId();

    Path modelFile();

    List<TensorInfo> modelInputs();

    Optional<DatasetInput> dataset(DatasetRole role);

    /** Progress points are also cancellation points: {@code update} throws CancelledException. */
    Progress progress();

    void log(String message);

    /**
     * A file another job of the same model produced (e.g. its {@code histograms}), as a local file;
     * empty when that job has no artifact of this kind.
     */
    Optional<Path> artifactOf(UUID jobId, String kind) throws IOException;

    /**
     * Stores a report now, while the job runs; a stored report survives a crash or a cancel.
     * Throws CancelledException when this worker no longer holds the job.
     */
    UUID saveReport(JobOutcome.ReportDraft report) throws IOException;

    /** The reports this job stored so far (by earlier attempts too): {id, configHash, config, metrics, layers}. */
    List<JsonNode> savedReports() throws IOException;

    /** A directory kept across attempts and jobs (engine caches, training checkpoints). */
    Path cacheDir();

    /** A scratch directory for this attempt (deleted after the job). */
    Path workDir();

    /**
     * What the worker running the job advertised when it registered (docs/API.md "Workers"): e.g. the trtexec and
     * GPU a {@code compile_tensorrt} job runs on, exactly those the queue matched the job's requirements against.
     */
    default JsonNode workerCapabilities() {
        return tools.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    }

    /** A dataset the job reads, opened on demand (streaming). */
    interface DatasetInput {
        UUID id();

        String name();

        List<TensorInfo> tensors();

        SampleSource open() throws IOException;
    }
}
