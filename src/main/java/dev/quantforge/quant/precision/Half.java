package dev.quantforge.quant.precision;

/** IEEE 754 binary16 conversion (Java 17 has no {@code Float.floatToFloat16}). */
final class Half {

    /** The largest finite FP16 value. */
    static final double MAX = 65504;

    private static final int F32_INFINITY = 255 << 23;
    private static final int F16_MAX_AS_F32 = (127 + 16) << 23;
    private static final int DENORMAL_MAGIC = ((127 - 15) + (23 - 10) + 1) << 23;

    private Half() {
    }

    /** Round to nearest even; overflow to ±Inf, NaN stays NaN (F. Giesen's float_to_half_fast3_rtne). */
    static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = bits & 0x80000000;
        int u = bits ^ sign;
        int out;
        if (u >= F16_MAX_AS_F32) {
            out = u > F32_INFINITY ? 0x7e00 : 0x7c00;
        } else if (u < (113 << 23)) {
            // subnormal or zero: adding the magic float aligns the 10 mantissa bits at the bottom, rounding to nearest even
            float f = Float.intBitsToFloat(u) + Float.intBitsToFloat(DENORMAL_MAGIC);
            out = Float.floatToRawIntBits(f) - DENORMAL_MAGIC;
        } else {
            int mantissaOdd = (u >>> 13) & 1;
            u += ((15 - 127) << 23) + 0xfff;
            u += mantissaOdd;
            out = u >>> 13;
        }
        return (short) (out | (sign >>> 16));
    }

    /** The float an FP16 bit pattern stands for. */
    static float toFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
