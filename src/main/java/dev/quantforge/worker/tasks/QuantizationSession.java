package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import tools.jackson.databind.JsonNode;

import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.calib.HistogramSet;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.onnx.PrepareOptions;
import dev.quantforge.quant.onnx.PreparedModel;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqModel;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqPlanner;
import dev.quantforge.quant.qdq.QdqPreparation;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.worker.JobExecution;

/**
 * The shared part of jobs that try many layer configurations (sensitivity, auto_quantize): the
 * model is prepared and calibrated ONCE, then any configuration — "these nodes stay float" — is
 * built from the same ranges and measured against the FP32 model on the same data.
 */
final class QuantizationSession implements AutoCloseable {

    final JobExecution exec;
    final JsonNode cfg;
    final PreparedModel prepared;
    final OnnxMl.ModelProto fp32;
    final Path fp32File;
    final QuantizationSettings settings;
    final QdqPlan fullPlan;
    final HistogramSet histograms;
    final Map<String, CalibrationResult> ranges;
    final JobExecution.DatasetInput compareOn;
    final Map<String, String> compareBinding;
    final OrtModel reference;
    private int built;

    /** A measured configuration. */
    record Trial(Set<String> floatNodes, QdqPlan plan, QdqModel qdq, Path file, ModelComparison.Result comparison) {
    }

    QuantizationSession(JobExecution exec, Progress calibrationProgress) throws Exception {
        this(exec, exec.config(), calibrationProgress);
    }

    /** With an effective config that differs from the job's (e.g. qat's top-level fromJobId moved under calibration). */
    QuantizationSession(JobExecution exec, JsonNode cfg, Progress calibrationProgress) throws Exception {
        this.exec = exec;
        this.cfg = cfg;
        exec.progress().update(0, "prepare", "preparing the FP32 graph");
        OnnxMl.ModelProto original = Graphs.parse(exec.modelFile());
        prepared = new GraphPreparer().prepare(original, new PrepareOptions(cfg.path("foldBatchNorm").asBoolean(true)));
        fp32 = QdqPreparation.apply(prepared.model());
        prepared.steps().forEach(step -> exec.log("prepare: " + step));
        fp32File = exec.workDir().resolve("model.fp32.onnx");
        Files.write(fp32File, fp32.toByteArray());
        settings = PtqHandler.settings(cfg);
        fullPlan = QdqPlanner.plan(fp32, settings);
        if (fullPlan.quantizedNodes().isEmpty()) {
            throw new InvalidInputException("nothing to quantize: every quantizable node is excluded by the config");
        }
        // qat: without a calibration set, the training set calibrates
        JobExecution.DatasetInput calib = exec.dataset(dev.quantforge.job.JobTypeSpec.DatasetRole.CALIBRATION)
                .or(() -> exec.dataset(dev.quantforge.job.JobTypeSpec.DatasetRole.TRAINING)).orElseThrow();
        Map<String, String> binding = InputBinding.bind(exec.modelInputs(), calib.tensors());
        histograms = PtqHandler.histograms(exec, fp32, fullPlan, calib, binding, cfg.path("calibration"),
                cfg.path("activations").path("bins").asInt(2048), calibrationProgress);
        CalibrationMethod method = CalibrationMethod.fromApiName(cfg.path("activations").path("calibrator").asString("entropy"));
        ranges = PtqHandler.ranges(fullPlan, histograms, method, PtqHandler.overrides(cfg), PtqHandler.params(cfg, settings));
        Optional<JobExecution.DatasetInput> eval = exec.dataset(dev.quantforge.job.JobTypeSpec.DatasetRole.EVALUATION);
        compareOn = eval.orElse(calib);
        compareBinding = InputBinding.bind(exec.modelInputs(), compareOn.tensors());
        reference = OrtModel.load(fp32File, 0, OrtSession.SessionOptions.OptLevel.ALL_OPT);
    }

    boolean hasLabels() throws java.io.IOException {
        return compareOn.open().hasLabels();
    }

    /** Builds the configuration where {@code floatNodes} (plus the config's exclusions) stay float, and measures it. */
    Trial measure(Set<String> floatNodes, Progress progress) throws Exception {
        Trial t = measureModelOnly(floatNodes);
        JsonNode ev = cfg.path("evaluation");
        ModelComparison.Result cmp;
        try (OrtModel int8 = OrtModel.load(t.file(), 0, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            cmp = new ModelComparison().compare(reference, int8, compareOn.open(), compareBinding, ev.path("batchSize").asInt(32),
                    ev.path("maxSamples").asLong(2000), progress);
        }
        return new Trial(t.floatNodes(), t.plan(), t.qdq(), t.file(), cmp);
    }

    /** Builds (writes) the QDQ model of a configuration without measuring it; its comparison is null. */
    Trial measureModelOnly(Set<String> floatNodes) throws Exception {
        Set<String> exclude = new HashSet<>(settings.excludeNodes());
        exclude.addAll(floatNodes);
        QuantizationSettings s = settings.withExcludes(exclude, settings.excludeOpTypes(), settings.excludePatterns());
        QdqPlan plan = QdqPlanner.plan(fp32, s);
        Map<String, TensorRange> rangeMap = new LinkedHashMap<>();
        for (String t : plan.activationTensors()) {
            CalibrationResult r = ranges.get(t);
            if (r == null) {
                throw new InvalidInputException("no calibrated range for tensor '" + t + "'");
            }
            rangeMap.put(t, r.range());
        }
        QdqModel qdq = QdqWriter.write(fp32, plan, rangeMap, s);
        Path file = exec.workDir().resolve("trial-" + (built++) + ".int8.onnx");
        Files.write(file, qdq.model().toByteArray());
        return new Trial(Set.copyOf(floatNodes), plan, qdq, file, null);
    }

    /** FP32 and the given INT8 model timed interleaved in the same run, same settings. */
    List<BenchmarkResult> latency(Path int8File, Progress progress) throws Exception {
        JsonNode b = cfg.path("benchmark");
        BenchmarkSettings bench = new BenchmarkSettings(b.path("iterations").asInt(200), b.path("warmup").asInt(20),
                b.path("batchSize").asInt(1), b.path("threads").asInt(1));
        try (OrtModel f = OrtModel.load(fp32File, bench.threads(), OrtSession.SessionOptions.OptLevel.ALL_OPT);
             OrtModel q = OrtModel.load(int8File, bench.threads(), OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            return new LatencyBenchmark().runInterleaved(List.of(f, q), bench, compareOn.open(), progress);
        }
    }

    @Override
    public void close() {
        reference.close();
    }
}
