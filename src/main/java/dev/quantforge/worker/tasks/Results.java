package dev.quantforge.worker.tasks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QuantizedLayer;
import dev.quantforge.quant.search.AccuracyBudgetSearch;
import dev.quantforge.report.ReportLayer;

/** Result and report parts several job types share: latency summaries, the FP32 report's config, per-layer rows. */
final class Results {

    private Results() {
    }

    /** A latency summary in a job result; p50 only where only p50 is known (a resumed trial). */
    record LatencyMs(Double p50, Double p90, Double p99, Double mean) {
        static LatencyMs of(BenchmarkResult r) {
            return new LatencyMs(r.latencyMs().p50(), r.latencyMs().p90(), r.latencyMs().p99(), r.latencyMs().mean());
        }

        static LatencyMs p50(double p50) {
            return new LatencyMs(p50, null, null, null);
        }
    }

    /** The configuration of an FP32 measurement (evaluate, benchmark, ptq's FP32 side): every FP32 report has this hash. */
    record Fp32Configuration(String precision, Map<String, Object> layers) {
        static final Fp32Configuration INSTANCE = new Fp32Configuration("fp32", Map.of());
    }

    /** The report rows of a built configuration: every planned node with its quantization and, where measured, its input's SQNR. */
    static List<ReportLayer> layers(QdqBuild build, Map<String, Double> sqnr) {
        List<ReportLayer> out = new ArrayList<>();
        Map<String, QuantizedLayer> byNode = new LinkedHashMap<>();
        build.qdq().layers().forEach(l -> byNode.put(l.node(), l));
        QdqPlan plan = build.plan();
        Map<String, dev.quantforge.quant.precision.Fp16Conversion.NodePrecision> precisions = new LinkedHashMap<>();
        build.precisions().forEach(p -> precisions.put(p.node(), p));
        for (QdqPlan.PlannedNode n : plan.nodes()) {
            var precision = precisions.get(n.name());
            QuantizedLayer l = byNode.get(n.name());
            boolean weighted = l != null && l.weightGranularity() != null;
            String calibrator = null;
            Double amax = null;
            Double min = null;
            Double max = null;
            Double scale = null;
            Integer zeroPoint = null;
            Double inputSqnr = null;
            if (n.quantized() && !n.activationInputs().isEmpty()) {
                String first = n.activationInputs().get(0);
                CalibrationResult r = build.rangeOf(first);
                if (r != null) {
                    calibrator = r.methodUsed().apiName();
                    amax = r.range().amax();
                    min = r.range().min();
                    max = r.range().max();
                }
                if (l != null && !l.activations().isEmpty()) {
                    scale = (double) l.activations().get(0).scale();
                    zeroPoint = l.activations().get(0).zeroPoint();
                }
                inputSqnr = sqnr.get(plan.quantizedTensors().getOrDefault(first, first));
            }
            out.add(new ReportLayer(n.name(), n.opType(), n.quantized(), n.quantized() ? null : n.reason(),
                    weighted ? l.weightGranularity() : null, weighted ? l.weightAmaxMax() : null, calibrator, amax, min, max, scale,
                    zeroPoint, inputSqnr, null, precision == null ? null : precision.precision().apiName(),
                    precision == null ? null : precision.reason()));
        }
        return out;
    }

    /** A search's per-node decisions as report rows. */
    static List<ReportLayer> layers(List<AccuracyBudgetSearch.LayerDecision> decisions) {
        return decisions.stream().map(d -> ReportLayer.decision(d.node(), d.opType(), d.quantized(), d.reason(), d.sensitivity())).toList();
    }
}
