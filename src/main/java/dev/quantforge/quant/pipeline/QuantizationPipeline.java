package dev.quantforge.quant.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.calib.ActivationCollector;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationParams;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.calib.Calibrators;
import dev.quantforge.quant.calib.HistogramSet;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.LayerErrors;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.PrepareOptions;
import dev.quantforge.quant.onnx.PreparedModel;
import dev.quantforge.quant.precision.Fp16Conversion;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.OrtFusionCheck;
import dev.quantforge.quant.qdq.QdqModel;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqPlanner;
import dev.quantforge.quant.qdq.QdqPreparation;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.quant.runtime.CpuFeatures;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.quant.weights.CalibrationFreeQuantizer;

/**
 * The engine's front door. One pipeline per model and {@link QuantizationSpec}: the graph is prepared
 * once (opset 13, BatchNorm folded, Q/DQ constant folding), calibrated once (one streaming pass, or
 * histograms of an earlier pass), and then any configuration — "these nodes stay float", "this
 * calibrator" — is built from the same ranges, written as an explicit QDQ model and measured against the
 * FP32 model on the runtime that will serve it (accuracy, per-layer error, interleaved latency).
 *
 * <p>Plain Java: jobs, tests and benchmarks all drive the engine through this class.
 * {@link PostTrainingQuantization}, {@code search.SensitivityAnalysis} and {@code search.AccuracyBudgetSearch}
 * are built on it. Not thread-safe; close it to free the FP32 reference session.
 */
public final class QuantizationPipeline implements AutoCloseable {

    private final OnnxMl.ModelProto original;
    private final QuantizationSpec spec;
    private final QuantizationSettings settings;
    private final PreparedModel prepared;
    private final OnnxMl.ModelProto fp32;
    private final Path fp32File;
    private final Path workDir;
    private final QdqPlan fullPlan;
    private final EngineLog log;
    private final Map<SampleSource, Map<String, String>> bindings = new IdentityHashMap<>();
    private HistogramSet histograms;
    private OrtModel reference;
    private int built;

    private QuantizationPipeline(OnnxMl.ModelProto original, QuantizationSpec spec, PreparedModel prepared, Path workDir, EngineLog log)
            throws IOException {
        this.original = original;
        this.spec = spec;
        this.settings = spec.settings(CpuFeatures.hasVnni());
        this.prepared = prepared;
        this.fp32 = QdqPreparation.apply(prepared.model());
        this.workDir = workDir;
        this.log = log;
        Files.createDirectories(workDir);
        this.fp32File = workDir.resolve("model.fp32.onnx");
        Files.write(fp32File, fp32.toByteArray());
        this.fullPlan = QdqPlanner.plan(fp32, settings);
        if (fullPlan.quantizedNodes().isEmpty()) {
            throw new InvalidInputException("nothing to quantize: every quantizable node is excluded by the config");
        }
    }

    /**
     * Prepares the FP32 graph for quantization and plans every quantizable node.
     *
     * @param workDir where the prepared FP32 model and the QDQ models are written
     */
    public static QuantizationPipeline prepare(Path modelFile, QuantizationSpec spec, Path workDir, EngineLog log, Progress progress)
            throws IOException {
        return prepare(Graphs.parse(modelFile), spec, workDir, log, progress);
    }

    public static QuantizationPipeline prepare(OnnxMl.ModelProto original, QuantizationSpec spec, Path workDir, EngineLog log,
                                               Progress progress) throws IOException {
        progress.update(0, "prepare", "preparing the FP32 graph");
        if (spec.mode() == QuantizationSpec.Mode.AUTO) {
            QuantizationSpec.Mode chosen = spec.autoMode(dev.quantforge.quant.inspect.ModelInspector.summarize(original));
            log.log("mode auto: " + chosen.name().toLowerCase(java.util.Locale.ROOT) + (chosen == QuantizationSpec.Mode.DYNAMIC
                    ? " (a text transformer: int8 weights, activations quantized at run time)" : " (calibrated Q/DQ)"));
            spec = spec.withMode(chosen);
        }
        PreparedModel prepared = new GraphPreparer().prepare(original, new PrepareOptions(spec.foldBatchNorm(), spec.minimumOpset()));
        prepared.steps().forEach(step -> log.log("prepare: " + step));
        return new QuantizationPipeline(original, spec, prepared, workDir, log);
    }

    public QuantizationSpec spec() {
        return spec;
    }

    public QuantizationSettings settings() {
        return settings;
    }

    /** The prepared graph and what was done to it. */
    public PreparedModel prepared() {
        return prepared;
    }

    /** The FP32 model every configuration is built from and compared with. */
    public OnnxMl.ModelProto fp32() {
        return fp32;
    }

    public Path fp32File() {
        return fp32File;
    }

    /** True when preparation folded BatchNormalization into Conv weights. */
    public boolean foldedBatchNorm() {
        return prepared.steps().stream().anyMatch(step -> step.startsWith("folded "));
    }

    /**
     * The FP32 graph prepared the same way but with BatchNormalization kept (QAT trains this one: its node
     * names are the folded graph's, since nodes are named before folding).
     */
    public OnnxMl.ModelProto fp32WithBatchNorm() {
        return QdqPreparation.apply(new GraphPreparer().prepare(original, new PrepareOptions(false)).model());
    }

    /** The plan with every quantizable node the config does not exclude quantized. */
    public QdqPlan plan() {
        return fullPlan;
    }

    /** Names of the nodes the full plan quantizes, in graph order. */
    public List<String> quantizedNodes() {
        return fullPlan.quantizedNodes().stream().map(QdqPlan.PlannedNode::name).toList();
    }

    // ---------------------------------------------------------------- calibration

    /** The one streaming calibration pass over {@code data}: a histogram per tensor the full plan quantizes. */
    public HistogramSet calibrate(SampleSource data, String dataName, Progress progress) {
        QuantizationSpec.Calibration cal = spec.calibration();
        int bins = spec.activations().bins();
        long samples = Math.min(cal.maxSamples(), data.sampleCount());
        log.log("calibration: one pass over " + samples + " samples of " + dataName + ", " + tensorsToCalibrate().size()
                + " tensors" + (spec.wantsFp16() ? " (with the float outputs FP16 must hold)" : "") + ", " + bins + " bins");
        long t0 = System.nanoTime();
        Map<String, TensorHistogram> h = new ActivationCollector().collect(fp32, new ArrayList<>(tensorsToCalibrate()), data,
                binding(data), cal.batchSize(), samples, bins, progress);
        log.log(String.format("calibration pass done in %.2f s", (System.nanoTime() - t0) / 1e9));
        histograms = new HistogramSet(bins, samples, h);
        return histograms;
    }

    /** The quantized activations, and with FP16 asked the float outputs of every node that could run in FP16. */
    private Set<String> tensorsToCalibrate() {
        Set<String> tensors = new java.util.LinkedHashSet<>(fullPlan.activationTensors());
        if (spec.wantsFp16()) {
            tensors.addAll(Fp16Conversion.tensorsToObserve(fp32));
        }
        return tensors;
    }

    /**
     * Uses the histograms of an earlier pass instead of calibrating; they must cover every tensor the full
     * plan quantizes. {@code source} names them for the messages ("job 1234").
     */
    public HistogramSet useHistograms(HistogramSet stored, String source, Progress progress) {
        List<String> missing = tensorsToCalibrate().stream().filter(t -> !stored.histograms().containsKey(t)).toList();
        if (!missing.isEmpty()) {
            throw new InvalidInputException("the histograms of " + source + " lack " + missing.size()
                    + " tensors this configuration quantizes (e.g. '" + missing.get(0) + "'); calibrate again without reusing them");
        }
        log.log("calibration: reusing the histograms of " + source + " (" + stored.samples() + " samples, " + stored.bins()
                + " bins); no new pass");
        progress.update(1, "calibrate", "reused histograms of " + source);
        histograms = stored;
        return histograms;
    }

    public HistogramSet histograms() {
        if (histograms == null) {
            throw new IllegalStateException("calibrate or useHistograms first");
        }
        return histograms;
    }

    /**
     * The range of every tensor the full plan quantizes, by {@code method}; a node override of a node that
     * reads the tensor wins over it (the last matching override, as listed).
     */
    public Map<String, CalibrationResult> ranges(CalibrationMethod method) {
        CalibrationParams params = spec.calibrationParams();
        List<CompiledOverride> overrides = spec.overrides().stream().map(CompiledOverride::of).toList();
        Map<String, CalibrationResult> out = new LinkedHashMap<>();
        for (String tensor : fullPlan.activationTensors()) {
            CalibrationMethod m = method;
            CalibrationParams p = params;
            for (QdqPlan.PlannedNode node : fullPlan.quantizedNodes()) {
                boolean reads = node.activationInputs().stream()
                        .anyMatch(in -> tensor.equals(fullPlan.quantizedTensors().getOrDefault(in, in)));
                if (!reads) {
                    continue;
                }
                for (CompiledOverride o : overrides) {
                    if (o.matches(node.name())) {
                        m = o.calibrator() != null ? o.calibrator() : m;
                        p = o.percentile() != null ? p.withPercentile(o.percentile()) : p;
                    }
                }
            }
            TensorHistogram h = histograms().histograms().get(tensor);
            if (h == null) {
                throw new InvalidInputException("no histogram for tensor '" + tensor + "'");
            }
            out.put(tensor, Calibrators.compute(h, m, p));
        }
        return out;
    }

    private record CompiledOverride(List<Pattern> nodes, CalibrationMethod calibrator, Double percentile) {
        static CompiledOverride of(QuantizationSpec.NodeOverride o) {
            return new CompiledOverride(o.nodes().stream().map(QuantizationSettings::compile).toList(), o.activations().calibrator(),
                    o.activations().percentile());
        }

        boolean matches(String node) {
            return nodes.stream().anyMatch(p -> p.matcher(node).matches());
        }
    }

    // ---------------------------------------------------------------- configurations

    /**
     * The configuration where {@code floatNodes} (besides the config's exclusions) stay float, in the spec's mode: static
     * with the spec's calibrator, or calibration-free (dynamic int8, weight-only int4).
     */
    public QdqBuild build(Set<String> floatNodes) throws IOException {
        return switch (spec.mode()) {
            case STATIC -> build(floatNodes, ranges(spec.activations().calibrator()), spec.activations().calibrator());
            case DYNAMIC, WEIGHT_ONLY -> buildCalibrationFree(floatNodes, spec.mode());
            case AUTO -> throw new IllegalStateException("the pipeline resolves mode auto when it prepares");
        };
    }

    /** A calibration-free configuration (weights quantized ahead), whatever the spec's mode: what auto_quantize tries too. */
    public QdqBuild buildCalibrationFree(Set<String> floatNodes, QuantizationSpec.Mode mode) throws IOException {
        QdqPlan plan = planWithFloat(floatNodes);
        QdqModel model = switch (mode) {
            case DYNAMIC -> CalibrationFreeQuantizer.dynamic(fp32, plan, settings.reduceRangeWeights());
            case WEIGHT_ONLY -> CalibrationFreeQuantizer.weightOnly(fp32, plan, spec.weights().blockSize(), INT4_ACCURACY_LEVEL);
            case STATIC, AUTO -> throw new IllegalArgumentException("static quantization needs calibrated ranges");
        };
        return write(floatNodes, null, mode, plan, Map.of(), model, List.of());
    }

    /** MatMulNBits computes with A quantized to int8 per block where the CPU has the kernels (else it falls back to float). */
    static final int INT4_ACCURACY_LEVEL = 4;

    /** A configuration from given ranges (e.g. of another calibrator, or trained by QAT). */
    public QdqBuild build(Set<String> floatNodes, Map<String, CalibrationResult> ranges, CalibrationMethod method) throws IOException {
        return build(floatNodes, Set.of(), ranges, method);
    }

    /**
     * As {@link #build(Set, Map, CalibrationMethod)}, with {@code fp32Nodes} kept in FP32 even where the spec asks for FP16
     * (the accuracy-budget search's second level: FP16 was not enough for them).
     */
    public QdqBuild build(Set<String> floatNodes, Set<String> fp32Nodes, Map<String, CalibrationResult> ranges, CalibrationMethod method)
            throws IOException {
        QdqPlan plan = planWithFloat(floatNodes);
        Map<String, TensorRange> rangeMap = new LinkedHashMap<>();
        for (String t : plan.activationTensors()) {
            CalibrationResult r = ranges.get(t);
            if (r == null) {
                throw new InvalidInputException("no calibrated range for tensor '" + t + "'");
            }
            rangeMap.put(t, r.range());
        }
        QdqModel qdq = withQuantizedEmbeddings(QdqWriter.write(fp32, plan, rangeMap, planSettings(floatNodes)));
        List<Fp16Conversion.NodePrecision> precisions = List.of();
        if (spec.wantsFp16()) {
            Set<String> int8 = new HashSet<>();
            plan.quantizedNodes().forEach(n -> int8.add(n.name()));
            Map<String, Double> absMax = new java.util.HashMap<>();
            histograms().histograms().forEach((t, h) -> absMax.put(t, h.absMax()));
            Fp16Conversion.Result mixed = Fp16Conversion.convert(qdq.model(), int8, n -> !fp32Nodes.contains(n) && wantsFp16(n), absMax);
            qdq = new QdqModel(mixed.model(), qdq.layers());
            precisions = mixed.nodes();
            log.log("mixed precision: " + mixed.counts());
        }
        return write(floatNodes, method, QuantizationSpec.Mode.STATIC, plan, ranges, qdq, precisions);
    }

    /** Whether {@code node}, when it is not INT8, is asked to run in FP16: the last matching override's choice, else the spec's. */
    public boolean wantsFp16(String node) {
        QuantizationSpec.FloatPrecision p = spec.floatPrecision();
        for (QuantizationSpec.NodeOverride o : spec.overrides()) {
            if (o.floatPrecision() != null && o.nodes().stream().map(QuantizationSettings::compile).anyMatch(r -> r.matcher(node).matches())) {
                p = o.floatPrecision();
            }
        }
        return p == QuantizationSpec.FloatPrecision.FP16;
    }

    /** Writes the QDQ model of trained FP32 weights with the given plan and ranges (QAT's export). */
    public QdqBuild buildFrom(OnnxMl.ModelProto trainedFp32, QdqPlan plan, Map<String, TensorRange> ranges, String fileName)
            throws IOException {
        QdqModel qdq = withQuantizedEmbeddings(QdqWriter.write(trainedFp32, plan, ranges, settings));
        Path file = workDir.resolve(fileName);
        Files.write(file, qdq.model().toByteArray());
        return new QdqBuild(Set.of(), spec.activations().calibrator(), QuantizationSpec.Mode.STATIC, plan, Map.of(), qdq, file, List.of());
    }

    /** Embedding tables stored as uint8 too (text models: the largest tensors, which Q/DQ placement does not touch). */
    private static QdqModel withQuantizedEmbeddings(QdqModel qdq) {
        return new QdqModel(CalibrationFreeQuantizer.withQuantizedEmbeddings(qdq.model()), qdq.layers());
    }

    /** The plan where {@code floatNodes} (besides the config's exclusions) stay float. */
    public QdqPlan planWithFloat(Set<String> floatNodes) {
        return floatNodes.isEmpty() ? fullPlan : QdqPlanner.plan(fp32, planSettings(floatNodes));
    }

    private QuantizationSettings planSettings(Set<String> floatNodes) {
        if (floatNodes.isEmpty()) {
            return settings;
        }
        Set<String> exclude = new HashSet<>(settings.excludeNodes());
        exclude.addAll(floatNodes);
        return settings.withExcludes(exclude, settings.excludeOpTypes(), settings.excludePatterns());
    }

    private QdqBuild write(Set<String> floatNodes, CalibrationMethod method, QuantizationSpec.Mode mode, QdqPlan plan,
                           Map<String, CalibrationResult> ranges, QdqModel qdq, List<Fp16Conversion.NodePrecision> precisions)
            throws IOException {
        String kind = method != null ? method.apiName() : mode.name().toLowerCase(java.util.Locale.ROOT);
        Path file = workDir.resolve("model." + (built++) + "." + kind + (mode == QuantizationSpec.Mode.WEIGHT_ONLY ? ".int4" : ".int8") + ".onnx");
        Files.write(file, qdq.model().toByteArray());
        return new QdqBuild(floatNodes, method, mode, plan, ranges, qdq, file, precisions);
    }

    // ---------------------------------------------------------------- measurements

    /** The FP32 model and {@code candidate} on the same samples (the spec's evaluation settings). */
    public ModelComparison.Result compare(Path candidate, SampleSource data, Progress progress) {
        QuantizationSpec.Evaluation ev = spec.evaluation();
        try (OrtModel int8 = OrtModel.load(candidate, 0, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            return new ModelComparison().compare(reference(), int8, data, binding(data), ev.batchSize(), ev.maxSamples(), spec.task(), progress);
        }
    }

    /** SQNR of every quantized tensor of {@code build} against its FP32 twin, on the first {@code samples} samples. */
    public Map<String, Double> layerSqnr(QdqBuild build, SampleSource data, int samples) {
        return LayerErrors.sqnrPerTensor(fp32, build.qdq().model(), build.plan().activationTensors(), data, binding(data), samples);
    }

    /** The FP32 model and {@code candidate} timed interleaved in one run (the spec's benchmark settings). */
    public LatencyPair latency(Path candidate, SampleSource data, Progress progress) {
        return latency(candidate, data, spec.benchmark(), progress);
    }

    /** The FP32 model and {@code candidate} timed interleaved in one run with other settings (benchmarks). */
    public LatencyPair latency(Path candidate, SampleSource data, BenchmarkSettings bench, Progress progress) {
        try (OrtModel f = OrtModel.load(fp32File, bench.threads(), OrtSession.SessionOptions.OptLevel.ALL_OPT);
             OrtModel q = OrtModel.load(candidate, bench.threads(), OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            var r = new LatencyBenchmark().runInterleaved(List.of(f, q), bench, data, progress);
            return new LatencyPair(r.get(0), r.get(1));
        }
    }

    /** The op histogram of ONNX Runtime's optimized graph of a model (what it fused). */
    public Map<String, Integer> runtimeOps(Path model) {
        return OrtFusionCheck.fusedOps(model);
    }

    /** Model input → dataset tensor for {@code data}, checked once per source. */
    public Map<String, String> binding(SampleSource data) {
        return bindings.computeIfAbsent(data, d -> InputBinding.bind(reference().inputs(), d.tensors()));
    }

    private OrtModel reference() {
        if (reference == null) {
            reference = OrtModel.load(fp32File, 0, OrtSession.SessionOptions.OptLevel.ALL_OPT);
        }
        return reference;
    }

    public EngineLog log() {
        return log;
    }

    /** A size in bytes of a file this pipeline wrote. */
    public static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (reference != null) {
            reference.close();
            reference = null;
        }
    }
}
