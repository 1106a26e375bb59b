package dev.quantforge.qat;

/**
 * Training curve sample: the mean loss of the steps since the previous sample (at most
 * {@link QatTrainer#STEP_SAMPLES_PER_EPOCH} samples per epoch), the running accuracy of the epoch so far and the LR.
 *
 * @param epoch       1-based
 * @param step        1-based step within the epoch (the last step of the window)
 * @param steps       steps per epoch
 * @param loss        mean loss over the window
 * @param runningTop1 top-1 of the epoch's fake-quantized training forwards so far; null without labels
 * @param lr          the LR of the step
 */
public record StepStats(int epoch, int step, int steps, double loss, Double runningTop1, double lr) {
}
