package dev.quantforge.worker.tasks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.quantforge.compile.CompileOutcome;
import dev.quantforge.compile.CompileRequest;
import dev.quantforge.compile.EngineAccuracy;
import dev.quantforge.compile.EngineEvaluationRequest;
import dev.quantforge.compile.EngineLayer;
import dev.quantforge.compile.EngineReportException;
import dev.quantforge.compile.GpuInfo;
import dev.quantforge.compile.LatencyStats;
import dev.quantforge.compile.NotInt8AsPlanned;
import dev.quantforge.compile.PerformanceSummary;
import dev.quantforge.compile.TensorRtCompiler;
import dev.quantforge.compile.TimingCaches;
import dev.quantforge.compile.TrtexecFailedException;
import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.platform.ApiJson;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobFailedException;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;
import dev.quantforge.worker.TensorRtRouting;

/**
 * {@code compile_tensorrt}: the compile engine's {@link TensorRtCompiler} on the trtexec this worker advertised. The
 * job's model (or its {@code fromJobId}'s quantized model) is built into an engine; trtexec's output goes line by
 * line into the job log; cancel and the build timeout kill trtexec; a failed build fails the job with what to change.
 * Stored: the engine (its name says the GPU and TensorRT version), the timing cache, the layer-info and profile JSON,
 * the build log, and a report of the engine's layers (mapped to ONNX nodes), latency and, when evaluated, accuracy.
 */
@Component
public class CompileTensorRtHandler implements JobHandler {

    static final JobTypeSpec SPEC = JobTypeSpec.of("compile_tensorrt", CompileTensorRtConfig.schema())
            .requires(TensorRtRouting.TENSORRT).accepts(DatasetRole.EVALUATION).modelFromJob("fromJobId")
            .checkConfig(CompileTensorRtConfig::check).checkDatasets(CompileTensorRtConfig::checkDatasets)
            .checkSubmission(CompileTensorRtConfig::checkSubmission).requiresPerConfig(CompileTensorRtConfig::requirements).build();

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    /** docs/API.md "compile_tensorrt" result. */
    record CompileResult(String engineName, String precision, String fromJobId, TensorRt tensorrt, Gpu gpu, Results.LatencyMs latencyMs,
                         Results.LatencyMs gpuComputeMs, Double throughputPerSecond, double buildSeconds, List<Layer> layers,
                         int plannedInt8Nodes, List<NotInt8AsPlanned> notInt8AsPlanned, Double engineTop1, Double qdqTop1,
                         Accuracy accuracy, List<String> warnings) {
    }

    record TensorRt(String version) {
    }

    record Gpu(String name, String computeCapability, Long memoryMiB, String driver, String cuda) {
        static Gpu of(GpuInfo g) {
            return g == null ? null : new Gpu(g.name(), g.computeCapability(), g.memoryMiB() > 0 ? g.memoryMiB() : null, g.driverVersion(),
                    g.cudaVersion());
        }
    }

    /**
     * A fused TensorRT layer and the ONNX nodes it runs.
     *
     * @param notInt8AsPlanned the layer's nodes the QDQ plan meant to run in INT8 that it does not (absent when none)
     */
    record Layer(String name, String layerType, List<String> onnxNodes, String precision, String outputPrecision,
                 String weightsPrecision, String tactic, Double timeMs, Double percentage, List<String> notInt8AsPlanned) {
        static Layer of(EngineLayer l, List<NotInt8AsPlanned> deviations) {
            List<String> here = deviations.stream().filter(d -> l.name().equals(d.layer())).map(NotInt8AsPlanned::node).toList();
            return new Layer(l.name(), l.layerType(), l.onnxNodes(), l.precision().apiName(), l.outputPrecision().apiName(),
                    l.weightsPrecision() == null ? null : l.weightsPrecision().apiName(), l.tactic(), l.timeMs(), l.percentage(),
                    here.isEmpty() ? null : here);
        }
    }

    /** The engine run over the evaluation set against the QDQ model in ONNX Runtime on the same samples. */
    record Accuracy(long samples, Double engineTop1, Double qdqTop1, double agreement, double sqnrDb, double cosine, int trtexecRuns,
                    int batchSize, String measuredWith) {
        static Accuracy of(EngineAccuracy a) {
            return a == null ? null : new Accuracy(a.samples(), a.engineTop1(), a.qdqTop1(), a.agreement(), a.sqnrDb(), a.cosine(),
                    a.trtexecRuns(), a.batchSize(), "trtexec --loadEngine (engine) vs onnxruntime cpu (qdq model)");
        }
    }

    /** The report's config: what the engine was built from and how (its hash differs per engine build setting). */
    record EngineConfiguration(String runtime, String precision, String tensorrtVersion, String gpu, String computeCapability,
                               Map<String, CompileTensorRtConfig.Shape> shapes, Integer workspaceMiB, int builderOptimizationLevel,
                               String fromJobId) {
    }

    /** Report metrics, by the report's metric names (docs/API.md "Report"). */
    record EngineMetrics(Double top1, Double agreement, Double sqnrDb, Double cosine, Long samples, Double latencyP50Ms,
                         Double latencyP90Ms, Double latencyP99Ms, Double latencyMeanMs, Double throughputPerSecond,
                         Long modelSizeBytes, Double top1Qdq, Integer notInt8AsPlanned) {
    }

    /** The report's runtime: TensorRT, GPU, driver and CUDA. */
    record EngineRuntime(String engine, String engineVersion, String executionProvider, String gpu, String computeCapability,
                         String driver, String cuda, String host) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        CompileTensorRtConfig cfg = exec.config(CompileTensorRtConfig.class);
        TensorRtCompiler compiler = TensorRtRouting.compiler(exec.workerCapabilities()).orElseThrow(() -> new JobFailedException(
                "tensorrt_unavailable", "this worker advertises no TensorRT (no trtexec found at its start); the job goes back to "
                + "the queue for a worker with the tensorrt capability", true, null));
        Path model = model(exec, cfg);
        GpuInfo gpu = compiler.gpus().isEmpty() ? null : compiler.gpus().get(0);
        Path timingCache = null;
        if (cfg.timingCache()) {
            // one cache per GPU model and TensorRT version, kept in the worker's cache across jobs
            timingCache = TimingCaches.fileFor(exec.cacheDir(), gpu == null ? new GpuInfo("unknown-gpu", "0.0", 0, null, null) : gpu,
                    compiler.tensorrt().version());
        }
        JobExecution.DatasetInput evalSet = Boolean.TRUE.equals(cfg.evaluate()) ? exec.dataset(DatasetRole.EVALUATION).orElse(null) : null;
        EngineEvaluationRequest evaluation = evalSet == null ? null : new EngineEvaluationRequest(evalSet.open(),
                InputBinding.bind(exec.modelInputs(), evalSet.tensors()), cfg.evaluation().maxSamples(), cfg.evaluation().batchSize(),
                java.time.Duration.ofSeconds(cfg.evaluation().timeoutPerRunSeconds()));
        CompileRequest request = new CompileRequest(model, exec.workDir().resolve("engine"), cfg.precision(), cfg.shapeRanges(),
                cfg.workspaceMiB(), cfg.builderOptimizationLevel(), timingCache, cfg.trtexecBenchmark(), evaluation, cfg.buildTimeout());
        exec.log("compile_tensorrt: TensorRT " + compiler.tensorrt().version() + " on " + (gpu == null ? "an unlisted GPU" : gpu.name())
                + ", precision " + cfg.precision().apiName() + ", builder optimization level " + cfg.builderOptimizationLevel()
                + (timingCache == null ? ", no timing cache" : ", timing cache " + timingCache.getFileName())
                + (evalSet == null ? "" : ", evaluated on " + evalSet.name()));
        CompileOutcome o;
        try {
            o = compiler.compile(request, exec::log, exec.progress());
        } catch (IllegalArgumentException refused) {
            // what this TensorRT cannot build (weak typing on TensorRT 11, shapes): the same input fails again
            throw new InvalidInputException(refused.getMessage());
        } catch (TrtexecFailedException failed) {
            throw new JobFailedException(failed.kind() == TrtexecFailedException.Kind.TIMEOUT ? "tensorrt_timeout" : "tensorrt_build_failed",
                    failed.getMessage(), failed.kind() == TrtexecFailedException.Kind.OUT_OF_GPU_MEMORY
                    || failed.kind() == TrtexecFailedException.Kind.NO_GPU, failed);
        } catch (EngineReportException unreadable) {
            throw new JobFailedException("tensorrt_report_unreadable", unreadable.getMessage(), false, unreadable);
        }
        o.warnings().forEach(w -> exec.log("warning: " + w));
        return outcome(exec, cfg, o);
    }

    /** The model to compile: the fromJobId's quantized model, else the job's model; named so the engine's name reads well. */
    private static Path model(JobExecution exec, CompileTensorRtConfig cfg) throws IOException {
        Path source = exec.modelFile();
        String name = "model.onnx";
        if (cfg.fromJobId() != null) {
            UUID from = UUID.fromString(cfg.fromJobId());
            source = exec.artifactOf(from, CompileTensorRtConfig.QUANTIZED_MODEL).orElseThrow(() -> new InvalidInputException(
                    "config.fromJobId: job " + from + " has no quantized_model artifact (was it deleted?)"));
            name = "model.qdq.onnx";
        }
        Path link = Files.createDirectories(exec.workDir().resolve("input")).resolve(name);
        try {
            Files.createSymbolicLink(link, source.toAbsolutePath());
        } catch (IOException | UnsupportedOperationException noLinks) {
            Files.copy(source, link);
        }
        return link;
    }

    private static JobOutcome outcome(JobExecution exec, CompileTensorRtConfig cfg, CompileOutcome o) throws IOException {
        PerformanceSummary perf = o.performance();
        LatencyStats latency = perf == null ? null : perf.latency();
        LatencyStats compute = perf == null ? null : perf.gpuCompute();
        EngineAccuracy acc = o.accuracy();
        Gpu gpu = Gpu.of(o.gpu());
        String version = o.tensorrt().version().toString();
        CompileResult result = new CompileResult(o.engineName(), cfg.precision().apiName(), cfg.fromJobId(), new TensorRt(version), gpu,
                latencyMs(latency), latencyMs(compute), perf == null ? null : perf.throughputQps(), o.buildTime().toMillis() / 1000.0,
                o.layers().stream().map(l -> Layer.of(l, o.notInt8AsPlanned())).toList(), o.plannedInt8Nodes().size(), o.notInt8AsPlanned(),
                acc == null ? null : acc.engineTop1(), acc == null ? null : acc.qdqTop1(), Accuracy.of(acc), o.warnings());
        EngineConfiguration config = new EngineConfiguration("tensorrt", cfg.precision().apiName(), version, gpu == null ? null : gpu.name(),
                gpu == null ? null : gpu.computeCapability(), cfg.shapes(), cfg.workspaceMiB(), cfg.builderOptimizationLevel(), cfg.fromJobId());
        EngineMetrics metrics = new EngineMetrics(acc == null ? null : acc.engineTop1(), acc == null ? null : acc.agreement(),
                acc == null ? null : acc.sqnrDb(), acc == null ? null : acc.cosine(), acc == null ? null : acc.samples(),
                latency == null ? null : latency.p50Ms(), latency == null ? null : latency.p90Ms(), latency == null ? null : latency.p99Ms(),
                latency == null ? null : latency.meanMs(), perf == null ? null : perf.throughputQps(), Files.size(o.engineFile()),
                acc == null ? null : acc.qdqTop1(), o.notInt8AsPlanned().size());
        EngineRuntime runtime = new EngineRuntime("tensorrt", version, "trtexec", gpu == null ? null : gpu.name(),
                gpu == null ? null : gpu.computeCapability(), gpu == null ? null : gpu.driver(), gpu == null ? null : gpu.cuda(),
                exec.workerCapabilities().path("host").asString(null));
        JobOutcome.ReportDraft report = new JobOutcome.ReportDraft(ApiJson.node(config), ApiJson.node(metrics), ApiJson.node(runtime),
                ApiJson.node(result.layers()), "reportId");
        List<JobOutcome.ArtifactDraft> artifacts = new ArrayList<>();
        artifacts.add(new JobOutcome.ArtifactDraft("engine", o.engineName(), o.engineFile(), "engineArtifactId"));
        if (o.timingCacheFile() != null) {
            artifacts.add(new JobOutcome.ArtifactDraft("timing_cache", o.engineName().replaceFirst("\\.engine$", "") + ".timing.cache",
                    o.timingCacheFile(), "timingCacheArtifactId"));
        }
        artifacts.add(new JobOutcome.ArtifactDraft("profile", "layer-info.json", o.layerInfoFile(), "layerInfoArtifactId"));
        artifacts.add(new JobOutcome.ArtifactDraft("profile", "profile.json", o.profileFile(), "profileArtifactId"));
        artifacts.add(new JobOutcome.ArtifactDraft("log", "trtexec-build.log", o.buildLogFile(), "buildLogArtifactId"));
        exec.log(String.format("engine %s: %d layers, %d of %d planned INT8 nodes not INT8 in the engine%s", o.engineName(), o.layers().size(),
                o.notInt8AsPlanned().size(), o.plannedInt8Nodes().size(), latency == null ? "" : String.format(", p50 %.4f ms", latency.p50Ms())));
        return JobOutcome.of(result, List.of(report), artifacts);
    }

    private static Results.LatencyMs latencyMs(LatencyStats s) {
        return s == null ? null : new Results.LatencyMs(s.p50Ms(), s.p90Ms(), s.p99Ms(), s.meanMs());
    }
}
