package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.springframework.stereotype.Component;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.platform.ApiException;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.eval.LayerErrors;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.report.ConfigHash;
import dev.quantforge.report.SvgCharts;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code auto_quantize}: the fastest configuration within an accuracy budget. Quantize everything,
 * then keep reverting the most damaged layer to float (ranked by the per-layer SQNR of the current
 * model, re-ranked after every revert) until the accuracy drop is within {@code maxAccuracyDrop}.
 * Every trial is measured — accuracy and latency, interleaved with FP32 in the same run — and
 * stored as a report as soon as it is measured, so the search is bounded by time and trials,
 * always has a best-so-far, resumes after a restart without repeating stored trials, and ends
 * with the Pareto set of accuracy × latency over everything it tried.
 */
@Component
public class AutoQuantizeHandler implements JobHandler {

    @Override
    public String type() {
        return "auto_quantize";
    }

    @Override
    public Set<String> requirements() {
        return Set.of("onnxruntime");
    }

    @Override
    public Set<DatasetRole> requiredDatasets() {
        return Set.of(DatasetRole.CALIBRATION, DatasetRole.EVALUATION);
    }

    @Override
    public Set<DatasetRole> labelledDatasets() {
        return Set.of(DatasetRole.EVALUATION);
    }

    @Override
    public boolean needsQuantizableNodes() {
        return true;
    }

    @Override
    public JsonNode validateConfig(JsonNode config, List<ApiException.FieldError> errors) {
        return PtqHandler.checkQuantizationConfig(PtqHandler.schema()
                .numberField("maxAccuracyDrop", 0.01, 0, 1)
                .enumField("dropType", "absolute", Set.of("absolute", "relative"))
                .intField("timeBudgetSeconds", 900L, 10, 7 * 24 * 3600)
                .intField("maxTrials", 64L, 1, 10_000)
                .apply("config", config, errors), errors);
    }

    /** One measured configuration. */
    record TrialRow(int index, UUID reportId, Set<String> floatNodes, double top1, double top1Fp32, double drop, double latencyP50,
                    double fp32LatencyP50, Path file) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        JsonNode cfg = exec.config();
        double budget = cfg.path("maxAccuracyDrop").asDouble(0.01);
        boolean relative = "relative".equals(cfg.path("dropType").asString("absolute"));
        int maxTrials = cfg.path("maxTrials").asInt(64);
        long deadline = System.nanoTime() + cfg.path("timeBudgetSeconds").asLong(900) * 1_000_000_000L;
        try (QuantizationSession s = new QuantizationSession(exec, exec.progress().scaled(0.01, 0.15))) {
            Map<String, JsonNode> stored = new HashMap<>();
            for (JsonNode r : exec.savedReports()) {
                stored.put(r.path("configHash").asString(), r);
            }
            List<TrialRow> trials = new ArrayList<>();
            Set<String> floatNodes = new LinkedHashSet<>();
            int resumed = 0;
            String stop = null;
            List<String> quantizable = s.fullPlan.quantizedNodes().stream().map(QdqPlan.PlannedNode::name).toList();
            // why each reverted layer went float: its input SQNR (dB) when it was chosen
            Map<String, Double> revertedAt = new java.util.LinkedHashMap<>();
            while (true) {
                int index = trials.size();
                var p = exec.progress().scaled(0.15 + 0.8 * index / maxTrials, 0.15 + 0.8 * (index + 1) / maxTrials);
                p.update(0, "trial", "trial " + (index + 1) + " (at most " + maxTrials + "): " + floatNodes.size() + " layer(s) in float");
                QuantizationSession.Trial built = null;
                ObjectNode trialCfg = trialConfig(s, floatNodes);
                JsonNode hit = stored.get(ConfigHash.of(trialCfg));
                TrialRow row;
                if (hit != null) {
                    JsonNode m = hit.path("metrics");
                    row = new TrialRow(index, UUID.fromString(hit.path("id").asString()), Set.copyOf(floatNodes), m.path("top1").asDouble(),
                            m.path("top1Fp32").asDouble(), m.path("accuracyDrop").asDouble(), m.path("latencyP50Ms").asDouble(),
                            m.path("latencyFp32P50Ms").asDouble(), null);
                    resumed++;
                } else {
                    built = s.measure(floatNodes, p.scaled(0, 0.6));
                    List<BenchmarkResult> lat = s.latency(built.file(), p.scaled(0.6, 1));
                    double top1 = built.comparison().top1Candidate();
                    double fp32 = built.comparison().top1Reference();
                    double drop = relative ? (fp32 - top1) / Math.max(1e-12, fp32) : fp32 - top1;
                    ObjectNode metrics = SensitivityHandler.metrics(built.comparison());
                    metrics.put("accuracyDrop", drop);
                    metrics.put("dropType", relative ? "relative" : "absolute");
                    metrics.put("latencyP50Ms", lat.get(1).latencyMs().p50());
                    metrics.put("latencyP90Ms", lat.get(1).latencyMs().p90());
                    metrics.put("latencyP99Ms", lat.get(1).latencyMs().p99());
                    metrics.put("throughputPerSecond", lat.get(1).throughputPerSecond());
                    metrics.put("latencyFp32P50Ms", lat.get(0).latencyMs().p50());
                    metrics.put("speedupP50", lat.get(0).latencyMs().p50() / Math.max(1e-9, lat.get(1).latencyMs().p50()));
                    metrics.put("trial", index);
                    metrics.put("floatLayers", floatNodes.size());
                    metrics.put("modelSizeBytes", Files.size(built.file()));
                    UUID id = exec.saveReport(new JobOutcome.ReportDraft(trialCfg, metrics, RuntimeInfoJson.of(lat.get(1).runtime()),
                            layersOf(s, floatNodes, revertedAt), null));
                    row = new TrialRow(index, id, Set.copyOf(floatNodes), top1, fp32, drop, lat.get(1).latencyMs().p50(),
                            lat.get(0).latencyMs().p50(), built.file());
                    exec.log(String.format("trial %d: %d layer(s) float, top-1 %.4f (FP32 %.4f, drop %.4f), p50 %.3f ms (FP32 %.3f ms)",
                            index, floatNodes.size(), top1, fp32, drop, row.latencyP50(), row.fp32LatencyP50()));
                }
                trials.add(row);
                if (row.drop() <= budget) {
                    stop = "budget met";
                    break;
                }
                if (trials.size() >= maxTrials) {
                    stop = "maxTrials (" + maxTrials + ") reached";
                    break;
                }
                if (System.nanoTime() > deadline) {
                    stop = "timeBudgetSeconds reached";
                    break;
                }
                if (floatNodes.size() >= quantizable.size()) {
                    stop = "every layer is float";
                    break;
                }
                // re-rank on the current model: the quantized layer whose input suffers most goes float next
                if (built == null) {
                    built = s.measureModelOnly(floatNodes);
                }
                Map.Entry<String, Double> worst = mostDamaged(s, built, floatNodes, quantizable);
                floatNodes.add(worst.getKey());
                revertedAt.put(worst.getKey(), worst.getValue());
            }
            if (resumed > 0) {
                exec.log("resumed: " + resumed + " trial(s) were measured by an earlier attempt and not repeated");
            }
            return outcome(exec, s, cfg, trials, budget, relative, stop, resumed);
        }
    }

    /** The quantized node whose activation input has the lowest SQNR in the current model, with that SQNR. */
    private static Map.Entry<String, Double> mostDamaged(QuantizationSession s, QuantizationSession.Trial t, Set<String> floatNodes, List<String> quantizable)
            throws java.io.IOException {
        Map<String, Double> sqnr = LayerErrors.sqnrPerTensor(s.fp32, t.qdq().model(), t.plan().activationTensors(), s.compareOn.open(),
                s.compareBinding, 16);
        String worst = null;
        double worstSqnr = Double.POSITIVE_INFINITY;
        for (QdqPlan.PlannedNode n : t.plan().quantizedNodes()) {
            if (floatNodes.contains(n.name())) {
                continue;
            }
            double nodeSqnr = Double.POSITIVE_INFINITY;
            for (String in : n.activationInputs()) {
                Double v = sqnr.get(t.plan().quantizedTensors().getOrDefault(in, in));
                if (v != null) {
                    nodeSqnr = Math.min(nodeSqnr, v);
                }
            }
            if (worst == null || nodeSqnr < worstSqnr) {
                worst = n.name();
                worstSqnr = nodeSqnr;
            }
        }
        if (worst == null) {
            worst = quantizable.stream().filter(n -> !floatNodes.contains(n)).findFirst().orElseThrow();
        }
        return Map.entry(worst, worstSqnr);
    }

    private JobOutcome outcome(JobExecution exec, QuantizationSession s, JsonNode cfg, List<TrialRow> trials, double budget,
                               boolean relative, String stop, int resumed) throws Exception {
        List<TrialRow> within = trials.stream().filter(t -> t.drop() <= budget).toList();
        boolean met = !within.isEmpty();
        TrialRow best = met
                ? within.stream().min(Comparator.comparingDouble(TrialRow::latencyP50)).orElseThrow()
                : trials.stream().min(Comparator.comparingDouble(TrialRow::drop)).orElseThrow();
        List<TrialRow> pareto = new ArrayList<>();
        for (TrialRow a : trials) {
            boolean dominated = trials.stream().anyMatch(b -> b.top1() >= a.top1() && b.latencyP50() <= a.latencyP50()
                    && (b.top1() > a.top1() || b.latencyP50() < a.latencyP50()));
            if (!dominated) {
                pareto.add(a);
            }
        }
        String statement = met
                ? String.format("budget met: %d layer(s) kept in float, accuracy drop %.4f ≤ %.4f (%s)", best.floatNodes().size(),
                best.drop(), budget, relative ? "relative" : "absolute")
                : String.format("budget NOT met (%s): the closest configuration loses %.4f > %.4f (%s); it is returned with the Pareto set",
                stop, best.drop(), budget, relative ? "relative" : "absolute");
        exec.log(statement);

        // the best configuration's model: rebuilt when an earlier attempt measured it
        Path bestFile = best.file() != null ? best.file() : s.measureModelOnly(best.floatNodes()).file();
        Path chart = exec.workDir().resolve("pareto.svg");
        Files.writeString(chart, SvgCharts.paretoScatter("auto_quantize: top-1 vs p50 latency (" + trials.size() + " trials)",
                trials.stream().map(t -> new SvgCharts.Point("trial " + t.index() + " (" + t.floatNodes().size() + " float)",
                        t.latencyP50(), t.top1(), pareto.contains(t), t == best)).toList()));

        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode result = f.objectNode();
        result.put("maxAccuracyDrop", budget);
        result.put("dropType", relative ? "relative" : "absolute");
        result.put("budgetMet", met);
        result.put("statement", statement);
        result.put("stoppedBecause", stop);
        ObjectNode b = result.putObject("best");
        b.put("reportId", best.reportId().toString());
        b.put("top1", best.top1());
        b.put("accuracyDrop", best.drop());
        b.putObject("latencyMs").put("p50", best.latencyP50());
        b.put("trial", best.index());
        ArrayNode fl = b.putArray("floatNodes");
        best.floatNodes().forEach(fl::add);
        ObjectNode fp = result.putObject("fp32");
        fp.put("top1", best.top1Fp32());
        fp.putObject("latencyMs").put("p50", best.fp32LatencyP50());
        ArrayNode ids = result.putArray("paretoReportIds");
        pareto.forEach(t -> ids.add(t.reportId().toString()));
        result.put("trials", trials.size());
        result.put("resumedTrials", resumed);
        ArrayNode all = result.putArray("trialReportIds");
        trials.forEach(t -> all.add(t.reportId().toString()));
        return new JobOutcome(result, List.of(), List.of(
                new JobOutcome.ArtifactDraft("quantized_model", "model.int8.onnx", bestFile, "quantizedModelArtifactId"),
                new JobOutcome.ArtifactDraft("profile", "pareto.svg", chart, "chartArtifactId")));
    }

    /** The trial's effective per-layer configuration (its hash identifies the trial on resume and across jobs). */
    static ObjectNode trialConfig(QuantizationSession s, Set<String> floatNodes) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("precision", "int8");
        c.put("activations", s.settings.activationType().name().toLowerCase());
        c.put("weights", s.settings.weightsPerChannel() ? "per_channel" : "per_tensor");
        c.put("reduceRangeWeights", s.settings.reduceRangeWeights());
        c.put("calibrator", s.cfg.path("activations").path("calibrator").asString("entropy"));
        ObjectNode layers = c.putObject("layers");
        for (QdqPlan.PlannedNode n : s.fullPlan.nodes()) {
            layers.putObject(n.name()).put("quantized", n.quantized() && !floatNodes.contains(n.name()));
        }
        return c;
    }

    static ArrayNode layersOf(QuantizationSession s, Set<String> floatNodes, Map<String, Double> revertedAt) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (QdqPlan.PlannedNode n : s.fullPlan.nodes()) {
            ObjectNode row = out.addObject();
            row.put("node", n.name());
            row.put("opType", n.opType());
            boolean q = n.quantized() && !floatNodes.contains(n.name());
            row.put("quantized", q);
            if (!q) {
                Double sqnr = revertedAt.get(n.name());
                row.put("reason", floatNodes.contains(n.name())
                        ? "kept in float by the search: its quantized input had the lowest SQNR of the model when reverted"
                        + (sqnr == null || sqnr.isInfinite() ? "" : String.format(" (%.1f dB)", sqnr))
                        : n.reason());
                if (sqnr != null && !sqnr.isInfinite()) {
                    row.put("sensitivity", sqnr);
                }
            }
        }
        return out;
    }
}
