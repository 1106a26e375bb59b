package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.List;

/**
 * The FP32 model made ready for QDQ quantization, and what was done to it.
 *
 * @param model the prepared model: default-domain opset ≥ 13, IR ≥ 7, every node uniquely named
 * @param steps human-readable steps in the order they were applied ("opset 8 → 13",
 *              "folded 26 BatchNormalization into Conv", ...); empty when nothing had to change
 */
public record PreparedModel(OnnxMl.ModelProto model, List<String> steps) {

    public PreparedModel {
        steps = List.copyOf(steps);
    }
}
