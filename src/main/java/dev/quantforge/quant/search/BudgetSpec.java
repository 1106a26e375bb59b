package dev.quantforge.quant.search;

import java.util.List;

import dev.quantforge.quant.pipeline.QuantizationSpec;

/**
 * The accuracy budget of a search (the {@code auto_quantize} job's own config keys).
 *
 * @param maxAccuracyDrop   the largest top-1 drop allowed, absolute (0.01 = one point) or relative to FP32 (needs labels)
 * @param maxCosineDrop     instead of top-1: the largest drop of the cosine to FP32 (pooled cosine for embedding models,
 *                          output cosine otherwise) — the budget for models without labels; null: top-1
 * @param dropType          how the top-1 drop is measured
 * @param timeBudgetSeconds stop after this long with the best found
 * @param maxTrials         stop after this many measured configurations
 * @param modes             the modes tried fully quantized first (null: the config's mode, plus dynamic when the model
 *                          has MatMuls with constant weights); the search then reverts layers in the closest one
 */
public record BudgetSpec(double maxAccuracyDrop, Double maxCosineDrop, DropType dropType, long timeBudgetSeconds, int maxTrials,
                         List<QuantizationSpec.Mode> modes) {

    public static final BudgetSpec DEFAULTS = new BudgetSpec(0.01, null, DropType.ABSOLUTE, 900, 64, null);

    public BudgetSpec {
        dropType = dropType == null ? DropType.ABSOLUTE : dropType;
        modes = modes == null ? null : List.copyOf(modes);
    }

    public enum DropType { ABSOLUTE, RELATIVE }

    /** The drop of {@code top1} from {@code fp32}, measured as this budget measures it. */
    public double drop(double fp32, double top1) {
        return dropType == DropType.RELATIVE ? (fp32 - top1) / Math.max(1e-12, fp32) : fp32 - top1;
    }

    public boolean onCosine() {
        return maxCosineDrop != null;
    }

    /** The budget in its own metric. */
    public double limit() {
        return onCosine() ? maxCosineDrop : maxAccuracyDrop;
    }

    /** What the drop is measured as, for messages and reports. */
    public String dropName() {
        return onCosine() ? "cosine" : dropType == DropType.RELATIVE ? "relative" : "absolute";
    }
}
