package dev.quantforge.quant.qdq;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.NodeNames;
import dev.quantforge.quant.qdq.QdqPlan.PlannedNode;
import dev.quantforge.quant.qdq.QuantizationSettings.ActivationType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Q/DQ placement.
 *
 * <p><b>Quantized nodes</b>: Conv, ConvTranspose, Gemm, MatMul (weight = an initializer; a MatMul of two
 * activations gets both inputs quantized) and, when {@code quantizeResidualAdd}, an Add whose two inputs
 * are both activations. Weights are quantized per output channel: Conv axis 0, ConvTranspose axis 1,
 * Gemm axis 0 when transB=1 else 1, MatMul [.., K, N] the last axis.
 *
 * <p><b>INT8_SYMMETRIC (TensorRT)</b>: the TensorRT explicit-quantization rule — Q/DQ on the inputs of
 * quantized nodes only; pooling/reshape/concat/activations pass through (TensorRT propagates the scales
 * and fuses Conv+ReLU itself). Bias stays float: TensorRT quantizes the bias on its own.
 *
 * <p><b>UINT8_ASYMMETRIC (ONNX Runtime CPU)</b>: the same input Q/DQ, and additionally, when a quantized
 * input's producer chain back to a quantized node consists only of single-consumer value-preserving or
 * clamping ops (Relu, Clip, MaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity), every
 * tensor of that chain gets a Q/DQ with the chain end's parameters. ONNX Runtime fuses only
 * {@code DQ → Conv → Q} into QLinearConv, so the producer's output needs a Q; with the chain end's
 * range (≥ 0 after a ReLU → zero point 0) ReluQuantFusion/ClipQuantFusion remove the Relu/Clip and the
 * identical parameters let it drop the Q/DQ around MaxPool/Reshape and run them on uint8. This is exact:
 * these ops commute with the monotone quantizer, and clamping before a ReLU equals clamping after it.
 * Average pooling is not in the list (averaging clamped values differs from clamping the average).
 */
public final class QdqPlanner {

    static final Set<String> WEIGHTED_OPS = Set.of("Conv", "ConvTranspose", "Gemm", "MatMul");
    /** Ops y = f(x) with f monotone and value-selecting or clamping: Q(f(x)) = f(Q(x)) with shared parameters. */
    static final Set<String> CHAIN_OPS = Set.of("Relu", "Clip", "MaxPool", "Reshape", "Flatten", "Squeeze",
            "Unsqueeze", "Transpose", "Identity");

    private QdqPlanner() {
    }

    public static QdqPlan plan(OnnxMl.ModelProto model, QuantizationSettings settings) {
        OnnxMl.GraphProto graph = model.getGraph();
        GraphIndex index = new GraphIndex(graph);
        List<String> names = NodeNames.of(graph);
        List<Pattern> patterns = settings.excludePatterns().stream().map(QuantizationSettings::compile).toList();

        List<PlannedNode> planned = new ArrayList<>();
        Set<Integer> quantizedNodeIndexes = new HashSet<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            OnnxMl.NodeProto node = graph.getNode(i);
            if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
                continue;
            }
            PlannedNode p = candidate(node, names.get(i), index, settings);
            if (p == null) {
                continue;
            }
            String reason = exclusion(names.get(i), node.getOpType(), settings, patterns);
            if (reason == null && p.excluded()) {
                reason = p.reason();
            }
            if (reason != null) {
                p = new PlannedNode(p.name(), p.opType(), p.activationInputs(), p.weight(), p.weightAxis(), p.bias(), true, reason);
            } else {
                quantizedNodeIndexes.add(i);
            }
            planned.add(p);
        }

        Map<String, String> tensors = new LinkedHashMap<>();
        for (PlannedNode p : planned) {
            if (p.quantized()) {
                p.activationInputs().forEach(t -> tensors.putIfAbsent(t, t));
            }
        }
        if (settings.activationType() == ActivationType.UINT8_ASYMMETRIC) {
            for (String end : List.copyOf(tensors.keySet())) {
                List<String> chain = new ArrayList<>();
                String current = end;
                while (true) {
                    Integer prod = index.producer.get(current);
                    if (prod == null) {
                        break;
                    }
                    OnnxMl.NodeProto p = graph.getNode(prod);
                    if (quantizedNodeIndexes.contains(prod)) {
                        chain.forEach(t -> tensors.putIfAbsent(t, end));
                        break;
                    }
                    if (!CHAIN_OPS.contains(p.getOpType()) || !p.getDomain().isEmpty() || p.getInputCount() == 0) {
                        break;
                    }
                    String x = p.getInput(0);
                    if (index.isConstant(x) || index.graphOutputs.contains(x) || tensors.containsKey(x)
                            || index.consumersOf(x).size() != 1) {
                        break;
                    }
                    chain.add(x);
                    current = x;
                }
            }
            // A quantized node whose output is not quantized yet: ONNX Runtime fuses DQ → Gemm/MatMul/Conv only
            // with a Q after it, so quantize the output, through a clamping/value-preserving chain, with the
            // chain end's range (its own range when there is no chain).
            for (int i = 0; i < graph.getNodeCount(); i++) {
                OnnxMl.NodeProto n = graph.getNode(i);
                if (!quantizedNodeIndexes.contains(i) || !WEIGHTED_OPS.contains(n.getOpType()) || n.getOutputCount() != 1
                        || tensors.containsKey(n.getOutput(0))) {
                    continue;
                }
                List<String> chain = new ArrayList<>();
                String current = n.getOutput(0);
                chain.add(current);
                while (!index.graphOutputs.contains(current) && index.consumersOf(current).size() == 1) {
                    OnnxMl.NodeProto next = graph.getNode(index.consumersOf(current).get(0));
                    if (!CHAIN_OPS.contains(next.getOpType()) || !next.getDomain().isEmpty() || next.getOutputCount() != 1
                            || !next.getInput(0).equals(current) || tensors.containsKey(next.getOutput(0))) {
                        break;
                    }
                    current = next.getOutput(0);
                    chain.add(current);
                }
                String end = current;
                chain.forEach(t -> tensors.putIfAbsent(t, end));
            }
        }
        return new QdqPlan(planned, tensors, settings);
    }

    /** The node as a quantization candidate, or null when it is not one. */
    private static PlannedNode candidate(OnnxMl.NodeProto node, String name, GraphIndex index, QuantizationSettings settings) {
        String op = node.getOpType();
        List<String> in = node.getInputList();
        switch (op) {
            case "Conv", "ConvTranspose" -> {
                if (in.size() < 2) {
                    return null;
                }
                String bias = in.size() > 2 && index.isInitializer(in.get(2)) ? in.get(2) : null;
                if (!index.isInitializer(in.get(1)) || index.isConstant(in.get(0))) {
                    return new PlannedNode(name, op, List.of(), null, null, null, true, "weight is not an initializer");
                }
                return new PlannedNode(name, op, List.of(in.get(0)), in.get(1), op.equals("Conv") ? 0 : 1, bias, false, null);
            }
            case "Gemm" -> {
                List<String> acts = new ArrayList<>();
                String weight = null;
                Integer axis = null;
                if (!index.isConstant(in.get(0))) {
                    acts.add(in.get(0));
                }
                if (index.isInitializer(in.get(1))) {
                    weight = in.get(1);
                    axis = GraphIndex.attrInt(node, "transB", 0) == 1 ? 0 : 1;
                } else if (!index.isConstant(in.get(1))) {
                    acts.add(in.get(1));
                }
                String bias = in.size() > 2 && weight != null && index.isInitializer(in.get(2)) ? in.get(2) : null;
                if (acts.isEmpty()) {
                    return null;
                }
                return new PlannedNode(name, op, acts, weight, axis, bias, false, null);
            }
            case "MatMul" -> {
                boolean aConst = index.isConstant(in.get(0));
                boolean bConst = index.isConstant(in.get(1));
                if (aConst == bConst) {
                    return aConst ? null : new PlannedNode(name, op, List.of(in.get(0), in.get(1)), null, null, null, false, null);
                }
                if (bConst) {
                    if (!index.isInitializer(in.get(1))) {
                        return new PlannedNode(name, op, List.of(in.get(0)), null, null, null, false, null);
                    }
                    int rank = index.initializers.get(in.get(1)).getDimsCount();
                    return new PlannedNode(name, op, List.of(in.get(0)), in.get(1), rank >= 2 ? rank - 1 : null, null, false, null);
                }
                // constant A: quantized per tensor (its "channels" are rows of the output, not a weight axis)
                return new PlannedNode(name, op, List.of(in.get(1)), index.isInitializer(in.get(0)) ? in.get(0) : null,
                        null, null, false, null);
            }
            case "Add" -> {
                if (!settings.quantizeResidualAdd() || in.size() != 2 || index.isConstant(in.get(0)) || index.isConstant(in.get(1))) {
                    return null;
                }
                return new PlannedNode(name, op, in.get(0).equals(in.get(1)) ? List.of(in.get(0)) : List.of(in.get(0), in.get(1)),
                        null, null, null, false, null);
            }
            default -> {
                return null;
            }
        }
    }

    private static String exclusion(String name, String opType, QuantizationSettings settings, List<Pattern> patterns) {
        if (settings.excludeNodes().contains(name)) {
            return "excluded by name";
        }
        if (settings.excludeOpTypes().contains(opType)) {
            return "excluded by opTypes";
        }
        for (int i = 0; i < patterns.size(); i++) {
            if (patterns.get(i).matcher(name).matches()) {
                return "excluded by pattern '" + settings.excludePatterns().get(i) + "'";
            }
        }
        return null;
    }
}
