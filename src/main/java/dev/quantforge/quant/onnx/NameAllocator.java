package dev.quantforge.quant.onnx;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import ai.onnx.proto.OnnxMl;

/** Hands out tensor and node names that nothing in a graph uses yet ({@code base}, else {@code base_1}, ...). */
public final class NameAllocator {

    private final Set<String> tensors = new HashSet<>();
    private final Set<String> nodes = new HashSet<>();

    public NameAllocator(OnnxMl.GraphProto g) {
        tensors.addAll(Graphs.allNames(g));
        g.getNodeList().forEach(n -> nodes.add(n.getName()));
        nodes.addAll(NodeNames.of(g));
    }

    public String tensor(String base) {
        return Graphs.uniqueName(tensors, base);
    }

    public String node(String base) {
        return Graphs.uniqueName(nodes, base);
    }

    /** A node with one output and an optional integer {@code axis} attribute. */
    public static OnnxMl.NodeProto node(String name, String op, String domain, List<String> inputs, String output) {
        OnnxMl.NodeProto.Builder b = OnnxMl.NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(inputs).addOutput(output);
        if (domain != null) {
            b.setDomain(domain);
        }
        return b.build();
    }

    public static OnnxMl.AttributeProto intAttribute(String name, long value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INT).setI(value).build();
    }
}
