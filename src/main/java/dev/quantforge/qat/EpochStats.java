package dev.quantforge.qat;

/**
 * One finished epoch.
 *
 * @param epoch       1-based
 * @param meanLoss    mean of the step losses
 * @param runningTop1 top-1 of the (fake-quantized) training forward against the labels; null without labels
 * @param lr          the LR at the end of the epoch
 * @param samples     samples trained on
 * @param seconds     wall time
 */
public record EpochStats(int epoch, double meanLoss, Double runningTop1, double lr, long samples, double seconds) {

    public double imagesPerSecond() {
        return seconds > 0 ? samples / seconds : 0;
    }
}
