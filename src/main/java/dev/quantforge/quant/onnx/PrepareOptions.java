package dev.quantforge.quant.onnx;

/**
 * What {@link GraphPreparer} may change besides the always-needed steps (opset upgrade, initializers
 * removed from the graph inputs, node names).
 *
 * @param foldBatchNorm fold inference-mode BatchNormalization into the Conv that feeds it (default true)
 */
public record PrepareOptions(boolean foldBatchNorm) {

    public static PrepareOptions defaults() {
        return new PrepareOptions(true);
    }
}
