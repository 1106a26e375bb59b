package dev.quantforge.compile;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the engine's precision is chosen.
 * <ul>
 *   <li>{@code strongly_typed} ({@code --stronglyTyped}): every tensor has the type the ONNX model gives it;
 *       Q/DQ nodes say where INT8 is. The way to build a QDQ model, and the only one TensorRT 11 keeps.</li>
 *   <li>{@code fp16} / {@code int8} ({@code --fp16}, {@code --int8 --fp16}): weak typing, TensorRT may pick
 *       those types per layer; deprecated since TensorRT 10.12 and removed in TensorRT 11.</li>
 * </ul>
 */
public enum TensorRtPrecision {
    STRONGLY_TYPED, FP16, INT8;

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isWeaklyTyped() {
        return this != STRONGLY_TYPED;
    }

    public static TensorRtPrecision fromApiName(String name) {
        for (TensorRtPrecision p : values()) {
            if (p.apiName().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("precision must be one of " + Arrays.stream(values())
                .map(TensorRtPrecision::apiName).collect(Collectors.joining(", ")) + ", was '" + name + "'");
    }
}
