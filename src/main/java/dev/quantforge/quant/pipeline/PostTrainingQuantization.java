package dev.quantforge.quant.pipeline;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.OrtFusionCheck;

/**
 * Post-training quantization on a calibrated {@link QuantizationPipeline}: a QDQ model per calibrator
 * (the spec's, or all of them from the same histograms with {@code compareCalibrators}), each compared
 * with FP32; the best one is then looked at closely — what ONNX Runtime fused, the SQNR of every
 * quantized tensor, and FP32 vs INT8 latency interleaved in one run.
 */
public final class PostTrainingQuantization {

    /** Calibrators tried by {@code compareCalibrators}, in report order. */
    public static final List<CalibrationMethod> ALL_CALIBRATORS = List.of(CalibrationMethod.MAX, CalibrationMethod.PERCENTILE,
            CalibrationMethod.ENTROPY, CalibrationMethod.MSE, CalibrationMethod.AUTO);

    /** Per-layer SQNR is measured on this many samples. */
    public static final int LAYER_ERROR_SAMPLES = 16;

    private PostTrainingQuantization() {
    }

    /** One calibrator's model and how it compared with FP32. */
    public record Candidate(CalibrationMethod method, QdqBuild build, ModelComparison.Result comparison) {
        /** The task's closeness to FP32 (top-1, agreement, pooled cosine or SQNR); output SQNR breaks ties. */
        public double score() {
            return comparison.closeness() * 1000 + comparison.sqnrDb() / 1000;
        }
    }

    /**
     * @param candidates     every calibrator's model, in the order tried
     * @param best           the one with the best score (the job's model)
     * @param runtimeOps     op histogram of ONNX Runtime's optimized graph of the best model
     * @param layerSqnr      tensor → SQNR (dB) of the best model's quantized tensors against FP32
     * @param latency        FP32 and the best model, interleaved
     * @param warnings       what the user must know (the model is slower than FP32 here, and why)
     */
    public record Outcome(List<Candidate> candidates, Candidate best, Map<String, Integer> runtimeOps, Map<String, Double> layerSqnr,
                         LatencyPair latency, List<String> warnings) {
        public int fusedInt8Kernels() {
            return OrtFusionCheck.fusedInt8Count(runtimeOps);
        }
    }

    /**
     * @param compareOn the data FP32 and INT8 are compared on (evaluation set, else the calibration set)
     * @param progress  0..1 of this step; reports phases quantize, evaluate, benchmark
     */
    public static Outcome run(QuantizationPipeline pipeline, SampleSource compareOn, Progress progress) throws IOException {
        QuantizationSpec spec = pipeline.spec();
        // the calibration-free modes have one model; static builds one per calibrator compared
        List<CalibrationMethod> methods = !spec.needsCalibration() ? java.util.Collections.singletonList(null)
                : spec.calibration().compareCalibrators() ? ALL_CALIBRATORS : List.of(spec.activations().calibrator());
        List<Candidate> candidates = new ArrayList<>();
        double span = 0.55 / methods.size();
        for (int m = 0; m < methods.size(); m++) {
            CalibrationMethod method = methods.get(m);
            Progress p = progress.scaled(m * span, (m + 1) * span);
            String what = method == null ? spec.mode().name().toLowerCase(java.util.Locale.ROOT) + " quantization"
                    : "the " + method.apiName() + " calibrator";
            p.update(0, "quantize", "quantizing with " + what);
            QdqBuild build = method == null ? pipeline.build(Set.of()) : pipeline.build(Set.of(), pipeline.ranges(method), method);
            ModelComparison.Result cmp = pipeline.compare(build.file(), compareOn, p.scaled(0.1, 1.0));
            pipeline.log().log((method == null ? what : method.apiName() + " calibrator") + ": " + describe(cmp));
            candidates.add(new Candidate(method, build, cmp));
        }
        Candidate best = candidates.get(0);
        for (Candidate c : candidates) {
            if (c.score() > best.score()) {
                best = c;
            }
        }
        if (candidates.size() > 1) {
            pipeline.log().log("best calibrator: " + best.method().apiName());
        }

        Map<String, Integer> ops = pipeline.runtimeOps(best.build().file());
        pipeline.log().log("ONNX Runtime's optimized INT8 graph: " + ops + " (" + OrtFusionCheck.fusedInt8Count(ops) + " fused int8 kernels)");

        progress.update(0.57, "evaluate", "per-layer SQNR");
        Map<String, Double> layerSqnr = pipeline.layerSqnr(best.build(), compareOn, LAYER_ERROR_SAMPLES);

        LatencyPair latency = pipeline.latency(best.build().file(), compareOn, progress.scaled(0.6, 1.0));
        pipeline.log().log(String.format("latency p50: FP32 %.3f ms, INT8 %.3f ms (%.2fx), batch %d, %d thread(s)",
                latency.fp32().latencyMs().p50(), latency.candidate().latencyMs().p50(), latency.speedupP50(),
                latency.fp32().batchSize(), latency.fp32().threads()));
        List<String> warnings = SpeedDiagnosis.warnings(pipeline, best.build(), latency, ops, compareOn);
        warnings.forEach(w -> pipeline.log().log("warning: " + w));
        return new Outcome(candidates, best, ops, layerSqnr, latency, warnings);
    }

    /** A comparison for a log line, with the metrics of its task. */
    public static String describe(ModelComparison.Result c) {
        StringBuilder b = new StringBuilder();
        if (c.top1Candidate() != null) {
            b.append("top-1 ").append(fmt(c.top1Candidate())).append(" (FP32 ").append(fmt(c.top1Reference())).append("), ");
        }
        if (c.agreement() != null) {
            b.append("agreement ").append(fmt(c.agreement())).append(", ");
        }
        if (c.pooledCosine() != null) {
            b.append("pooled cosine ").append(fmt(c.pooledCosine())).append(", ");
        }
        if (c.nearestNeighbourAgreement() != null) {
            b.append("nearest-neighbour agreement ").append(fmt(c.nearestNeighbourAgreement())).append(", ");
        }
        return b.append(String.format("output SQNR %.1f dB (%s)", c.sqnrDb(), c.task().apiName())).toString();
    }

    /** A metric for a log line: 4 decimals, or n/a. */
    public static String fmt(Double v) {
        return v == null ? "n/a" : String.format("%.4f", v);
    }
}
