package dev.quantforge.quant.calib;

import java.util.Locale;

/** How an activation range is chosen from its histogram. */
public enum CalibrationMethod {
    /** The observed min / max. */
    MAX,
    /** The given percentile of |x| (default 99.99). */
    PERCENTILE,
    /** Minimum KL divergence between the float and the quantized distribution (TensorRT's entropy calibration). */
    ENTROPY,
    /** Minimum expected squared quantization error (clipping + rounding). */
    MSE,
    /** Per tensor, the method with the lowest expected quantization error. */
    AUTO;

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CalibrationMethod fromApiName(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
