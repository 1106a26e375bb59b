package dev.quantforge.quant.onnx;

/**
 * What {@link GraphPreparer} may change besides the always-needed steps (initializers removed from the
 * graph inputs, node names).
 *
 * @param foldBatchNorm  fold inference-mode BatchNormalization into the Conv (or Gemm / MatMul) that feeds it (default true)
 * @param minimumOpset   upgrade the default-domain opset to this when it is lower: 13 for QDQ with per-channel
 *                       DequantizeLinear; the calibration-free modes need only 11 (DynamicQuantizeLinear) and keep
 *                       the graph as exported, since the version converter's rewrites can cost run time
 */
public record PrepareOptions(boolean foldBatchNorm, int minimumOpset) {

    /** For QDQ (static) quantization: opset 13. */
    public PrepareOptions(boolean foldBatchNorm) {
        this(foldBatchNorm, GraphPreparer.TARGET_OPSET);
    }

    public static PrepareOptions defaults() {
        return new PrepareOptions(true);
    }
}
