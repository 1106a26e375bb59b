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
import dev.quantforge.quant.pipeline.LatencyPair;
import dev.quantforge.quant.pipeline.PostTrainingQuantization;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;

/**
 * The fastest configuration within an accuracy budget. Quantize everything, then keep reverting the most
 * damaged layer to float (the quantized node whose input has the lowest SQNR in the current model,
 * re-ranked after every revert) until the top-1 drop is within budget. Every trial is measured — accuracy
 * and latency interleaved with FP32 — and handed to the caller's {@link TrialStore} as soon as it is, so
 * the search is bounded by time and trials, always has a best-so-far, resumes after a restart without
 * repeating stored trials, and ends with the Pareto set of accuracy × latency over everything it tried.
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

    /** The identity of a trial: the shared settings and which nodes it quantizes. */
    public record TrialConfiguration(String precision, String activations, String weights, boolean reduceRangeWeights,
                                     String calibrator, Map<String, LayerState> layers) {
    }

    /** The numbers of a stored trial a resumed search needs. */
    public record StoredTrial(UUID id, double top1, double top1Fp32, double accuracyDrop, double latencyP50Ms, double fp32LatencyP50Ms) {
    }

    /**
     * A trial just measured.
     *
     * @param layers every planned node: quantized or not, and why
     */
    public record MeasuredTrial(int index, Set<String> floatNodes, ModelComparison.Result comparison, double accuracyDrop,
                                BudgetSpec.DropType dropType, LatencyPair latency, long modelSizeBytes, List<LayerDecision> layers) {
    }

    /**
     * Why a node is (not) quantized in a configuration.
     *
     * @param reason      why it stays float (null when quantized)
     * @param sensitivity the SQNR (dB) of its quantized input when the search reverted it (null otherwise)
     */
    public record LayerDecision(String node, String opType, boolean quantized, String reason, Double sensitivity) {
    }

    /** One configuration of the search, measured now or by an earlier attempt. */
    public record Trial(int index, UUID reportId, Set<String> floatNodes, double top1, double top1Fp32, double accuracyDrop,
                        double latencyP50Ms, double fp32LatencyP50Ms, Path file) {
    }

    /**
     * @param best      the fastest trial within budget, or the closest when the budget was not met
     * @param bestModel the best configuration's QDQ model (rebuilt when an earlier attempt measured it)
     * @param pareto    the trials no other trial beats on both top-1 and p50 latency
     */
    public record Outcome(BudgetSpec budget, boolean budgetMet, String statement, String stoppedBecause, Trial best, Path bestModel,
                          List<Trial> trials, List<Trial> pareto, int resumedTrials) {
    }

    /** @param compareOn labelled data every trial is compared with FP32 on */
    public static Outcome run(QuantizationPipeline pipeline, BudgetSpec budget, SampleSource compareOn, TrialStore store, Progress progress)
            throws IOException {
        if (!compareOn.hasLabels()) {
            throw new InvalidInputException("the accuracy budget is a top-1 drop: the evaluation dataset needs labels");
        }
        long deadline = System.nanoTime() + budget.timeBudgetSeconds() * 1_000_000_000L;
        int maxTrials = budget.maxTrials();
        List<Trial> trials = new ArrayList<>();
        Set<String> floatNodes = new LinkedHashSet<>();
        int resumed = 0;
        String stop;
        List<String> quantizable = pipeline.quantizedNodes();
        // why each reverted layer went float: its input SQNR (dB) when it was chosen
        Map<String, Double> revertedAt = new LinkedHashMap<>();
        while (true) {
            int index = trials.size();
            Progress p = progress.scaled((double) index / maxTrials, (double) (index + 1) / maxTrials);
            p.update(0, "trial", "trial " + (index + 1) + " (at most " + maxTrials + "): " + floatNodes.size() + " layer(s) in float");
            QdqBuild built = null;
            TrialConfiguration config = configuration(pipeline, floatNodes);
            Optional<StoredTrial> hit = store.find(config);
            Trial trial;
            if (hit.isPresent()) {
                StoredTrial s = hit.get();
                trial = new Trial(index, s.id(), Set.copyOf(floatNodes), s.top1(), s.top1Fp32(), s.accuracyDrop(), s.latencyP50Ms(),
                        s.fp32LatencyP50Ms(), null);
                resumed++;
            } else {
                built = pipeline.build(floatNodes);
                ModelComparison.Result cmp = pipeline.compare(built.file(), compareOn, p.scaled(0, 0.6));
                LatencyPair lat = pipeline.latency(built.file(), compareOn, p.scaled(0.6, 1));
                double top1 = cmp.top1Candidate();
                double fp32 = cmp.top1Reference();
                double drop = budget.drop(fp32, top1);
                UUID id = store.save(config, new MeasuredTrial(index, Set.copyOf(floatNodes), cmp, drop, budget.dropType(), lat,
                        QuantizationPipeline.sizeOf(built.file()), decisions(pipeline, floatNodes, revertedAt)));
                trial = new Trial(index, id, Set.copyOf(floatNodes), top1, fp32, drop, lat.candidate().latencyMs().p50(),
                        lat.fp32().latencyMs().p50(), built.file());
                pipeline.log().log(String.format("trial %d: %d layer(s) float, top-1 %.4f (FP32 %.4f, drop %.4f), p50 %.3f ms (FP32 %.3f ms)",
                        index, floatNodes.size(), top1, fp32, drop, trial.latencyP50Ms(), trial.fp32LatencyP50Ms()));
            }
            trials.add(trial);
            if (trial.accuracyDrop() <= budget.maxAccuracyDrop()) {
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
                built = pipeline.build(floatNodes);
            }
            Map.Entry<String, Double> worst = mostDamaged(pipeline, built, floatNodes, quantizable, compareOn);
            floatNodes.add(worst.getKey());
            revertedAt.put(worst.getKey(), worst.getValue());
        }
        if (resumed > 0) {
            pipeline.log().log("resumed: " + resumed + " trial(s) were measured by an earlier attempt and not repeated");
        }
        return outcome(pipeline, budget, trials, stop, resumed);
    }

    /** The quantized node whose activation input has the lowest SQNR in the current model, with that SQNR. */
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
        List<Trial> within = trials.stream().filter(t -> t.accuracyDrop() <= budget.maxAccuracyDrop()).toList();
        boolean met = !within.isEmpty();
        Trial best = met
                ? within.stream().min(Comparator.comparingDouble(Trial::latencyP50Ms)).orElseThrow()
                : trials.stream().min(Comparator.comparingDouble(Trial::accuracyDrop)).orElseThrow();
        List<Trial> pareto = new ArrayList<>();
        for (Trial a : trials) {
            boolean dominated = trials.stream().anyMatch(b -> b.top1() >= a.top1() && b.latencyP50Ms() <= a.latencyP50Ms()
                    && (b.top1() > a.top1() || b.latencyP50Ms() < a.latencyP50Ms()));
            if (!dominated) {
                pareto.add(a);
            }
        }
        String kind = budget.dropType() == BudgetSpec.DropType.RELATIVE ? "relative" : "absolute";
        String statement = met
                ? String.format("budget met: %d layer(s) kept in float, accuracy drop %.4f ≤ %.4f (%s)", best.floatNodes().size(),
                best.accuracyDrop(), budget.maxAccuracyDrop(), kind)
                : String.format("budget NOT met (%s): the closest configuration loses %.4f > %.4f (%s); it is returned with the Pareto set",
                stop, best.accuracyDrop(), budget.maxAccuracyDrop(), kind);
        pipeline.log().log(statement);
        Path bestModel = best.file() != null ? best.file() : pipeline.build(best.floatNodes()).file();
        return new Outcome(budget, met, statement, stop, best, bestModel, trials, pareto, resumed);
    }

    /** The identity of the configuration where {@code floatNodes} stay float. */
    public static TrialConfiguration configuration(QuantizationPipeline p, Set<String> floatNodes) {
        return new TrialConfiguration("int8", Configurations.activations(p), Configurations.weights(p), p.settings().reduceRangeWeights(),
                p.spec().activations().calibrator().apiName(), Configurations.allBut(p, floatNodes));
    }

    /** Every planned node of the configuration where {@code floatNodes} stay float, with why a float one is float. */
    public static List<LayerDecision> decisions(QuantizationPipeline p, Set<String> floatNodes, Map<String, Double> revertedAt) {
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
                        : n.reason();
                sensitivity = known ? sqnr : null;
            }
            out.add(new LayerDecision(n.name(), n.opType(), q, reason, sensitivity));
        }
        return out;
    }
}
