package dev.quantforge.qat;

/**
 * A QAT fine-tuning schedule: SGD with momentum, linear warm-up, then cosine annealing.
 *
 * @param epochs             training epochs (at least 1)
 * @param lr                 peak learning rate (after warm-up)
 * @param batchSize          samples per optimizer step
 * @param warmupEpochs       epochs of linear warm-up from 0 to {@code lr} (0: none)
 * @param weightDecay        L2 weight decay added to the gradient (PyTorch SGD convention)
 * @param momentum           SGD momentum
 * @param cosineFinalLrRatio the LR at the end of training as a fraction of {@code lr}
 */
public record QatRecipe(int epochs, double lr, int batchSize, int warmupEpochs, double weightDecay, double momentum,
                        double cosineFinalLrRatio) {

    public QatRecipe {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, was " + epochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
        if (warmupEpochs < 0) {
            throw new IllegalArgumentException("warmupEpochs must be >= 0, was " + warmupEpochs);
        }
        if (!(lr >= 0) || !(weightDecay >= 0) || !(momentum >= 0) || !(cosineFinalLrRatio >= 0)) {
            throw new IllegalArgumentException("lr, weightDecay, momentum and cosineFinalLrRatio must be >= 0");
        }
    }

    /**
     * SuperGradients' QATRecipeModificationCallback: batch ÷ batchSizeDivisor, epochs ÷ maxEpochsDivisor (at least 1),
     * lr × lrDecayFactor, warm-up ÷ warmupEpochsDivisor (integer division, may be 0), final LR ratio;
     * epochsOverride (nullable) wins over the derived count.
     */
    public static QatRecipe derive(int baseEpochs, double baseLr, int baseBatchSize, int baseWarmupEpochs, double weightDecay,
                                   int batchSizeDivisor, int maxEpochsDivisor, double lrDecayFactor, int warmupEpochsDivisor,
                                   double cosineFinalLrRatio, double momentum, Integer epochsOverride) {
        if (batchSizeDivisor < 1 || maxEpochsDivisor < 1 || warmupEpochsDivisor < 1) {
            throw new IllegalArgumentException("divisors must be >= 1");
        }
        int epochs = epochsOverride != null ? epochsOverride : Math.max(1, baseEpochs / maxEpochsDivisor);
        int batch = Math.max(1, baseBatchSize / batchSizeDivisor);
        int warmup = baseWarmupEpochs / warmupEpochsDivisor;
        return new QatRecipe(epochs, baseLr * lrDecayFactor, batch, warmup, weightDecay, momentum, cosineFinalLrRatio);
    }

    /** LR at a fractional epoch: linear warm-up from 0 to lr over warmupEpochs, then cosine from lr to lr·cosineFinalLrRatio. */
    public double lrAt(double epoch) {
        if (warmupEpochs > 0 && epoch < warmupEpochs) {
            return lr * Math.max(0, epoch) / warmupEpochs;
        }
        double span = epochs - warmupEpochs;
        double t = span <= 0 ? 1 : Math.min(1, Math.max(0, (epoch - warmupEpochs) / span));
        return lr * (cosineFinalLrRatio + (1 - cosineFinalLrRatio) * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
}
