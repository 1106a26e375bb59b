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
        /** Top-1 when labels exist, else agreement; output SQNR breaks ties. */
        public double score() {
            double primary = comparison.top1Candidate() != null ? comparison.top1Candidate() : comparison.agreement();
            return primary * 1000 + comparison.sqnrDb() / 1000;
        }
    }

    /**
     * @param candidates     every calibrator's model, in the order tried
     * @param best           the one with the best score (the job's model)
     * @param runtimeOps     op histogram of ONNX Runtime's optimized graph of the best model
     * @param layerSqnr      tensor → SQNR (dB) of the best model's quantized tensors against FP32
     * @param latency        FP32 and the best model, interleaved
     */
    public record Outcome(List<Candidate> candidates, Candidate best, Map<String, Integer> runtimeOps, Map<String, Double> layerSqnr,
                         LatencyPair latency) {
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
        List<CalibrationMethod> methods = spec.calibration().compareCalibrators() ? ALL_CALIBRATORS
                : List.of(spec.activations().calibrator());
        List<Candidate> candidates = new ArrayList<>();
        double span = 0.55 / methods.size();
        for (int m = 0; m < methods.size(); m++) {
            CalibrationMethod method = methods.get(m);
            Progress p = progress.scaled(m * span, (m + 1) * span);
            p.update(0, "quantize", "quantizing with the " + method.apiName() + " calibrator");
            QdqBuild build = pipeline.build(Set.of(), pipeline.ranges(method), method);
            ModelComparison.Result cmp = pipeline.compare(build.file(), compareOn, p.scaled(0.1, 1.0));
            pipeline.log().log(String.format("%s calibrator: INT8 top-1 %s (FP32 %s), agreement %.4f, output SQNR %.1f dB",
                    method.apiName(), fmt(cmp.top1Candidate()), fmt(cmp.top1Reference()), cmp.agreement(), cmp.sqnrDb()));
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
        return new Outcome(candidates, best, ops, layerSqnr, latency);
    }

    /** A metric for a log line: 4 decimals, or n/a. */
    public static String fmt(Double v) {
        return v == null ? "n/a" : String.format("%.4f", v);
    }
}
