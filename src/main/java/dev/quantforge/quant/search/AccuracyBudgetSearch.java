package dev.quantforge.quant.search;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.eval.Task;
import dev.quantforge.quant.pipeline.LatencyPair;
import dev.quantforge.quant.pipeline.PostTrainingQuantization;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec.Mode;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;

/**
 * The fastest configuration within an accuracy budget — FP32 included. Every candidate mode (static, dynamic, ...)
 * is measured fully quantized first; if none is within budget, the search keeps reverting the most damaged layer of
 * the closest mode to float (the quantized node whose input has the lowest SQNR in the current model, re-ranked
 * after every revert) until the budget holds. Every trial is measured — accuracy, and latency interleaved with FP32 in
 * the same run — and handed to the caller's {@link TrialStore} as soon as it is, so the search is bounded by time and
 * trials, always has a best-so-far, resumes after a restart without repeating stored trials, and ends with the Pareto
 * set. The answer is the trial with the largest speed-up over FP32 within budget, and FP32 itself when every quantized
 * configuration within budget is slower on this worker (or none is within it).
 */
public final class AccuracyBudgetSearch {

    private AccuracyBudgetSearch() {
    }

    /** Where trials are kept (the service: one report each). */
    public interface TrialStore {
        /** What an earlier attempt stored for this configuration, if anything. */
        Optional<StoredTrial> find(TrialConfiguration configuration);

        /** Stores a measured trial now (it survives a crash or a cancel); returns its id. */
        UUID save(TrialConfiguration configuration, MeasuredTrial trial);
    }

    /**
     * The identity of a trial: the shared settings, the mode (absent for static, so static trials keep their hash)
     * and which nodes it quantizes.
     */
    public record TrialConfiguration(String precision, String mode, String activations, String weights, boolean reduceRangeWeights,
                                     String calibrator, Map<String, LayerState> layers, List<String> fp16Layers) {
    }

    /** The numbers of a stored trial a resumed search needs; {@code top1} and {@code top1Fp32} are null without labels. */
    public record StoredTrial(UUID id, Double top1, Double top1Fp32, double accuracyDrop, double latencyP50Ms, double fp32LatencyP50Ms) {
    }

    /**
     * A trial just measured.
     *
     * @param layers every planned node: quantized or not, and why
     */
    public record MeasuredTrial(int index, Mode mode, Set<String> floatNodes, ModelComparison.Result comparison, double accuracyDrop,
                                String dropType, LatencyPair latency, long modelSizeBytes, List<LayerDecision> layers) {
    }

    /**
     * Why a node is (not) quantized in a configuration.
     *
     * @param reason      why it stays float (null when quantized)
     * @param sensitivity the SQNR (dB) of its quantized input when the search reverted it (null otherwise)
     */
    public record LayerDecision(String node, String opType, boolean quantized, String reason, Double sensitivity) {
    }

    /** One configuration of the search, measured now or by an earlier attempt; {@code reportId} null for FP32. */
    public record Trial(int index, UUID reportId, Mode mode, Set<String> floatNodes, Set<String> fp32Nodes, Double top1, Double top1Fp32,
                        double accuracyDrop, double latencyP50Ms, double fp32LatencyP50Ms, Path file) {
        public double speedupP50() {
            return latencyP50Ms > 0 ? fp32LatencyP50Ms / latencyP50Ms : 0;
        }

        public boolean isFp32() {
            return mode == null;
        }
    }

    /**
     * @param budgetMet      some quantized configuration is within budget
     * @param best           the answer: the fastest within budget, FP32 when that is fastest or nothing quantized is within it
     * @param bestQuantized  the fastest quantized configuration within budget, else the closest one
     * @param bestModel      {@code bestQuantized}'s model (rebuilt when an earlier attempt measured it)
     * @param pareto         the quantized trials no other trial beats on both closeness and p50 latency
     */
    public record Outcome(BudgetSpec budget, boolean budgetMet, String statement, String stoppedBecause, Trial best, Trial bestQuantized,
                          Path bestModel, List<Trial> trials, List<Trial> pareto, int resumedTrials) {
    }

    /** @param compareOn the data every trial is compared with FP32 on (labelled for a top-1 budget) */
    public static Outcome run(QuantizationPipeline pipeline, BudgetSpec budget, SampleSource compareOn, TrialStore store, Progress progress)
            throws IOException {
        if (!budget.onCosine() && !compareOn.hasLabels()) {
            throw new InvalidInputException("maxAccuracyDrop is a top-1 drop and the evaluation dataset has no labels: give labels, "
                    + "or budget on maxCosineDrop instead");
        }
        long deadline = System.nanoTime() + budget.timeBudgetSeconds() * 1_000_000_000L;
        int maxTrials = budget.maxTrials();
        List<Mode> modes = modes(pipeline, budget);
        List<Trial> trials = new ArrayList<>();
        int[] resumed = {0};
        String stop = null;
        List<String> quantizable = pipeline.quantizedNodes();
        Map<String, Double> revertedAt = new LinkedHashMap<>();
        Set<String> floatNodes = new LinkedHashSet<>();
        Set<String> fp32Nodes = new LinkedHashSet<>(); // reverted layers FP16 did not save (two-level fallback)
        QdqBuild built = null;
        // 1. every candidate mode, fully quantized
        for (Mode mode : modes) {
            if (trials.size() >= maxTrials) {
                break;
            }
            Measured m = trial(pipeline, budget, mode, floatNodes, fp32Nodes, revertedAt, trials.size(), maxTrials, compareOn, store,
                    progress, resumed);
            trials.add(m.trial());
            built = m.trial().isFp32() ? built : m.build();
        }
        Trial closest = trials.stream().min(Comparator.comparingDouble(Trial::accuracyDrop)).orElseThrow();
        if (closest.accuracyDrop() <= budget.limit()) {
            stop = "budget met";
        }
        // 2. revert layers of the closest mode until the budget holds
        Mode mode = closest.mode();
        built = null;
        while (stop == null) {
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
            if (built == null) {
                built = buildIn(pipeline, mode, floatNodes, fp32Nodes);
            }
            Map.Entry<String, Double> worst = mostDamaged(pipeline, built, floatNodes, quantizable, compareOn);
            floatNodes.add(worst.getKey());
            revertedAt.put(worst.getKey(), worst.getValue());
            Measured m = trial(pipeline, budget, mode, floatNodes, fp32Nodes, revertedAt, trials.size(), maxTrials, compareOn, store,
                    progress, resumed);
            trials.add(m.trial());
            built = m.build();
            if (m.trial().accuracyDrop() <= budget.limit()) {
                stop = "budget met";
            } else if (fp16Level(pipeline, mode, worst.getKey()) && trials.size() < maxTrials && System.nanoTime() <= deadline) {
                // the layer went to FP16 first; FP16 still breaks the budget, so FP32 for it
                fp32Nodes.add(worst.getKey());
                Measured again = trial(pipeline, budget, mode, floatNodes, fp32Nodes, revertedAt, trials.size(), maxTrials, compareOn,
                        store, progress, resumed);
                trials.add(again.trial());
                built = again.build();
                if (again.trial().accuracyDrop() <= budget.limit()) {
                    stop = "budget met";
                }
            }
        }
        if (resumed[0] > 0) {
            pipeline.log().log("resumed: " + resumed[0] + " trial(s) were measured by an earlier attempt and not repeated");
        }
        return outcome(pipeline, budget, trials, stop, resumed[0]);
    }

    /** The modes tried fully quantized: the budget's, else the config's (static only when calibrated) plus dynamic for MatMuls. */
    static List<Mode> modes(QuantizationPipeline pipeline, BudgetSpec budget) {
        if (budget.modes() != null && !budget.modes().isEmpty()) {
            return budget.modes();
        }
        List<Mode> modes = new ArrayList<>(List.of(pipeline.spec().mode()));
        boolean matMuls = pipeline.plan().quantizedNodes().stream().anyMatch(n -> n.opType().equals("MatMul") && n.weight() != null);
        if (matMuls && !modes.contains(Mode.DYNAMIC)) {
            modes.add(Mode.DYNAMIC);
        }
        return modes;
    }

    private record Measured(Trial trial, QdqBuild build) {
    }

    /** Whether a layer the search reverts goes to FP16 first (static mode with {@code floatPrecision: fp16} for it). */
    static boolean fp16Level(QuantizationPipeline pipeline, Mode mode, String node) {
        return mode == Mode.STATIC && pipeline.spec().wantsFp16() && pipeline.wantsFp16(node);
    }

    private static Measured trial(QuantizationPipeline pipeline, BudgetSpec budget, Mode mode, Set<String> floatNodes, Set<String> fp32Nodes,
                                  Map<String, Double> revertedAt, int index, int maxTrials, SampleSource compareOn, TrialStore store,
                                  Progress progress, int[] resumed) throws IOException {
        Progress p = progress.scaled(Math.min(1, (double) index / maxTrials), Math.min(1, (double) (index + 1) / maxTrials));
        p.update(0, "trial", "trial " + (index + 1) + " (at most " + maxTrials + "): " + mode.name().toLowerCase(java.util.Locale.ROOT)
                + ", " + floatNodes.size() + " layer(s) in float" + (fp32Nodes.isEmpty() ? "" : " (" + fp32Nodes.size() + " of them FP32)"));
        TrialConfiguration config = configuration(pipeline, mode, floatNodes, fp32Nodes);
        Optional<StoredTrial> hit = store.find(config);
        if (hit.isPresent()) {
            StoredTrial s = hit.get();
            resumed[0]++;
            return new Measured(new Trial(index, s.id(), mode, Set.copyOf(floatNodes), Set.copyOf(fp32Nodes), s.top1(), s.top1Fp32(), s.accuracyDrop(),
                    s.latencyP50Ms(), s.fp32LatencyP50Ms(), null), null);
        }
        QdqBuild built = buildIn(pipeline, mode, floatNodes, fp32Nodes);
        ModelComparison.Result cmp = pipeline.compare(built.file(), compareOn, p.scaled(0, 0.6));
        LatencyPair lat = pipeline.latency(built.file(), compareOn, p.scaled(0.6, 1));
        double drop = drop(budget, cmp);
        UUID id = store.save(config, new MeasuredTrial(index, mode, Set.copyOf(floatNodes), cmp, drop, budget.dropName(), lat,
                QuantizationPipeline.sizeOf(built.file()), decisions(pipeline, mode, floatNodes, fp32Nodes, revertedAt)));
        Trial trial = new Trial(index, id, mode, Set.copyOf(floatNodes), Set.copyOf(fp32Nodes), cmp.top1Candidate(), cmp.top1Reference(), drop,
                lat.candidate().latencyMs().p50(), lat.fp32().latencyMs().p50(), built.file());
        pipeline.log().log(String.format("trial %d: %s, %d layer(s) float, %s drop %.4f, p50 %.3f ms (FP32 %.3f ms, %.2fx)", index,
                mode.name().toLowerCase(java.util.Locale.ROOT), floatNodes.size(), budget.dropName(), drop, trial.latencyP50Ms(),
                trial.fp32LatencyP50Ms(), trial.speedupP50()));
        return new Measured(trial, built);
    }

    /** The drop the budget measures: top-1 (absolute or relative), or the cosine to FP32 (pooled for embeddings). */
    static double drop(BudgetSpec budget, ModelComparison.Result cmp) {
        if (budget.onCosine()) {
            double cos = cmp.task() == Task.EMBEDDING && cmp.pooledCosine() != null ? cmp.pooledCosine() : cmp.cosine();
            return 1 - cos;
        }
        return budget.drop(cmp.top1Reference(), cmp.top1Candidate());
    }

    private static QdqBuild buildIn(QuantizationPipeline pipeline, Mode mode, Set<String> floatNodes, Set<String> fp32Nodes) throws IOException {
        return mode == Mode.STATIC ? pipeline.build(floatNodes, fp32Nodes, pipeline.ranges(pipeline.spec().activations().calibrator()),
                pipeline.spec().activations().calibrator()) : pipeline.buildCalibrationFree(floatNodes, mode);
    }

    /**
     * The quantized node whose input suffers most in the current model: the lowest SQNR of its quantized activation
     * input (static), else — weights only are quantized — the first in graph order.
     */
    private static Map.Entry<String, Double> mostDamaged(QuantizationPipeline pipeline, QdqBuild t, Set<String> floatNodes,
                                                         List<String> quantizable, SampleSource data) {
        Map<String, Double> sqnr = pipeline.layerSqnr(t, data, PostTrainingQuantization.LAYER_ERROR_SAMPLES);
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

    private static Outcome outcome(QuantizationPipeline pipeline, BudgetSpec budget, List<Trial> trials, String stop, int resumed)
            throws IOException {
        List<Trial> within = trials.stream().filter(t -> t.accuracyDrop() <= budget.limit()).toList();
        boolean met = !within.isEmpty();
        Trial bestQuantized = met
                ? within.stream().max(Comparator.comparingDouble(Trial::speedupP50)).orElseThrow()
                : trials.stream().min(Comparator.comparingDouble(Trial::accuracyDrop)).orElseThrow();
        double fp32P50 = trials.stream().mapToDouble(Trial::fp32LatencyP50Ms).sorted().toArray()[trials.size() / 2];
        Trial fp32 = new Trial(-1, null, null, Set.of(), Set.of(), trials.get(0).top1Fp32(), trials.get(0).top1Fp32(), 0, fp32P50, fp32P50, null);
        boolean keepFp32 = !met || bestQuantized.speedupP50() < 1.0;
        Trial best = keepFp32 ? fp32 : bestQuantized;
        List<Trial> pareto = new ArrayList<>();
        for (Trial a : trials) {
            boolean dominated = trials.stream().anyMatch(b -> b.accuracyDrop() <= a.accuracyDrop() && b.latencyP50Ms() <= a.latencyP50Ms()
                    && (b.accuracyDrop() < a.accuracyDrop() || b.latencyP50Ms() < a.latencyP50Ms()));
            if (!dominated) {
                pareto.add(a);
            }
        }
        String kind = budget.dropName();
        String statement;
        if (met && !keepFp32) {
            statement = String.format("budget met: %s with %d layer(s) kept in float, %s drop %.4f ≤ %.4f, %.2fx FP32's speed",
                    bestQuantized.mode().name().toLowerCase(java.util.Locale.ROOT), bestQuantized.floatNodes().size(), kind,
                    bestQuantized.accuracyDrop(), budget.limit(), bestQuantized.speedupP50());
        } else if (met) {
            statement = String.format("budget met, but every configuration within it is slower than FP32 on this worker (the fastest "
                    + "runs at %.2fx): keep FP32; the quantized model is returned for a faster runtime", bestQuantized.speedupP50());
        } else {
            statement = String.format("budget NOT met (%s): the closest configuration loses %.4f > %.4f (%s); keep FP32 — the closest is "
                    + "returned with the Pareto set", stop, bestQuantized.accuracyDrop(), budget.limit(), kind);
        }
        pipeline.log().log(statement);
        Path bestModel = bestQuantized.file() != null ? bestQuantized.file()
                : buildIn(pipeline, bestQuantized.mode(), bestQuantized.floatNodes(), bestQuantized.fp32Nodes()).file();
        return new Outcome(budget, met, statement, stop, best, bestQuantized, bestModel, trials, pareto, resumed);
    }

    /** The identity of the configuration where {@code floatNodes} stay float, in {@code mode}. */
    public static TrialConfiguration configuration(QuantizationPipeline p, Mode mode, Set<String> floatNodes) {
        return configuration(p, mode, floatNodes, Set.of());
    }

    /**
     * As {@link #configuration(QuantizationPipeline, Mode, Set)}, where {@code fp32Nodes} of the float nodes stay FP32 and the
     * others are FP16 where the spec asks for it ({@code fp16Layers}, absent without FP16 so such configurations keep their hash).
     */
    public static TrialConfiguration configuration(QuantizationPipeline p, Mode mode, Set<String> floatNodes, Set<String> fp32Nodes) {
        boolean statik = mode == Mode.STATIC;
        List<String> fp16 = floatNodes.stream().filter(n -> !fp32Nodes.contains(n) && fp16Level(p, mode, n)).sorted().toList();
        return new TrialConfiguration(mode == Mode.WEIGHT_ONLY ? "int4" : "int8", statik ? null : mode.name().toLowerCase(java.util.Locale.ROOT),
                statik ? Configurations.activations(p) : "dynamic", Configurations.weights(p), p.settings().reduceRangeWeights(),
                statik ? p.spec().activations().calibrator().apiName() : null, Configurations.allBut(p, floatNodes),
                fp16.isEmpty() ? null : fp16);
    }

    /** The identity of the configuration where {@code floatNodes} stay float, in the spec's mode. */
    public static TrialConfiguration configuration(QuantizationPipeline p, Set<String> floatNodes) {
        return configuration(p, p.spec().mode(), floatNodes);
    }

    /** Every planned node of the configuration where {@code floatNodes} stay float, with why a float one is float. */
    public static List<LayerDecision> decisions(QuantizationPipeline p, Set<String> floatNodes, Map<String, Double> revertedAt) {
        return decisions(p, p.spec().mode(), floatNodes, Set.of(), revertedAt);
    }

    /** As {@link #decisions(QuantizationPipeline, Set, Map)}, saying which reverted layers are FP16 and which FP32. */
    public static List<LayerDecision> decisions(QuantizationPipeline p, Mode mode, Set<String> floatNodes, Set<String> fp32Nodes,
                                                Map<String, Double> revertedAt) {
        List<LayerDecision> out = new ArrayList<>();
        for (QdqPlan.PlannedNode n : p.plan().nodes()) {
            boolean q = n.quantized() && !floatNodes.contains(n.name());
            String reason = null;
            Double sensitivity = null;
            if (!q) {
                Double sqnr = revertedAt.get(n.name());
                boolean known = sqnr != null && !sqnr.isInfinite();
                reason = floatNodes.contains(n.name())
                        ? "kept in float by the search: its quantized input had the lowest SQNR of the model when reverted"
                        + (known ? String.format(" (%.1f dB)", sqnr) : "")
                        + (fp32Nodes.contains(n.name()) ? "; FP32: FP16 still broke the budget"
                        : fp16Level(p, mode, n.name()) ? "; FP16 where safe" : "")
                        : n.reason();
                sensitivity = known ? sqnr : null;
            }
            out.add(new LayerDecision(n.name(), n.opType(), q, reason, sensitivity));
        }
        return out;
    }
}
