package dev.quantforge.quant.calib;

/**
 * Settings of the histogram calibrators.
 *
 * @param percentile    percentile of |x| for {@link CalibrationMethod#PERCENTILE}, in (0, 100]; default 99.99
 * @param symmetric     true: int8 symmetric range [-amax, amax] (TensorRT); false: asymmetric uint8 range
 *                      [min, max] that always contains 0 (ORT CPU)
 * @param numQuantBins  quantized levels per side for the entropy search: 128 for int8 symmetric, 256 for
 *                      uint8 (pytorch-quantization's {@code 1 << (num_bits - 1 + unsigned)}); the
 *                      quantization grid has {@code 2·(numQuantBins-1)} steps over [-amax, amax] when
 *                      symmetric (scale amax/127) and {@code numQuantBins-1} steps over [min, max] otherwise
 * @param startBin      first candidate threshold bin of the entropy search (pytorch-quantization: 128)
 * @param stride        step between candidate bins of the entropy and MSE searches (default 1)
 */
public record CalibrationParams(double percentile, boolean symmetric, int numQuantBins, int startBin, int stride) {

    public static final double DEFAULT_PERCENTILE = 99.99;

    public CalibrationParams {
        if (!(percentile > 0 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], was " + percentile);
        }
        if (numQuantBins < 2) {
            throw new IllegalArgumentException("numQuantBins must be >= 2, was " + numQuantBins);
        }
        if (startBin < 1) {
            throw new IllegalArgumentException("startBin must be >= 1, was " + startBin);
        }
        if (stride < 1) {
            throw new IllegalArgumentException("stride must be >= 1, was " + stride);
        }
    }

    /** startBin 128 and stride 1, as pytorch-quantization. */
    public CalibrationParams(double percentile, boolean symmetric, int numQuantBins) {
        this(percentile, symmetric, numQuantBins, 128, 1);
    }

    /** int8 symmetric, percentile 99.99. */
    public static CalibrationParams int8Symmetric() {
        return new CalibrationParams(DEFAULT_PERCENTILE, true, 128);
    }

    /** uint8 asymmetric, percentile 99.99. */
    public static CalibrationParams uint8Asymmetric() {
        return new CalibrationParams(DEFAULT_PERCENTILE, false, 256);
    }

    public CalibrationParams withPercentile(double p) {
        return new CalibrationParams(p, symmetric, numQuantBins, startBin, stride);
    }

    public CalibrationParams withStride(int s) {
        return new CalibrationParams(percentile, symmetric, numQuantBins, startBin, s);
    }
}
