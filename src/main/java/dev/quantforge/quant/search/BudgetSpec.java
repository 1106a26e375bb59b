package dev.quantforge.quant.search;

/**
 * The accuracy budget of a search (the {@code auto_quantize} job's own config keys).
 *
 * @param maxAccuracyDrop   the largest top-1 drop allowed, absolute (0.01 = one point) or relative to FP32
 * @param dropType          how the drop is measured
 * @param timeBudgetSeconds stop after this long with the best found
 * @param maxTrials         stop after this many measured configurations
 */
public record BudgetSpec(double maxAccuracyDrop, DropType dropType, long timeBudgetSeconds, int maxTrials) {

    public static final BudgetSpec DEFAULTS = new BudgetSpec(0.01, DropType.ABSOLUTE, 900, 64);

    public BudgetSpec {
        dropType = dropType == null ? DropType.ABSOLUTE : dropType;
    }

    public enum DropType { ABSOLUTE, RELATIVE }

    /** The drop of {@code top1} from {@code fp32}, measured as this budget measures it. */
    public double drop(double fp32, double top1) {
        return dropType == DropType.RELATIVE ? (fp32 - top1) / Math.max(1e-12, fp32) : fp32 - top1;
    }
}
