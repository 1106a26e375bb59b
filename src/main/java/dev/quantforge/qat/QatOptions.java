package dev.quantforge.qat;

/**
 * @param recipe             the schedule
 * @param loss               "cross_entropy" (needs labels; the first output is logits) or "distillation"
 *                           (KL to the FP32 model's first output, no labels needed)
 * @param learnRanges        LSQ-style learnable activation ranges — not implemented yet: accepted, ranges stay fixed
 * @param maxSamplesPerEpoch at most this many samples per epoch (≤ 0: the whole dataset)
 */
public record QatOptions(QatRecipe recipe, String loss, boolean learnRanges, long maxSamplesPerEpoch) {

    public static final String CROSS_ENTROPY = "cross_entropy";
    public static final String DISTILLATION = "distillation";

    public QatOptions {
        if (recipe == null) {
            throw new IllegalArgumentException("recipe is required");
        }
        if (!CROSS_ENTROPY.equals(loss) && !DISTILLATION.equals(loss)) {
            throw new IllegalArgumentException("loss must be cross_entropy or distillation, was " + loss);
        }
    }
}
