package dev.quantforge.compile;

import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The engine's precision against the QDQ plan: which nodes the Q/DQ placement meant to run in INT8 that
 * TensorRT runs otherwise.
 *
 * <p><b>Planned INT8</b>: a Conv, ConvTranspose or Gemm whose activation (input 0) and weights (input 1)
 * come from DequantizeLinear nodes; a MatMul whose two inputs do; an Add, MaxPool, AveragePool or
 * GlobalAveragePool all of whose inputs do.
 *
 * <p><b>Not INT8 as planned</b>, for a planned node in engine layer L (the layer whose ONNX nodes include it):
 * <ol>
 *   <li>L computes in a float type ({@link LayerInfo#precision()}), or its weights are not INT8;</li>
 *   <li>a quantized input of the node enters L in a float type (TensorRT did not fuse that DequantizeLinear);</li>
 *   <li>L writes a float tensor that the model quantizes (a QuantizeLinear reads it): TensorRT could not fuse
 *       the quantization into L, keeps the value in float and runs the QuantizeLinear as a layer of its own.
 *       This is what a residual Add without Q/DQ on its shortcut input does: the shortcut must stay float, so
 *       the Conv producing it writes float, and the {@code Conv + Add} layer reading it writes float too.</li>
 * </ol>
 * A planned node no layer names is listed in {@link Result#unmatchedNodes()}, not judged.
 */
public final class Int8PlanCheck {

    private static final Set<String> WEIGHTED = Set.of("Conv", "ConvTranspose", "Gemm");
    private static final Set<String> ALL_INPUTS_QUANTIZED = Set.of("MatMul", "Add", "MaxPool", "AveragePool",
            "GlobalAveragePool");
    private static final String DEQUANTIZE = "DequantizeLinear";
    private static final String QUANTIZE = "QuantizeLinear";

    private Int8PlanCheck() {
    }

    /**
     * @param plannedInt8Nodes every node the plan meant to run in INT8, in graph order
     * @param notInt8AsPlanned those the engine runs otherwise, in graph order
     * @param unmatchedNodes   planned nodes that no engine layer names
     */
    public record Result(List<String> plannedInt8Nodes, List<NotInt8AsPlanned> notInt8AsPlanned, List<String> unmatchedNodes) {
        public Result {
            plannedInt8Nodes = List.copyOf(plannedInt8Nodes);
            notInt8AsPlanned = List.copyOf(notInt8AsPlanned);
            unmatchedNodes = List.copyOf(unmatchedNodes);
        }
    }

    public static Result check(OnnxMl.ModelProto qdqModel, List<EngineLayer> layers) {
        return check(new OnnxGraphIndex(qdqModel), layers);
    }

    static Result check(OnnxGraphIndex model, List<EngineLayer> layers) {
        Map<String, EngineLayer> layerOfNode = new HashMap<>();
        for (EngineLayer layer : layers) {
            for (String node : layer.onnxNodes()) {
                layerOfNode.putIfAbsent(node, layer);
            }
        }
        List<String> planned = new ArrayList<>();
        List<NotInt8AsPlanned> deviations = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();
        for (int i = 0; i < model.size(); i++) {
            String name = model.name(i);
            OnnxMl.NodeProto node = model.node(i);
            List<Integer> quantizedInputs = plannedQuantizedInputs(model, node);
            if (quantizedInputs == null) {
                continue;
            }
            planned.add(name);
            EngineLayer layer = layerOfNode.get(name);
            if (layer == null) {
                unmatched.add(name);
                continue;
            }
            String reason = deviation(model, node, quantizedInputs, layer);
            if (reason != null) {
                deviations.add(new NotInt8AsPlanned(name, node.getOpType(), layer.name(), layer.precision(),
                        layer.outputPrecision(), reason));
            }
        }
        return new Result(planned, deviations, unmatched);
    }

    /** Indexes of the inputs the plan quantizes when the node is planned INT8, else null. */
    private static List<Integer> plannedQuantizedInputs(OnnxGraphIndex model, OnnxMl.NodeProto node) {
        if (!node.getDomain().isEmpty()) {
            return null;
        }
        List<Integer> required;
        if (WEIGHTED.contains(node.getOpType())) {
            required = List.of(0, 1);
        } else if (ALL_INPUTS_QUANTIZED.contains(node.getOpType())) {
            required = new ArrayList<>();
            for (int k = 0; k < node.getInputCount(); k++) {
                if (!node.getInput(k).isEmpty()) {
                    required.add(k);
                }
            }
        } else {
            return null;
        }
        if (required.isEmpty() || node.getInputCount() <= required.get(required.size() - 1)) {
            return null;
        }
        for (int k : required) {
            if (!isDequantized(model, node.getInput(k))) {
                return null;
            }
        }
        return required;
    }

    private static boolean isDequantized(OnnxGraphIndex model, String tensor) {
        return model.producer(tensor).map(p -> model.node(p).getOpType().equals(DEQUANTIZE)).orElse(false);
    }

    private static String deviation(OnnxGraphIndex model, OnnxMl.NodeProto node, List<Integer> quantizedInputs,
                                    EngineLayer layer) {
        String precision = layer.precision().apiName().toUpperCase();
        if (layer.weightsPrecision() != null && !layer.weightsPrecision().isQuantized()
                && WEIGHTED.contains(node.getOpType())) {
            return "its layer holds the weights as " + layer.weightsPrecision().apiName().toUpperCase()
                    + " and computes in " + precision + ": TensorRT dequantized the INT8 weights instead of using an "
                    + "INT8 kernel (check that the weight DequantizeLinear has a constant input and a supported axis)";
        }
        Map<String, EngineTensor> inputs = byName(layer.inputs());
        for (int k : quantizedInputs) {
            if (WEIGHTED.contains(node.getOpType()) && k == 1) {
                continue; // weights are judged by Weights.Type above
            }
            int dq = model.producer(node.getInput(k)).orElseThrow();
            String quantizedTensor = model.node(dq).getInput(0);
            EngineTensor entering = inputs.get(quantizedTensor);
            if (entering != null && isFloat(entering.precision())) {
                return "its input '" + quantizedTensor + "' enters the layer as " + entering.precision().apiName().toUpperCase()
                        + ", not INT8: TensorRT did not fuse " + model.name(dq) + " into it and computes in " + precision;
            }
        }
        if (isFloat(layer.precision())) {
            return "its layer computes in " + precision + " (inputs " + precisions(layer.inputs()) + ")";
        }
        for (EngineTensor output : layer.outputs()) {
            if (!isFloat(output.precision()) || !model.hasTensor(output.name())) {
                continue;
            }
            List<String> quantizers = new ArrayList<>();
            List<String> floatReaders = new ArrayList<>();
            for (int c : model.consumers(output.name())) {
                (model.node(c).getOpType().equals(QUANTIZE) ? quantizers : floatReaders).add(model.name(c));
            }
            if (quantizers.isEmpty()) {
                continue; // the plan keeps this tensor in float too
            }
            String written = "the layer writes '" + output.name() + "' as " + output.precision().apiName().toUpperCase()
                    + " although " + String.join(", ", quantizers) + " quantizes it, so TensorRT runs "
                    + (quantizers.size() == 1 ? "that QuantizeLinear" : "those QuantizeLinears") + " as a separate layer";
            if (!floatReaders.isEmpty()) {
                return written + ": '" + output.name() + "' also feeds " + String.join(", ", floatReaders)
                        + " without Q/DQ, which needs it in float (quantize that input too, e.g. the residual Add's shortcut)";
            }
            String floatInput = floatInputReadInside(model, layer);
            if (floatInput != null) {
                return written + ": " + floatInput + ", which keeps the fused result in float (quantize that input too, "
                        + "e.g. the residual Add's shortcut)";
            }
            return written;
        }
        return null;
    }

    /** "the fused Add_144 reads '410' as FP16 (no Q/DQ on that input)" for a float layer input read by a node of the layer. */
    private static String floatInputReadInside(OnnxGraphIndex model, EngineLayer layer) {
        Set<String> nodesOfLayer = Set.copyOf(layer.onnxNodes());
        for (EngineTensor input : layer.inputs()) {
            if (!isFloat(input.precision())) {
                continue;
            }
            for (int c : model.consumers(input.name())) {
                if (nodesOfLayer.contains(model.name(c))) {
                    return "the fused " + model.name(c) + " reads '" + input.name() + "' as "
                            + input.precision().apiName().toUpperCase() + " (no Q/DQ on that input)";
                }
            }
        }
        return null;
    }

    private static boolean isFloat(EnginePrecision p) {
        return p.isFloatingPoint() && !p.isQuantized();
    }

    private static Map<String, EngineTensor> byName(List<EngineTensor> tensors) {
        Map<String, EngineTensor> map = new LinkedHashMap<>();
        tensors.forEach(t -> map.putIfAbsent(t.name(), t));
        return map;
    }

    private static String precisions(List<EngineTensor> tensors) {
        return tensors.stream().map(t -> t.precision().apiName().toUpperCase()).collect(Collectors.joining(", "));
    }
}
