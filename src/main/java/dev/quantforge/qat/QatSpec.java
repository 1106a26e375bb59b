package dev.quantforge.qat;

/**
 * How a QAT job trains (its own config keys; the quantization keys are the PTQ engine's), and the one
 * place their defaults live: SuperGradients' base recipe and its QAT modification.
 *
 * @param epochs        overrides the derived epoch count when non-null
 * @param temperature   the distillation temperature (0: automatic)
 * @param learnRanges   learned (LSQ) activation ranges — refused: see the README's QAT section
 * @param batchNorm     BatchNormalization kept apart while training: frozen running statistics, or trained
 */
public record QatSpec(Integer epochs, BaseRecipe baseRecipe, RecipeModification recipeModification, Optimizer optimizer,
                      double momentum, Loss loss, double temperature, boolean learnRanges, BatchNormMode batchNorm, Training training) {

    public static final QatSpec DEFAULTS = new QatSpec(null, BaseRecipe.DEFAULTS, RecipeModification.DEFAULTS, Optimizer.SGD, 0.9,
            Loss.AUTO, 0.0, false, BatchNormMode.FROZEN, Training.DEFAULTS);

    public QatSpec {
        baseRecipe = baseRecipe == null ? BaseRecipe.DEFAULTS : baseRecipe;
        recipeModification = recipeModification == null ? RecipeModification.DEFAULTS : recipeModification;
        optimizer = optimizer == null ? Optimizer.SGD : optimizer;
        loss = loss == null ? Loss.AUTO : loss;
        batchNorm = batchNorm == null ? BatchNormMode.FROZEN : batchNorm;
        training = training == null ? Training.DEFAULTS : training;
    }

    public enum Optimizer { SGD }

    /** {@code auto}: cross-entropy when the training set has labels, else distillation. */
    public enum Loss { AUTO, CROSS_ENTROPY, DISTILLATION }

    public enum BatchNormMode { FROZEN, TRAIN }

    /** The schedule a full-precision training would use. */
    public record BaseRecipe(int epochs, double lr, int batchSize, int warmupEpochs, double weightDecay) {
        public static final BaseRecipe DEFAULTS = new BaseRecipe(100, 0.1, 64, 5, 1e-4);
    }

    /** SuperGradients' {@code QATRecipeModificationCallback}. */
    public record RecipeModification(int batchSizeDivisor, int maxEpochsDivisor, double lrDecayFactor, int warmupEpochsDivisor,
                                     double cosineFinalLrRatio) {
        public static final RecipeModification DEFAULTS = new RecipeModification(2, 10, 0.01, 10, 0.01);
    }

    /** @param maxSamples the first this many samples (0: all); @param maxSamplesPerEpoch a random subset per epoch (0: all) */
    public record Training(long maxSamples, long maxSamplesPerEpoch, long seed) {
        public static final Training DEFAULTS = new Training(0, 0, 0);
    }

    /** The QAT schedule: the base recipe modified (epochs overridden when given). */
    public QatRecipe recipe() {
        BaseRecipe b = baseRecipe;
        RecipeModification m = recipeModification;
        return QatRecipe.derive(b.epochs(), b.lr(), b.batchSize(), b.warmupEpochs(), b.weightDecay(), m.batchSizeDivisor(),
                m.maxEpochsDivisor(), m.lrDecayFactor(), m.warmupEpochsDivisor(), m.cosineFinalLrRatio(), momentum, epochs);
    }

    /** The trainer's options with the loss resolved ({@link QatOptions#CROSS_ENTROPY} or {@link QatOptions#DISTILLATION}). */
    public QatOptions options(String resolvedLoss) {
        return new QatOptions(recipe(), resolvedLoss, training.maxSamplesPerEpoch(), batchNorm == BatchNormMode.FROZEN,
                training.maxSamples(), training.seed(), temperature);
    }
}
