package dev.quantforge.quant.onnx;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import ai.onnx.proto.OnnxMl;

/**
 * Tensor ranks from the graph's structure alone, where exporters (PyTorch) compute shapes at run time and ONNX shape
 * inference leaves them unknown: cheap (no values are read), so the planner can ask it every time. Unknown stays absent.
 */
public final class Ranks {

    private static final Set<String> ELEMENTWISE = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Erf", "Sqrt", "Relu", "Tanh", "Sigmoid",
            "Cast", "Identity", "Softmax", "LogSoftmax", "Neg", "Exp", "Where", "Equal", "Not", "Clip", "LeakyRelu", "Gelu",
            "LayerNormalization", "BatchNormalization", "Dropout");

    private Ranks() {
    }

    /** The ranks of {@code graph}'s inputs, initializers, value_info and what {@link #propagate} derives from them. */
    public static Map<String, Integer> of(OnnxMl.GraphProto graph) {
        Map<String, Integer> ranks = new HashMap<>();
        for (List<OnnxMl.ValueInfoProto> list : List.of(graph.getInputList(), graph.getValueInfoList())) {
            for (OnnxMl.ValueInfoProto v : list) {
                if (v.getType().hasTensorType() && v.getType().getTensorType().hasShape()) {
                    ranks.put(v.getName(), v.getType().getTensorType().getShape().getDimCount());
                }
            }
        }
        propagate(graph, ranks);
        return ranks;
    }

    /**
     * Adds the ranks the ops imply, in graph order: Transpose (its perm's length), MatMul (the larger input rank, both at
     * least 2), Gather (data rank − 1 + indices rank), Reshape by a constant shape (its length), Flatten (2), reductions
     * that keep dims, Constant (its value's), and elementwise ops (the largest input rank).
     */
    public static void propagate(OnnxMl.GraphProto g, Map<String, Integer> ranks) {
        Map<String, OnnxMl.TensorProto> constants = new HashMap<>();
        g.getInitializerList().forEach(t -> {
            ranks.putIfAbsent(t.getName(), t.getDimsCount());
            constants.put(t.getName(), t);
        });
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            if (n.getOpType().equals("Constant")) {
                n.getAttributeList().stream().filter(a -> a.getName().equals("value")).findFirst().ifPresent(a -> constants.put(n.getOutput(0), a.getT()));
            }
            if (n.getOutputCount() == 0 || ranks.containsKey(n.getOutput(0))) {
                continue;
            }
            List<Integer> in = n.getInputList().stream().filter(i -> !i.isEmpty()).map(ranks::get).toList();
            boolean allKnown = !in.isEmpty() && in.stream().allMatch(Objects::nonNull);
            Integer first = in.isEmpty() ? null : in.get(0);
            Integer rank = switch (n.getOpType()) {
                case "Transpose" -> n.getAttributeList().stream().filter(a -> a.getName().equals("perm")).map(OnnxMl.AttributeProto::getIntsCount)
                        .findFirst().orElse(first);
                case "MatMul" -> allKnown && in.stream().allMatch(r -> r >= 2) ? Collections.max(in) : null;
                case "Gather" -> allKnown && in.size() == 2 ? in.get(0) - 1 + in.get(1) : null;
                case "Reshape" -> {
                    OnnxMl.TensorProto shape = n.getInputCount() > 1 ? constants.get(n.getInput(1)) : null;
                    yield shape != null && shape.getDimsCount() == 1 ? (int) shape.getDims(0) : null;
                }
                case "Flatten" -> 2;
                case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin" -> Graphs.intAttribute(n, "keepdims", 1) == 1 ? first : null;
                case "Constant" -> n.getAttributeList().stream().filter(a -> a.getName().equals("value")).map(a -> a.getT().getDimsCount())
                        .findFirst().orElse(null);
                default -> ELEMENTWISE.contains(n.getOpType()) && allKnown ? Collections.max(in) : null;
            };
            if (rank != null) {
                ranks.put(n.getOutput(0), rank);
            }
        }
    }
}
