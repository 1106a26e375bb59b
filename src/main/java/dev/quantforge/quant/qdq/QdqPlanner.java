package dev.quantforge.quant.qdq;

import dev.quantforge.quant.onnx.Ranks;
import dev.quantforge.quant.onnx.GraphIndex;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.NodeNames;
import dev.quantforge.quant.ops.OpRegistry;
import dev.quantforge.quant.ops.OpRule;
import dev.quantforge.quant.ops.OpRule.Role;
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
 * <p><b>Quantized nodes</b>: the {@link OpRegistry}'s weighted ops (Conv, ConvTranspose, Gemm, MatMul) and, when
 * {@code quantizeResidualAdd}, an Add whose two inputs are both activations; the registry says which inputs
 * of each and the weight's channel axis.
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
                    if (!OpRegistry.hasRole(p, Role.SCALE_PASS_THROUGH) || p.getInputCount() == 0) {
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
            // A quantized Conv whose output is not quantized yet: ONNX Runtime fuses DQ → Conv only with a Q after
            // it, so quantize the output, through a clamping/value-preserving chain, with the chain end's range (its
            // own range when there is no chain). MatMul and Gemm fuse without it (see OpRule.floatOutputFuses).
            Map<String, Integer> ranks = Ranks.of(model);
            for (int i = 0; i < graph.getNodeCount(); i++) {
                OnnxMl.NodeProto n = graph.getNode(i);
                if (!quantizedNodeIndexes.contains(i) || !OpRegistry.hasRole(n, Role.WEIGHTED) || n.getOutputCount() != 1
                        || tensors.containsKey(n.getOutput(0)) || OpRegistry.of(n).map(r -> r.floatOutputFuses().test(n, ranks)).orElse(false)) {
                    continue;
                }
                List<String> chain = new ArrayList<>();
                String current = n.getOutput(0);
                chain.add(current);
                while (!index.graphOutputs.contains(current) && index.consumersOf(current).size() == 1) {
                    OnnxMl.NodeProto next = graph.getNode(index.consumersOf(current).get(0));
                    if (!OpRegistry.hasRole(next, Role.SCALE_PASS_THROUGH) || next.getOutputCount() != 1
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

    /** The node as a quantization candidate, or null when it is not one (its rule in the {@link OpRegistry}). */
    private static PlannedNode candidate(OnnxMl.NodeProto node, String name, GraphIndex index, QuantizationSettings settings) {
        OpRule rule = OpRegistry.of(node).orElse(null);
        if (rule == null || rule.uses() == null || (rule.role() == Role.RESIDUAL_ADD && !settings.quantizeResidualAdd())) {
            return null;
        }
        OpRule.NodeUse use = rule.uses().of(node, index);
        if (use == null) {
            return null;
        }
        if (rule.role() == Role.RESIDUAL_ADD && !settings.quantizeNormalizationInputs()) {
            String norm = normalizationConsumer(node, index);
            if (norm != null) {
                return new PlannedNode(name, node.getOpType(), use.activationInputs(), null, null, null, true, "its sum goes into " + norm
                        + " (a transformer's residual or attention-mask Add): kept float, quantizeNormalizationInputs turns it on");
            }
        }
        return new PlannedNode(name, node.getOpType(), use.activationInputs(), use.weight(), use.weightAxis(), use.bias(),
                use.notQuantizedWhy() != null, use.notQuantizedWhy());
    }

    /** The op type of a consumer that normalizes the node's output (Softmax, LayerNormalization, the ReduceMean of a decomposed one), or null. */
    private static String normalizationConsumer(OnnxMl.NodeProto node, GraphIndex index) {
        for (int c : index.consumersOf(node.getOutput(0))) {
            String op = index.graph.getNode(c).getOpType();
            if (NORMALIZING_OPS.contains(op)) {
                return op;
            }
        }
        return null;
    }

    private static final Set<String> NORMALIZING_OPS = Set.of("Softmax", "LayerNormalization", "ReduceMean", "SimplifiedLayerNormalization",
            "SkipLayerNormalization");

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
