package dev.quantforge.qat;

/**
 * @param recipe             the schedule
 * @param loss               "cross_entropy" (needs labels; the first output is logits) or "distillation"
 *                           (KL to the FP32 model's first output, no labels needed)
 * @param maxSamplesPerEpoch at most this many samples per epoch, a fresh random subset each epoch (≤ 0: all)
 * @param batchNormFrozen    BatchNormalization (when the trained graph keeps it) normalizes with its running statistics
 *                           and keeps them (true), or with the batch statistics, updating the running ones (false)
 * @param maxSamples         the training set is the first this many samples of the dataset (≤ 0: all)
 * @param seed               the seed of the per-epoch shuffle
 * @param temperature        the distillation temperature (≤ 0: automatic, see {@code QatTrainer.autoTemperature})
 */
public record QatOptions(QatRecipe recipe, String loss, long maxSamplesPerEpoch, boolean batchNormFrozen,
                         long maxSamples, long seed, double temperature) {

    public static final String CROSS_ENTROPY = "cross_entropy";
    public static final String DISTILLATION = "distillation";

    public QatOptions(QatRecipe recipe, String loss, long maxSamplesPerEpoch) {
        this(recipe, loss, maxSamplesPerEpoch, true, 0, 0, 0);
    }

    public QatOptions {
        if (recipe == null) {
            throw new IllegalArgumentException("recipe is required");
        }
        if (!CROSS_ENTROPY.equals(loss) && !DISTILLATION.equals(loss)) {
            throw new IllegalArgumentException("loss must be cross_entropy or distillation, was " + loss);
        }
    }
}
