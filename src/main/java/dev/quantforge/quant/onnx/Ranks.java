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
        Map<String, Integer> ranks = declared(graph);
        propagate(graph, ranks);
        return ranks;
    }

    /**
     * The ranks ONNX shape inference tells for {@code model}, completed by {@link #propagate}: inference stops at ops
     * whose shapes depend on values it cannot see, propagation alone at an op with an input of unknown rank; together
     * they reach every MatMul of a BERT export.
     */
    public static Map<String, Integer> of(OnnxMl.ModelProto model) {
        Map<String, Integer> ranks = ShapeInference.ranks(model);
        ranks.putAll(declared(model.getGraph()));
        propagate(model.getGraph(), ranks);
        return ranks;
    }

    private static Map<String, Integer> declared(OnnxMl.GraphProto graph) {
        Map<String, Integer> ranks = new HashMap<>();
        for (List<OnnxMl.ValueInfoProto> list : List.of(graph.getInputList(), graph.getValueInfoList())) {
            for (OnnxMl.ValueInfoProto v : list) {
                if (v.getType().hasTensorType() && v.getType().getTensorType().hasShape()) {
                    ranks.put(v.getName(), v.getType().getTensorType().getShape().getDimCount());
                }
            }
        }
        return ranks;
    }

    /**
     * Adds the ranks the ops imply, in graph order: Transpose (its perm's length), MatMul (the larger input rank, both at
     * least 2), Gather (data rank − 1 + indices rank), Reshape by a constant shape (its length), Flatten (2), reductions
     * that keep dims, Constant (its value's), and elementwise ops (the largest input rank).
     */
    public static void propagate(OnnxMl.GraphProto g, Map<String, Integer> ranks) {
        Map<String, OnnxMl.TensorProto> constants = new HashMap<>();
        Map<String, Integer> lengths = new HashMap<>();
        g.getInitializerList().forEach(t -> {
            ranks.putIfAbsent(t.getName(), t.getDimsCount());
            constants.put(t.getName(), t);
        });
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            if (n.getOpType().equals("Constant")) {
                n.getAttributeList().stream().filter(a -> a.getName().equals("value")).findFirst().ifPresent(a -> constants.put(n.getOutput(0), a.getT()));
            }
            if (n.getOutputCount() == 0) {
                continue;
            }
            Integer length = length(n, ranks, lengths, constants);
            if (length != null) {
                lengths.put(n.getOutput(0), length);
            }
            if (ranks.containsKey(n.getOutput(0))) {
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
                    if (shape != null && shape.getDimsCount() == 1) {
                        yield (int) shape.getDims(0);
                    }
                    yield n.getInputCount() > 1 ? lengths.get(n.getInput(1)) : null;
                }
                case "Flatten" -> 2;
                case "Shape" -> 1;
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

    /**
     * The static length of a 1-D shape-like tensor a node computes (a BERT export builds its Reshape shapes at run time
     * from Shape → Gather → Unsqueeze → Concat): its values vary, its length does not, and the length is the rank of what
     * a Reshape by it produces.
     */
    private static Integer length(OnnxMl.NodeProto n, Map<String, Integer> ranks, Map<String, Integer> lengths,
                                  Map<String, OnnxMl.TensorProto> constants) {
        return switch (n.getOpType()) {
            case "Shape" -> n.getAttributeList().stream().anyMatch(a -> a.getName().equals("start") || a.getName().equals("end"))
                    ? null : ranks.get(n.getInput(0));
            case "Unsqueeze" -> Integer.valueOf(0).equals(ranks.get(n.getInput(0))) && n.getInputCount() <= 2 ? 1 : null;
            case "Concat" -> {
                int sum = 0;
                for (String in : n.getInputList()) {
                    OnnxMl.TensorProto c = constants.get(in);
                    Integer l = c != null && c.getDimsCount() == 1 ? Integer.valueOf((int) c.getDims(0)) : lengths.get(in);
                    if (l == null) {
                        yield null;
                    }
                    sum += l;
                }
                yield sum;
            }
            case "Cast", "Identity" -> lengths.get(n.getInput(0));
            default -> null;
        };
    }
}
