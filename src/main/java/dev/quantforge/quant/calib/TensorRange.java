package dev.quantforge.quant.calib;

/**
 * The calibrated range of a float tensor: values outside [min, max] are clipped when quantized.
 * For symmetric quantization only {@link #amax()} matters.
 */
public record TensorRange(double min, double max) {

    public TensorRange {
        if (!(min <= max) || Double.isNaN(min) || Double.isNaN(max) || Double.isInfinite(min) || Double.isInfinite(max)) {
            throw new IllegalArgumentException("invalid range [" + min + ", " + max + "]");
        }
    }

    /** The largest magnitude: the symmetric range is [-amax, amax]. */
    public double amax() {
        return Math.max(Math.abs(min), Math.abs(max));
    }

    /** A symmetric range of the given magnitude. */
    public static TensorRange symmetric(double amax) {
        return new TensorRange(-amax, amax);
    }
}
