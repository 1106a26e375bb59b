package dev.quantforge.compile;

import java.util.List;

/**
 * One layer of {@code trtexec --exportLayerInfo} output (built with {@code --profilingVerbosity=detailed}),
 * the fields this service reads.
 *
 * @param name          TensorRT's layer name (fused ONNX node names joined with " + ", or a TensorRT-made name)
 * @param layerType     {@code LayerType} ("CaskConvolution", "Reformat", "TiledPooling", "kgen", ...)
 * @param weightsType   {@code Weights.Type} ("Int8", "Float", "Half"), null when the layer has no weights
 * @param tacticName    {@code TacticName}, null when TensorRT gives only a tactic value
 * @param origin        {@code Origin} ("QDQ" for a Q/DQ TensorRT runs on its own, "REFORMAT"), null when absent
 * @param metadata      {@code Metadata} (TensorRT 8.6+: "[ONNX Layer: a]\x1f[ONNX Layer: b]"), null when absent
 */
public record LayerInfo(String name, String layerType, List<EngineTensor> inputs, List<EngineTensor> outputs,
                        String weightsType, String tacticName, String origin, String metadata) {

    public LayerInfo {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /**
     * The precision the layer computes in, derived because the layer info has no precision field:
     * <ol>
     *   <li>a layer with weights computes in INT8 when its weights and its first (data) input are INT8
     *       (also FP8/INT4 when both say so); otherwise in the first input's type. The first input is the
     *       activation a Conv/Gemm multiplies with the weights; a second input of a fused {@code Conv + Add}
     *       is the residual, which is added after the integer product and does not change the math;</li>
     *   <li>a layer without weights computes in INT8 when every input is INT8 (an INT8 Add, pooling, or
     *       concat), otherwise in the widest float type among its inputs: a float input means the
     *       layer dequantizes and computes in float (a QuantizeLinear reformat reads FP16 and so reports
     *       FP16: its input is what it computes on);</li>
     *   <li>when no input names a type (layer info without formats), the first output's type;</li>
     *   <li>when no tensor names one either, the tactic name's markers ({@link EnginePrecision#fromTacticName}).</li>
     * </ol>
     * Example from the fixture {@code mobilenet.qat}: {@code features.3.conv.2.weight + QuantizeLinear_138 +
     * Conv_142 + Add_144} has Int8 weights, inputs (Int8, FP16) and an FP16 output: INT8 math whose fused
     * residual Add reads an FP16 shortcut and writes FP16.
     */
    public EnginePrecision precision() {
        EnginePrecision weights = weightsType == null ? null : EnginePrecision.fromFormat(weightsType);
        EnginePrecision first = inputs.isEmpty() ? EnginePrecision.UNKNOWN : inputs.get(0).precision();
        if (weights != null && first != EnginePrecision.UNKNOWN) {
            return weights.isQuantized() && weights == first ? weights : first;
        }
        EnginePrecision fromInputs = fromInputs();
        if (fromInputs != EnginePrecision.UNKNOWN) {
            return fromInputs;
        }
        if (!outputs.isEmpty() && outputs.get(0).precision() != EnginePrecision.UNKNOWN) {
            return outputs.get(0).precision();
        }
        return EnginePrecision.fromTacticName(tacticName);
    }

    /** The first output's type; UNKNOWN when the layer info does not say. */
    public EnginePrecision outputPrecision() {
        return outputs.isEmpty() ? EnginePrecision.UNKNOWN : outputs.get(0).precision();
    }

    private EnginePrecision fromInputs() {
        if (inputs.isEmpty()) {
            return EnginePrecision.UNKNOWN;
        }
        EnginePrecision widestFloat = null;
        boolean allQuantized = true;
        EnginePrecision quantized = null;
        for (EngineTensor input : inputs) {
            EnginePrecision p = input.precision();
            if (p == EnginePrecision.UNKNOWN) {
                return EnginePrecision.UNKNOWN;
            }
            if (p.isQuantized()) {
                quantized = quantized == null ? p : quantized;
            } else {
                allQuantized = false;
            }
            if (p.isFloatingPoint() && !p.isQuantized()) {
                widestFloat = widestFloat == null ? p : EnginePrecision.widerFloat(widestFloat, p);
            }
        }
        if (allQuantized) {
            return quantized;
        }
        if (widestFloat != null) {
            return widestFloat;
        }
        return inputs.get(0).precision(); // integer or bool data (indices, masks)
    }
}
