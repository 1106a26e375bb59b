package dev.quantforge.quant.search;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.search.SensitivitySpec.Granularity;
import dev.quantforge.quant.search.SensitivitySpec.Metric;
import dev.quantforge.quant.search.SensitivitySpec.Mode;

/**
 * Which layers does quantization hurt? One calibration (the pipeline's) serves every probe; each probe
 * quantizes only one group — a node, an op type or a block — or everything but it, and scores the damage
 * against the FP32 model: top-1 drop with labels, or a label-free proxy (KL, MSE, cosine, SQNR). Every
 * probe goes to the caller's {@link ProbeStore} the moment it is measured, so a restarted analysis
 * resumes after the last stored probe and a cancelled one keeps what it measured.
 */
public final class SensitivityAnalysis {

    private SensitivityAnalysis() {
    }

    /** Where probes are kept (the service: one report each). */
    public interface ProbeStore {
        /** The measurement an earlier attempt stored for this probe, if any. */
        Optional<ModelComparison.Result> find(ProbeConfiguration probe);

        /** Stores a measured probe now (it survives a crash or a cancel). */
        void save(ProbeConfiguration probe, ModelComparison.Result measurement);
    }

    /** The identity of a probe: what is quantized (its hash finds it again on resume). */
    public record ProbeConfiguration(String precision, String activations, String weights, String calibrator, Probe probe,
                                     Map<String, LayerState> layers) {
    }

    /** @param group the probed group's name, or "all" for the all-quantized baseline of {@code all_but_this} */
    public record Probe(String mode, String granularity, String group) {
    }

    /** The nodes a probe treats as one unit. */
    public record Group(String name, String opType, List<String> nodes) {
    }

    /**
     * One probed group, most sensitive first in {@link Outcome#layers()}.
     *
     * @param nodes    the group's nodes when it is not a single node of the same name (else null)
     * @param top1     the probe's top-1 (with labels)
     * @param top1Drop only_this: FP32 top-1 minus the probe's; all_but_this: how much keeping the group float recovers
     */
    public record LayerScore(String node, String opType, List<String> nodes, double score, Double top1, Double top1Drop, Double kl,
                             double sqnrDb, Double agreement, Double pooledCosine, long samples) {
    }

    /**
     * @param rankCorrelationWithTop1 Spearman correlation of the scores with the top-1 drops (labels, a label-free metric, ≥ 3 groups)
     * @param top1NoiseFloor          the largest standard error of a single-probe top-1 difference (labels only): drops below it are noise
     */
    public record Outcome(SensitivitySpec spec, List<LayerScore> layers, int probes, int resumedProbes, Double rankCorrelationWithTop1,
                          Double top1NoiseFloor) {
    }

    /**
     * @param compareOn the data every probe is compared with FP32 on
     * @param labels    whether {@code compareOn} has labels
     */
    public static Outcome run(QuantizationPipeline pipeline, SensitivitySpec spec, SampleSource compareOn, ProbeStore store,
                              Progress progress) throws IOException {
        boolean labels = compareOn.hasLabels();
        if (spec.metric() == Metric.TOP1 && !labels) {
            throw new InvalidInputException("metric top1 needs labels: give an evaluationDatasetId with labels, "
                    + "or use a label-free metric (kl, mse, cosine, sqnr)");
        }
        List<Group> groups = groups(pipeline.plan(), spec.granularity());
        Set<String> all = new LinkedHashSet<>(pipeline.quantizedNodes());
        int resumed = 0;

        ModelComparison.Result baseline = null;
        if (spec.mode() == Mode.ALL_BUT_THIS) {
            ProbeConfiguration base = configuration(pipeline, spec, "all", List.of());
            Optional<ModelComparison.Result> hit = store.find(base);
            baseline = hit.isPresent() ? hit.get() : measure(pipeline, Set.of(), base, compareOn, store, progress.scaled(0, 0.03));
        }
        List<LayerScore> rows = new ArrayList<>();
        Metric[] resolved = {spec.metric()};
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            Progress p = progress.scaled(0.03 + 0.97 * i / groups.size(), 0.03 + 0.97 * (i + 1) / groups.size());
            p.update(0, "probe", "probe " + (i + 1) + " of " + groups.size() + ": " + g.name());
            Set<String> floatNodes = new LinkedHashSet<>(all);
            if (spec.mode() == Mode.ONLY_THIS) {
                g.nodes().forEach(floatNodes::remove);
            } else {
                floatNodes = new LinkedHashSet<>(g.nodes());
            }
            ProbeConfiguration probe = configuration(pipeline, spec, g.name(), g.nodes());
            Optional<ModelComparison.Result> hit = store.find(probe);
            ModelComparison.Result r;
            if (hit.isPresent()) {
                r = hit.get();
                resumed++;
            } else {
                r = measure(pipeline, floatNodes, probe, compareOn, store, p);
            }
            boolean single = g.nodes().size() == 1 && g.nodes().get(0).equals(g.name());
            resolved[0] = spec.metricFor(r.task());
            rows.add(new LayerScore(g.name(), g.opType(), single ? null : g.nodes(), score(spec, r, baseline),
                    r.top1Candidate(), top1Drop(spec.mode(), r, baseline), r.klDivergence(), r.sqnrDb(), r.agreement(), r.pooledCosine(),
                    r.samples()));
        }
        if (resumed > 0) {
            pipeline.log().log("resumed: " + resumed + " probes were measured by an earlier attempt and not repeated");
        }
        rows.sort(Comparator.comparingDouble(LayerScore::score).reversed());
        Double correlation = null;
        Double noise = null;
        if (labels && resolved[0] != Metric.TOP1) {
            double rho = spearman(rows);
            correlation = Double.isNaN(rho) ? null : rho;
        }
        if (labels) {
            // a top-1 difference between two models that disagree on a fraction d of n samples has a
            // standard error of about sqrt(d / n): single-layer top-1 drops below it are noise
            double floor = 0;
            for (LayerScore row : rows) {
                long n = Math.max(1, row.samples());
                floor = Math.max(floor, Math.sqrt(Math.max(0, 1 - (row.agreement() == null ? 1 : row.agreement())) / n));
            }
            noise = floor;
        }
        pipeline.log().log("most sensitive: " + (rows.isEmpty() ? "none" : rows.get(0).node() + " (" + SensitivitySpec.apiName(resolved[0])
                + " " + rows.get(0).score() + ")"));
        return new Outcome(new SensitivitySpec(resolved[0], spec.mode(), spec.granularity()), rows, groups.size(), resumed, correlation, noise);
    }

    private static ModelComparison.Result measure(QuantizationPipeline pipeline, Set<String> floatNodes, ProbeConfiguration probe,
                                                  SampleSource compareOn, ProbeStore store, Progress p) throws IOException {
        QdqBuild build = pipeline.build(floatNodes);
        ModelComparison.Result r = pipeline.compare(build.file(), compareOn, p);
        store.save(probe, r);
        return r;
    }

    private static Double top1Drop(Mode mode, ModelComparison.Result r, ModelComparison.Result baseline) {
        if (r.top1Reference() == null || r.top1Candidate() == null) {
            return null;
        }
        if (mode == Mode.ONLY_THIS) {
            return r.top1Reference() - r.top1Candidate();
        }
        // keeping this group in float recovers this much of the all-quantized model's loss
        return baseline != null && baseline.top1Candidate() != null ? r.top1Candidate() - baseline.top1Candidate() : null;
    }

    /** Larger = more sensitive. all_but_this scores how much keeping the group in float helps. */
    static double score(SensitivitySpec spec, ModelComparison.Result r, ModelComparison.Result baseline) {
        Metric metric = spec.metricFor(r.task());
        double v = damage(metric, r);
        if (spec.mode() == Mode.ALL_BUT_THIS && baseline != null) {
            return damage(metric, baseline) - v;
        }
        return v;
    }

    private static double damage(Metric metric, ModelComparison.Result r) {
        Double v = switch (metric) {
            case TOP1 -> r.top1Candidate() == null ? null : r.top1Reference() - r.top1Candidate();
            case KL -> r.klDivergence();
            case MSE -> r.mse();
            case COSINE -> 1 - r.cosine();
            case SQNR -> -r.sqnrDb();
            case POOLED_COSINE -> r.pooledCosine() == null ? null : 1 - r.pooledCosine();
            case AUTO -> throw new IllegalStateException("metric resolved before scoring");
        };
        if (v == null) {
            throw new InvalidInputException("metric " + SensitivitySpec.apiName(metric) + " does not apply to a " + r.task().apiName()
                    + " model: use auto, cosine, sqnr or mse" + (r.task() == dev.quantforge.quant.eval.Task.EMBEDDING ? " or pooled_cosine" : ""));
        }
        return v;
    }

    /** The identity of a probe: which nodes it quantizes. */
    public static ProbeConfiguration configuration(QuantizationPipeline p, SensitivitySpec spec, String group, List<String> nodes) {
        boolean onlyThis = spec.mode() == Mode.ONLY_THIS;
        Map<String, LayerState> layers = Configurations.layers(p, n -> "all".equals(group) || (onlyThis == nodes.contains(n)));
        return new ProbeConfiguration("int8", Configurations.activations(p), Configurations.weights(p),
                p.spec().activations().calibrator().apiName(),
                new Probe(SensitivitySpec.apiName(spec.mode()), SensitivitySpec.apiName(spec.granularity()), group), layers);
    }

    /** The probe groups of a plan's quantized nodes, in graph order. */
    public static List<Group> groups(QdqPlan plan, Granularity granularity) {
        Map<String, List<QdqPlan.PlannedNode>> by = new LinkedHashMap<>();
        for (QdqPlan.PlannedNode n : plan.quantizedNodes()) {
            String key = switch (granularity) {
                case OP_TYPE -> n.opType();
                case BLOCK -> block(n);
                case NODE -> n.name();
            };
            by.computeIfAbsent(key, k -> new ArrayList<>()).add(n);
        }
        List<Group> out = new ArrayList<>();
        by.forEach((k, v) -> out.add(new Group(k, String.join(",", v.stream().map(QdqPlan.PlannedNode::opType).distinct().toList()),
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

    /** Spearman rank correlation of score and top1Drop over the rows that have both; NaN below 3 rows, 0 when one side is constant. */
    public static double spearman(List<LayerScore> rows) {
        List<double[]> pairs = new ArrayList<>();
        for (LayerScore r : rows) {
            if (r.top1Drop() != null) {
                pairs.add(new double[]{r.score(), r.top1Drop()});
            }
        }
        int n = pairs.size();
        if (n < 3) {
            return Double.NaN;
        }
        double[] ra = ranks(pairs.stream().mapToDouble(p -> p[0]).toArray());
        double[] rb = ranks(pairs.stream().mapToDouble(p -> p[1]).toArray());
        double ma = Arrays.stream(ra).average().orElse(0);
        double mb = Arrays.stream(rb).average().orElse(0);
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

    /** Ranks 1..n, ties get their mean rank. */
    static double[] ranks(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < v.length) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) {
                j++;
            }
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                r[idx[k]] = rank;
            }
            i = j + 1;
        }
        return r;
    }
}
