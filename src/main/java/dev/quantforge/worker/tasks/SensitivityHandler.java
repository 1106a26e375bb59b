package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.report.ConfigHash;
import dev.quantforge.report.SvgCharts;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code sensitivity}: which layers does quantization hurt? One calibration serves every probe;
 * each probe quantizes only one node (or op type, or block) — or everything but it — and scores
 * the damage against the FP32 model: top-1 drop with labels, or a label-free proxy (KL, MSE,
 * cosine, SQNR). Every probe is stored as a report the moment it is measured, so a restarted job
 * resumes after the last stored probe and a cancelled one keeps what it measured.
 */
@Component
public class SensitivityHandler implements JobHandler {

    static final Set<String> METRICS = Set.of("top1", "kl", "mse", "cosine", "sqnr");

    @Override
    public String type() {
        return "sensitivity";
    }

    @Override
    public Set<String> requirements() {
        return Set.of("onnxruntime");
    }

    @Override
    public Set<DatasetRole> requiredDatasets() {
        return Set.of(DatasetRole.CALIBRATION);
    }

    @Override
    public Set<DatasetRole> optionalDatasets() {
        return Set.of(DatasetRole.EVALUATION);
    }

    @Override
    public boolean needsQuantizableNodes() {
        return true;
    }

    @Override
    public JsonNode validateConfig(JsonNode config, List<ApiException.FieldError> errors) {
        ObjectNode c = PtqHandler.checkQuantizationConfig(PtqHandler.schema()
                .enumField("metric", "kl", METRICS)
                .enumField("mode", "only_this", Set.of("only_this", "all_but_this"))
                .enumField("granularity", "node", Set.of("node", "op_type", "block"))
                .apply("config", config, errors), errors);
        return c;
    }

    /** The nodes a probe treats as one unit. */
    record Group(String name, String opType, List<String> nodes) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        JsonNode cfg = exec.config();
        String metric = cfg.path("metric").asString("kl");
        String mode = cfg.path("mode").asString("only_this");
        String granularity = cfg.path("granularity").asString("node");
        try (QuantizationSession session = new QuantizationSession(exec, exec.progress().scaled(0.01, 0.2))) {
            boolean labels = session.hasLabels();
            if ("top1".equals(metric) && !labels) {
                throw new dev.quantforge.quant.InvalidInputException("metric top1 needs labels: give an evaluationDatasetId with labels, "
                        + "or use a label-free metric (kl, mse, cosine, sqnr)");
            }
            List<Group> groups = groups(session.fullPlan, granularity);
            Set<String> all = new LinkedHashSet<>();
            session.fullPlan.quantizedNodes().forEach(n -> all.add(n.name()));

            // probes stored by an earlier attempt are not measured again
            Map<String, JsonNode> stored = new HashMap<>();
            for (JsonNode r : exec.savedReports()) {
                stored.put(r.path("configHash").asString(), r.path("metrics"));
            }
            int resumed = 0;

            ModelComparison.Result baseline = null;
            if ("all_but_this".equals(mode)) {
                ObjectNode baseCfg = probeConfig(session, "all", List.of(), mode, granularity);
                JsonNode hit = stored.get(ConfigHash.of(baseCfg));
                baseline = hit != null ? fromMetrics(hit) : measureAndStore(exec, session, Set.of(), baseCfg, exec.progress().scaled(0.2, 0.22));
            }
            List<ObjectNode> rows = new ArrayList<>();
            List<UUID> reportIds = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                Group g = groups.get(i);
                var p = exec.progress().scaled(0.22 + 0.73 * i / groups.size(), 0.22 + 0.73 * (i + 1) / groups.size());
                p.update(0, "probe", "probe " + (i + 1) + " of " + groups.size() + ": " + g.name());
                Set<String> floatNodes = new LinkedHashSet<>(all);
                if ("only_this".equals(mode)) {
                    floatNodes.removeAll(g.nodes());
                } else {
                    floatNodes = new LinkedHashSet<>(g.nodes());
                }
                ObjectNode probeCfg = probeConfig(session, g.name(), g.nodes(), mode, granularity);
                String hash = ConfigHash.of(probeCfg);
                ModelComparison.Result r;
                if (stored.containsKey(hash)) {
                    r = fromMetrics(stored.get(hash));
                    resumed++;
                } else {
                    r = measureAndStore(exec, session, floatNodes, probeCfg, p);
                }
                ObjectNode row = JsonNodeFactory.instance.objectNode();
                row.put("node", g.name());
                row.put("opType", g.opType());
                if (g.nodes().size() > 1 || !g.nodes().get(0).equals(g.name())) {
                    ArrayNode ns = row.putArray("nodes");
                    g.nodes().forEach(ns::add);
                }
                row.put("score", score(metric, mode, r, baseline));
                putDrop(row, r, baseline, mode);
                row.put("kl", r.klDivergence());
                row.put("sqnrDb", r.sqnrDb());
                row.put("agreement", r.agreement());
                row.put("samples", r.samples());
                rows.add(row);
            }
            if (resumed > 0) {
                exec.log("resumed: " + resumed + " probes were measured by an earlier attempt and not repeated");
            }
            rows.sort(Comparator.comparingDouble((ObjectNode r) -> r.path("score").asDouble()).reversed());
            for (JsonNode r : exec.savedReports()) {
                reportIds.add(UUID.fromString(r.path("id").asString()));
            }

            ObjectNode result = JsonNodeFactory.instance.objectNode();
            result.put("metric", metric);
            result.put("mode", mode);
            result.put("granularity", granularity);
            ArrayNode layers = result.putArray("layers");
            rows.forEach(layers::add);
            ArrayNode ids = result.putArray("reportIds");
            reportIds.forEach(id -> ids.add(id.toString()));
            result.put("probes", groups.size());
            result.put("resumedProbes", resumed);
            if (labels && !"top1".equals(metric)) {
                result.put("rankCorrelationWithTop1", spearman(rows, "score", "top1Drop"));
            }
            if (labels) {
                // a top-1 difference between two models that disagree on a fraction d of n samples has a
                // standard error of about sqrt(d / n): single-layer top-1 drops below it are noise
                double noise = 0;
                for (ObjectNode row : rows) {
                    long n = Math.max(1, row.path("samples").asLong(1));
                    noise = Math.max(noise, Math.sqrt(Math.max(0, 1 - row.path("agreement").asDouble()) / n));
                }
                result.put("top1NoiseFloor", noise);
            }
            exec.log("most sensitive: " + (rows.isEmpty() ? "none" : rows.get(0).path("node").asString()
                    + " (" + metric + " " + rows.get(0).path("score").asDouble() + ")"));
            Path chart = exec.workDir().resolve("sensitivity.svg");
            Files.writeString(chart, SvgCharts.rankedBars("Sensitivity (" + metric + ", " + mode.replace('_', ' ') + ")",
                    rows.stream().map(r -> r.path("node").asString()).toList(),
                    rows.stream().map(r -> r.path("score").asDouble()).toList()));
            return new JobOutcome(result, List.of(),
                    List.of(new JobOutcome.ArtifactDraft("profile", "sensitivity.svg", chart, "chartArtifactId")));
        }
    }

    private static void putDrop(ObjectNode row, ModelComparison.Result r, ModelComparison.Result baseline, String mode) {
        if (r.top1Reference() == null || r.top1Candidate() == null) {
            return;
        }
        row.put("top1", r.top1Candidate());
        if ("only_this".equals(mode)) {
            row.put("top1Drop", r.top1Reference() - r.top1Candidate());
        } else if (baseline != null && baseline.top1Candidate() != null) {
            // keeping this group in float recovers this much of the all-quantized model's loss
            row.put("top1Drop", r.top1Candidate() - baseline.top1Candidate());
        }
    }

    /** Larger = more sensitive. all_but_this scores how much keeping the group in float helps. */
    static double score(String metric, String mode, ModelComparison.Result r, ModelComparison.Result baseline) {
        double v = damage(metric, r);
        if ("all_but_this".equals(mode) && baseline != null) {
            return damage(metric, baseline) - v;
        }
        return v;
    }

    private static double damage(String metric, ModelComparison.Result r) {
        return switch (metric) {
            case "top1" -> r.top1Reference() - r.top1Candidate();
            case "kl" -> r.klDivergence();
            case "mse" -> r.mse();
            case "cosine" -> 1 - r.cosine();
            default -> -r.sqnrDb();
        };
    }

    private static ModelComparison.Result measureAndStore(JobExecution exec, QuantizationSession session, Set<String> floatNodes,
                                                          ObjectNode probeCfg, dev.quantforge.quant.progress.Progress p) throws Exception {
        QuantizationSession.Trial t = session.measure(floatNodes, p);
        ModelComparison.Result r = t.comparison();
        exec.saveReport(new JobOutcome.ReportDraft(probeCfg, metrics(r), RuntimeInfoJson.of(LatencyBenchmark.runtimeInfo(0)),
                JsonNodeFactory.instance.arrayNode(), null));
        return r;
    }

    static ObjectNode metrics(ModelComparison.Result r) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        if (r.top1Candidate() != null) {
            m.put("top1", r.top1Candidate());
            m.put("top1Fp32", r.top1Reference());
            m.put("accuracyDrop", r.top1Reference() - r.top1Candidate());
        }
        m.put("agreement", r.agreement());
        m.put("sqnrDb", r.sqnrDb());
        m.put("cosine", r.cosine());
        m.put("kl", r.klDivergence());
        m.put("mse", r.mse());
        m.put("samples", r.samples());
        return m;
    }

    static ModelComparison.Result fromMetrics(JsonNode m) {
        return new ModelComparison.Result(m.path("samples").asLong(),
                m.has("top1Fp32") ? m.path("top1Fp32").asDouble() : null, m.has("top1") ? m.path("top1").asDouble() : null,
                m.path("agreement").asDouble(), m.path("sqnrDb").asDouble(), m.path("cosine").asDouble(),
                m.path("kl").asDouble(), m.path("mse").asDouble());
    }

    /** The configuration of a probe: which nodes are quantized (its hash identifies the probe on resume). */
    static ObjectNode probeConfig(QuantizationSession s, String group, List<String> nodes, String mode, String granularity) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("precision", "int8");
        c.put("activations", s.settings.activationType().name().toLowerCase());
        c.put("weights", s.settings.weightsPerChannel() ? "per_channel" : "per_tensor");
        c.put("calibrator", s.cfg.path("activations").path("calibrator").asString("entropy"));
        ObjectNode probe = c.putObject("probe");
        probe.put("mode", mode);
        probe.put("granularity", granularity);
        probe.put("group", group);
        ObjectNode layers = c.putObject("layers");
        for (QdqPlan.PlannedNode n : s.fullPlan.nodes()) {
            boolean quantized = n.quantized() && ("all".equals(group)
                    || ("only_this".equals(mode) ? nodes.contains(n.name()) : !nodes.contains(n.name())));
            layers.putObject(n.name()).put("quantized", quantized);
        }
        return c;
    }

    static List<Group> groups(QdqPlan plan, String granularity) {
        Map<String, List<QdqPlan.PlannedNode>> by = new LinkedHashMap<>();
        for (QdqPlan.PlannedNode n : plan.quantizedNodes()) {
            String key = switch (granularity) {
                case "op_type" -> n.opType();
                case "block" -> block(n);
                default -> n.name();
            };
            by.computeIfAbsent(key, k -> new ArrayList<>()).add(n);
        }
        List<Group> out = new ArrayList<>();
        by.forEach((k, v) -> out.add(new Group(k, v.stream().map(QdqPlan.PlannedNode::opType).distinct().reduce((a, b) -> a + "," + b).orElse(""),
                v.stream().map(QdqPlan.PlannedNode::name).toList())));
        return out;
    }

    /** The block of a node: its weight's module path up to the block index ("blocks.3.conv.weight" → "blocks.3"), else its name. */
    static String block(QdqPlan.PlannedNode n) {
        String w = n.weight();
        if (w != null && w.contains(".")) {
            String[] parts = w.split("\\.");
            if (parts.length >= 3 && parts[1].chars().allMatch(Character::isDigit)) {
                return parts[0] + "." + parts[1];
            }
            return parts[0];
        }
        return n.name();
    }

    /** Spearman rank correlation of two fields over rows that have both. */
    static double spearman(List<ObjectNode> rows, String a, String b) {
        List<double[]> pairs = new ArrayList<>();
        for (ObjectNode r : rows) {
            if (r.has(a) && r.has(b)) {
                pairs.add(new double[]{r.path(a).asDouble(), r.path(b).asDouble()});
            }
        }
        int n = pairs.size();
        if (n < 3) {
            return Double.NaN;
        }
        double[] ra = ranks(pairs.stream().mapToDouble(p -> p[0]).toArray());
        double[] rb = ranks(pairs.stream().mapToDouble(p -> p[1]).toArray());
        double ma = java.util.Arrays.stream(ra).average().orElse(0);
        double mb = java.util.Arrays.stream(rb).average().orElse(0);
        double cov = 0;
        double va = 0;
        double vb = 0;
        for (int i = 0; i < n; i++) {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return va == 0 || vb == 0 ? 0 : cov / Math.sqrt(va * vb);
    }

    /** Average ranks (ties share the mean rank). */
    static double[] ranks(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < v.length) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) {
                j++;
            }
            for (int k = i; k <= j; k++) {
                r[idx[k]] = (i + j) / 2.0 + 1;
            }
            i = j + 1;
        }
        return r;
    }
}
