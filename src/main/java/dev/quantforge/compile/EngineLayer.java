package dev.quantforge.compile;

import java.util.List;

/**
 * A layer of the built engine, mapped back to the ONNX model: one row of the report's {@code layers}.
 *
 * @param onnxNodes        the ONNX nodes the layer runs, by the service's node names, in the order TensorRT
 *                         lists them; empty for layers TensorRT made (reformats, parser helpers)
 * @param precision        the precision the layer computes in ({@link LayerInfo#precision()} says how)
 * @param weightsPrecision {@code Weights.Type} as a precision, null for a layer without weights
 * @param tactic           the kernel TensorRT chose, null when the layer info gives only a tactic value
 * @param timeMs           average time per inference from the profile, null when the profile has no record
 * @param percentage       share of the profiled network time, null when the profile has no record
 */
public record EngineLayer(String name, String layerType, List<String> onnxNodes, EnginePrecision precision,
                          List<EngineTensor> inputs, List<EngineTensor> outputs, EnginePrecision weightsPrecision,
                          String tactic, Double timeMs, Double percentage) {

    public EngineLayer {
        onnxNodes = List.copyOf(onnxNodes);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** The first output's type; UNKNOWN when the layer info does not say. */
    public EnginePrecision outputPrecision() {
        return outputs.isEmpty() ? EnginePrecision.UNKNOWN : outputs.get(0).precision();
    }
}
