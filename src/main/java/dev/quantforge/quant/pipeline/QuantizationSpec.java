package dev.quantforge.quant.pipeline;

import java.util.List;
import java.util.Set;

import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationParams;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.quant.eval.Task;
import dev.quantforge.quant.inspect.ModelSummary;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.quant.qdq.QuantizationSettings.ActivationType;

/**
 * What to quantize and how: the typed form of a quantizing job's config (the component names are the
 * JSON keys of the API's {@code config}), and the one place every default lives ({@link #DEFAULTS} and
 * the nested records' {@code DEFAULTS}). The service's config schema fills its defaults from here.
 *
 * @param mode                static (calibrated Q/DQ), dynamic or weight-only
 * @param target              the runtime the model is for
 * @param task                what the outputs mean (null: inferred), which picks the comparison metrics
 * @param weights             weight quantization (symmetric int8 per channel, or int4 blocks; max calibrator)
 * @param activations         activation quantization and its calibrator
 * @param calibration         the calibration pass
 * @param exclude             nodes kept float
 * @param overrides           per-node calibrator overrides
 * @param quantizeResidualAdd quantize both inputs of Adds of two activations
 * @param quantizeNormalizationInputs also those whose sum goes straight into Softmax or a layer normalization
 * @param foldBatchNorm       fold BatchNormalization into the preceding Conv first
 * @param evaluation          the FP32-vs-INT8 comparison
 * @param benchmark           FP32 and INT8 timed interleaved
 */
public record QuantizationSpec(Mode mode, Target target, Task task, Weights weights, Activations activations, Calibration calibration,
                               Exclusions exclude, List<NodeOverride> overrides, boolean quantizeResidualAdd,
                               boolean quantizeNormalizationInputs, boolean foldBatchNorm, Evaluation evaluation,
                               BenchmarkSettings benchmark, FloatPrecision floatPrecision) {

    public static final QuantizationSpec DEFAULTS = new QuantizationSpec(Mode.AUTO, Target.ONNXRUNTIME_CPU, null, Weights.DEFAULTS,
            Activations.DEFAULTS, Calibration.DEFAULTS, Exclusions.NONE, List.of(), true, false, true, Evaluation.DEFAULTS,
            BenchmarkSettings.DEFAULTS, FloatPrecision.FP32);

    public QuantizationSpec {
        mode = mode == null ? Mode.AUTO : mode;
        target = target == null ? Target.ONNXRUNTIME_CPU : target;
        weights = weights == null ? Weights.DEFAULTS : weights;
        activations = activations == null ? Activations.DEFAULTS : activations;
        calibration = calibration == null ? Calibration.DEFAULTS : calibration;
        exclude = exclude == null ? Exclusions.NONE : exclude;
        overrides = overrides == null ? List.of() : List.copyOf(overrides);
        evaluation = evaluation == null ? Evaluation.DEFAULTS : evaluation;
        benchmark = benchmark == null ? BenchmarkSettings.DEFAULTS : benchmark;
        floatPrecision = floatPrecision == null ? FloatPrecision.FP32 : floatPrecision;
    }

    /**
     * What the nodes that are not INT8 compute in: FP32, or FP16 where the op and its observed values allow
     * ({@code precision.Fp16Conversion}; the rest stays FP32). Per node with {@link NodeOverride#floatPrecision}.
     */
    public enum FloatPrecision { FP32, FP16 }

    /** Whether any node may be converted to FP16 (globally or by an override). */
    public boolean wantsFp16() {
        return floatPrecision == FloatPrecision.FP16 || overrides.stream().anyMatch(o -> o.floatPrecision() == FloatPrecision.FP16);
    }

    /**
     * How the model is quantized. {@code STATIC}: calibrated Q/DQ on weights and activations. {@code DYNAMIC}:
     * int8 weights, activations quantized at run time (no calibration set). {@code WEIGHT_ONLY}: int4 weights in
     * blocks, float activations (MatMulNBits; smaller, faster where memory bound).
     */
    public enum Mode { AUTO, STATIC, DYNAMIC, WEIGHT_ONLY }

    /**
     * {@link Mode#AUTO} made concrete for {@code model}, as ONNX Runtime advises: DYNAMIC for a text transformer (integer
     * token inputs feeding embedding Gathers, no convolutions: its activations vary too much per sentence for fixed
     * ranges, and ORT's dynamic kernels are its fastest int8 path for them — measured in bench/RESULTS.md), STATIC for
     * everything else and always for TensorRT (which reads calibrated Q/DQ). Other modes are returned as they are.
     */
    public QuantizationSpec resolvedFor(ModelSummary model) {
        return mode != Mode.AUTO ? this : withMode(autoMode(model));
    }

    /** What {@link Mode#AUTO} becomes for {@code model} (see {@link #resolvedFor}). */
    public Mode autoMode(ModelSummary model) {
        if (target == Target.TENSORRT) {
            return Mode.STATIC;
        }
        boolean convolutions = model.opTypes().containsKey("Conv") || model.opTypes().containsKey("ConvTranspose");
        boolean tokenInputs = model.inputs().stream().anyMatch(i -> ("int64".equals(i.elementType()) || "int32".equals(i.elementType()))
                && i.shape() != null && i.shape().size() == 2);
        return !convolutions && tokenInputs && model.opTypes().containsKey("Gather") ? Mode.DYNAMIC : Mode.STATIC;
    }

    /** The runtime the model is quantized for: it picks the defaults that runtime needs (see {@link #forTarget}). */
    public enum Target { ONNXRUNTIME_CPU, TENSORRT }

    /** int8 (static, dynamic) or int4 (weight-only). */
    public enum WeightDtype { INT8, INT4 }

    /** Per output channel (default) or per tensor. */
    public enum WeightGranularity { PER_CHANNEL, PER_TENSOR }

    /**
     * 7-bit weights ([-64, 64]). {@code AUTO}: on for uint8 activations when the CPU lacks VNNI, where ONNX
     * Runtime's u8×s8 kernels (VPMADDUBSW) saturate at int16 (ORT's own {@code reduce_range}).
     */
    public enum ReduceRange { AUTO, TRUE, FALSE }

    /** uint8 asymmetric (what ONNX Runtime CPU fuses) or int8 symmetric (TensorRT). */
    public enum ActivationDtype { UINT8, INT8 }

    /** @param blockSize weights per scale along K for int4 (32, 64 or 128) */
    public record Weights(WeightDtype dtype, WeightGranularity granularity, ReduceRange reduceRange, int blockSize) {
        public static final Weights DEFAULTS = new Weights(WeightDtype.INT8, WeightGranularity.PER_CHANNEL, ReduceRange.AUTO, 32);

        public Weights {
            dtype = dtype == null ? DEFAULTS.dtype : dtype;
            granularity = granularity == null ? DEFAULTS.granularity : granularity;
            reduceRange = reduceRange == null ? DEFAULTS.reduceRange : reduceRange;
            blockSize = blockSize == 0 ? DEFAULTS.blockSize : blockSize;
        }

        public Weights(WeightGranularity granularity, ReduceRange reduceRange) {
            this(WeightDtype.INT8, granularity, reduceRange, DEFAULTS.blockSize);
        }
    }

    /**
     * @param percentile for the percentile calibrator, in [50, 100]
     * @param bins       histogram bins of the calibration pass
     */
    public record Activations(ActivationDtype dtype, CalibrationMethod calibrator, double percentile, int bins) {
        public static final Activations DEFAULTS = new Activations(ActivationDtype.UINT8, CalibrationMethod.MSE,
                CalibrationParams.DEFAULT_PERCENTILE, TensorHistogram.DEFAULT_BINS);

        public Activations {
            dtype = dtype == null ? DEFAULTS.dtype : dtype;
            calibrator = calibrator == null ? DEFAULTS.calibrator : calibrator;
        }
    }

    /**
     * @param maxSamples         calibrate on at most this many samples
     * @param batchSize          samples per run (models with a fixed batch run at it)
     * @param compareCalibrators build and measure a model per calibrator from the same histograms
     */
    public record Calibration(long maxSamples, int batchSize, boolean compareCalibrators) {
        public static final Calibration DEFAULTS = new Calibration(512, 32, false);
    }

    /** Nodes kept float: exact names, op types, and regexes (or globs) over node names. */
    public record Exclusions(List<String> nodes, List<String> opTypes, List<String> patterns) {
        public static final Exclusions NONE = new Exclusions(List.of(), List.of(), List.of());

        public Exclusions {
            nodes = nodes == null ? List.of() : List.copyOf(nodes);
            opTypes = opTypes == null ? List.of() : List.copyOf(opTypes);
            patterns = patterns == null ? List.of() : List.copyOf(patterns);
        }
    }

    /**
     * For the nodes matching {@code nodes} (regexes or globs): the calibrator (and percentile) of their activation inputs,
     * and what they compute in when they are not INT8 ({@code floatPrecision}; null keeps the job's).
     */
    public record NodeOverride(List<String> nodes, OverrideActivations activations, FloatPrecision floatPrecision) {
        public NodeOverride {
            nodes = nodes == null ? List.of() : List.copyOf(nodes);
            activations = activations == null ? new OverrideActivations(null, null) : activations;
        }
    }

    /** Null fields keep the job's setting. */
    public record OverrideActivations(CalibrationMethod calibrator, Double percentile) {
    }

    /** @param maxSamples compare on at most this many samples; @param batchSize samples per run */
    public record Evaluation(long maxSamples, int batchSize) {
        public static final Evaluation DEFAULTS = new Evaluation(2000, 32);
    }

    // ---------------------------------------------------------------- derived engine settings

    public ActivationType activationType() {
        return activations.dtype() == ActivationDtype.INT8 ? ActivationType.INT8_SYMMETRIC : ActivationType.UINT8_ASYMMETRIC;
    }

    /** The planner's and writer's settings; {@code cpuHasVnni} decides {@link ReduceRange#AUTO}. */
    public QuantizationSettings settings(boolean cpuHasVnni) {
        boolean int8 = activations.dtype() == ActivationDtype.INT8;
        // ONNX Runtime's u8s8 CPU kernels saturate without VNNI; TensorRT (int8 symmetric) does not need it
        boolean reduceRange = weights.reduceRange() == ReduceRange.TRUE
                || (weights.reduceRange() == ReduceRange.AUTO && !int8 && !cpuHasVnni);
        return new QuantizationSettings(weights.granularity() == WeightGranularity.PER_CHANNEL, activationType(), quantizeResidualAdd,
                Set.copyOf(exclude.nodes()), Set.copyOf(exclude.opTypes()), exclude.patterns(), reduceRange, quantizeNormalizationInputs);
    }

    /** The calibrators' parameters for this activation scheme and percentile. */
    public CalibrationParams calibrationParams() {
        CalibrationParams base = activations.dtype() == ActivationDtype.INT8 ? CalibrationParams.int8Symmetric()
                : CalibrationParams.uint8Asymmetric();
        return base.withPercentile(activations.percentile());
    }

    public QuantizationSpec withMode(Mode m) {
        return new QuantizationSpec(m, target, task, weights, activations, calibration, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, floatPrecision);
    }

    public QuantizationSpec withTask(Task t) {
        return new QuantizationSpec(mode, target, t, weights, activations, calibration, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, floatPrecision);
    }

    /** Whether this spec needs a calibration pass. */
    /** Whether the (resolved) mode calibrates activation ranges. */
    public boolean needsCalibration() {
        requireResolved();
        return mode == Mode.STATIC;
    }

    /** The lowest default-domain opset the mode's output ops need. */
    public int minimumOpset() {
        requireResolved();
        return mode == Mode.STATIC ? 13 : 11;
    }

    private void requireResolved() {
        if (mode == Mode.AUTO) {
            throw new IllegalStateException("mode auto is resolved against the model first (resolvedFor)");
        }
    }

    public QuantizationSpec withWeights(Weights w) {
        return new QuantizationSpec(mode, target, task, w, activations, calibration, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, floatPrecision);
    }

    public QuantizationSpec withActivations(Activations a) {
        return new QuantizationSpec(mode, target, task, weights, a, calibration, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, floatPrecision);
    }

    public QuantizationSpec withExclude(Exclusions e) {
        return new QuantizationSpec(mode, target, task, weights, activations, calibration, e, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, floatPrecision);
    }

    public QuantizationSpec withEvaluation(Evaluation e) {
        return new QuantizationSpec(mode, target, task, weights, activations, calibration, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, e, benchmark, floatPrecision);
    }

    public QuantizationSpec withCalibration(Calibration c) {
        return new QuantizationSpec(mode, target, task, weights, activations, c, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, floatPrecision);
    }

    public QuantizationSpec withFloatPrecision(FloatPrecision f) {
        return new QuantizationSpec(mode, target, task, weights, activations, calibration, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, f);
    }

    public QuantizationSpec withOverrides(List<NodeOverride> o) {
        return new QuantizationSpec(mode, target, task, weights, activations, calibration, exclude, o, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, benchmark, floatPrecision);
    }

    public QuantizationSpec withBenchmark(BenchmarkSettings b) {
        return new QuantizationSpec(mode, target, task, weights, activations, calibration, exclude, overrides, quantizeResidualAdd, quantizeNormalizationInputs, foldBatchNorm, evaluation, b, floatPrecision);
    }
}
