package dev.quantforge.quant.onnx;

import java.nio.file.Path;

import dev.quantforge.quant.InvalidInputException;

/** ONNX's own model checker (the C++ {@code onnx::checker::check_model}, with shape inference: its "full check"). */
public final class OnnxChecker {

    private OnnxChecker() {
    }

    /**
     * @throws InvalidInputException with the checker's message when the model is not valid ONNX
     */
    public static void check(Path model) {
        try {
            // full check (strict shape inference), opset compatibility checked, custom domains (com.microsoft) not
            org.bytedeco.onnx.global.onnx.check_model(model.toString(), true, false, false);
        } catch (RuntimeException e) {
            throw new InvalidInputException("the ONNX checker refuses " + model.getFileName() + ": " + e.getMessage(), e);
        }
    }
}
