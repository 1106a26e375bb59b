package dev.quantforge.quant.calib;

/**
 * A calibrated range.
 *
 * @param range       the range to quantize with ([-amax, amax] when symmetric)
 * @param methodUsed  the method that produced it (for {@link CalibrationMethod#AUTO}: the one picked)
 * @param expectedMse expected squared quantization error per value (clipping + rounding) of this range,
 *                    estimated from the histogram (see {@link Calibrators#expectedMse})
 */
public record CalibrationResult(TensorRange range, CalibrationMethod methodUsed, double expectedMse) {
}
