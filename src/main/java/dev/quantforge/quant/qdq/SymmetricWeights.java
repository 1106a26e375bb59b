package dev.quantforge.quant.qdq;

/**
 * Symmetric integer weights: per channel along {@code axis} (or per tensor), scale = amax / qmax, values
 * rounded to nearest and clamped to [-qmax, qmax]; a channel that is all zeros gets scale 1. Shared by the
 * QDQ writer and the calibration-free (dynamic) quantizer.
 *
 * @param axis     the channel axis actually used (null: per tensor)
 * @param amaxMax  the largest channel amax
 */
public record SymmetricWeights(int[] values, float[] scales, Integer axis, long[] dims, double amaxMax) {

    public static SymmetricWeights quantize(float[] w, long[] dims, Integer axis, int qmax) {
        if (axis != null && (axis >= dims.length || dims[axis] <= 1 && dims.length == 0)) {
            axis = null;
        }
        int channels = axis == null ? 1 : (int) dims[axis];
        long inner = 1;
        if (axis != null) {
            for (int d = axis + 1; d < dims.length; d++) {
                inner *= dims[d];
            }
        }
        double[] amax = new double[channels];
        for (int i = 0; i < w.length; i++) {
            int c = axis == null ? 0 : (int) ((i / inner) % channels);
            amax[c] = Math.max(amax[c], Math.abs(w[i]));
        }
        float[] scales = new float[channels];
        double amaxMax = 0;
        for (int c = 0; c < channels; c++) {
            scales[c] = amax[c] > 0 ? (float) (amax[c] / qmax) : 1f;
            amaxMax = Math.max(amaxMax, amax[c]);
        }
        int[] q = new int[w.length];
        for (int i = 0; i < w.length; i++) {
            int c = axis == null ? 0 : (int) ((i / inner) % channels);
            q[i] = (int) Math.max(-qmax, Math.min(qmax, Math.rint(w[i] / scales[c])));
        }
        return new SymmetricWeights(q, scales, axis, dims, amaxMax);
    }

    public int channels() {
        return scales.length;
    }
}
