package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import dev.quantforge.quant.InvalidInputException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnx.ModelProto;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.bytedeco.onnx.global.onnx.ConvertVersion;
import static org.bytedeco.onnx.global.onnx.ParseProtoFromBytes;

/**
 * Upgrades the default-domain opset with the official ONNX version converter (C++, through
 * Bytedeco's JavaCPP presets). The converter rewrites each op whose signature changed (Squeeze/
 * Unsqueeze/Split/ReduceSum axes → inputs, Clip/Pad/Slice attributes → inputs, Upsample → Resize,
 * old Softmax semantics → Flatten/Softmax/Reshape, BatchNormalization spatial, ...) and refuses ops it
 * has no adapter for; a refusal becomes a {@link InvalidInputException} naming the op.
 */
final class OpsetConverter {

    private OpsetConverter() {
    }

    static OnnxMl.ModelProto convert(OnnxMl.ModelProto model, int targetOpset) {
        try {
            return restoreLastAxisSoftmax(model, convertNative(model, targetOpset));
        } catch (RuntimeException converterError) {
            if (converterError instanceof InvalidInputException) {
                throw converterError;
            }
            throw refusal(model, targetOpset, converterError);
        }
    }

    private static OnnxMl.ModelProto convertNative(OnnxMl.ModelProto model, int targetOpset) {
        byte[] bytes = model.toByteArray();
        try (BytePointer in = new BytePointer(bytes); ModelProto source = new ModelProto()) {
            if (!ParseProtoFromBytes(source, in, bytes.length)) {
                throw new InvalidInputException("the ONNX version converter cannot read the model");
            }
            try (ModelProto converted = ConvertVersion(source, targetOpset);
                 BytePointer serialized = converted.SerializeAsString()) {
                CodedInputStream coded = CodedInputStream.newInstance(serialized.asByteBuffer());
                coded.setSizeLimit(Integer.MAX_VALUE);
                coded.setRecursionLimit(1000);
                return OnnxMl.ModelProto.parseFrom(coded);
            }
        } catch (IOException e) {
            throw new InvalidInputException("the ONNX version converter produced an unreadable model: " + e.getMessage(), e);
        }
    }

    private static final Set<String> SOFTMAX_LIKE = Set.of("Softmax", "LogSoftmax", "Hardmax");

    /**
     * The converter turns every pre-13 Softmax into Flatten → Softmax → Reshape(Shape(x)), because the old op flattened
     * at {@code axis}. For {@code axis = -1} (what PyTorch exports for attention) the old and the new op compute the same
     * thing, so the chain is put back to one Softmax(axis = -1): three ops fewer per attention layer, and nothing between
     * the attention scores and their Softmax for ONNX Runtime's fusions and the quantizer to trip over.
     */
    static OnnxMl.ModelProto restoreLastAxisSoftmax(OnnxMl.ModelProto original, OnnxMl.ModelProto converted) {
        Map<String, Long> axes = new java.util.HashMap<>(); // node name → its axis attribute (pre-13 default 1)
        for (OnnxMl.NodeProto n : original.getGraph().getNodeList()) {
            if (SOFTMAX_LIKE.contains(n.getOpType()) && Graphs.isDefaultDomain(n.getDomain()) && !n.getName().isEmpty()) {
                axes.put(n.getName(), n.getAttributeList().stream().filter(a -> a.getName().equals("axis")).mapToLong(OnnxMl.AttributeProto::getI)
                        .findFirst().orElse(1));
            }
        }
        if (axes.isEmpty()) {
            return converted;
        }
        Map<String, Integer> ranks = axes.containsValue(-1L) && axes.values().stream().allMatch(a -> a == -1) ? Map.of() : inferredRanks(original);
        Set<String> lastAxis = new HashSet<>();
        for (OnnxMl.NodeProto n : original.getGraph().getNodeList()) {
            Long axis = axes.get(n.getName());
            Integer rank = axis == null ? null : ranks.get(n.getInput(0));
            if (axis != null && (axis == -1 || (rank != null && axis == rank - 1))) {
                lastAxis.add(n.getName());
            }
        }
        if (lastAxis.isEmpty()) {
            return converted;
        }
        OnnxMl.GraphProto g = converted.getGraph();
        Map<String, OnnxMl.NodeProto> producer = new java.util.HashMap<>();
        Map<String, java.util.List<OnnxMl.NodeProto>> consumers = new java.util.HashMap<>();
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            n.getOutputList().forEach(o -> producer.put(o, n));
            n.getInputList().forEach(i -> consumers.computeIfAbsent(i, k -> new java.util.ArrayList<>()).add(n));
        }
        Set<OnnxMl.NodeProto> drop = new HashSet<>();
        Map<OnnxMl.NodeProto, OnnxMl.NodeProto> replace = new java.util.HashMap<>();
        for (OnnxMl.NodeProto sm : g.getNodeList()) {
            if (!lastAxis.contains(sm.getName()) || sm.getInputCount() != 1) {
                continue;
            }
            OnnxMl.NodeProto flatten = producer.get(sm.getInput(0));
            java.util.List<OnnxMl.NodeProto> after = consumers.getOrDefault(sm.getOutput(0), java.util.List.of());
            if (flatten == null || !flatten.getOpType().equals("Flatten") || after.size() != 1 || !after.get(0).getOpType().equals("Reshape")
                    || consumers.getOrDefault(flatten.getOutput(0), java.util.List.of()).size() != 1) {
                continue;
            }
            OnnxMl.NodeProto reshape = after.get(0);
            OnnxMl.NodeProto shape = producer.get(reshape.getInput(1));
            if (shape == null || !shape.getOpType().equals("Shape") || !shape.getInput(0).equals(flatten.getInput(0))) {
                continue;
            }
            OnnxMl.NodeProto.Builder one = sm.toBuilder().setInput(0, flatten.getInput(0)).setOutput(0, reshape.getOutput(0)).clearAttribute()
                    .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis").setType(OnnxMl.AttributeProto.AttributeType.INT).setI(-1));
            replace.put(sm, one.build());
            drop.add(flatten);
            drop.add(reshape);
            if (consumers.getOrDefault(shape.getOutput(0), java.util.List.of()).size() == 1) {
                drop.add(shape);
            }
        }
        if (replace.isEmpty()) {
            return converted;
        }
        OnnxMl.GraphProto.Builder b = g.toBuilder().clearNode().clearValueInfo();
        Set<String> gone = new HashSet<>();
        drop.forEach(n -> gone.addAll(n.getOutputList()));
        replace.keySet().forEach(n -> gone.addAll(n.getOutputList()));
        replace.values().forEach(n -> gone.removeAll(n.getOutputList()));
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            if (!drop.contains(n)) {
                b.addNode(replace.getOrDefault(n, n));
            }
        }
        g.getValueInfoList().stream().filter(v -> !gone.contains(v.getName())).forEach(b::addValueInfo);
        return converted.toBuilder().setGraph(b).build();
    }

    /** The rank of every tensor ONNX shape inference can tell, completed by structural propagation. */
    private static Map<String, Integer> inferredRanks(OnnxMl.ModelProto model) {
        return Ranks.of(model);
    }

    /**
     * The converter's own messages rarely name the node, so each default-domain node is converted
     * alone (with the initializers it reads) to find the first one it refuses.
     */
    private static InvalidInputException refusal(OnnxMl.ModelProto model, int targetOpset, RuntimeException error) {
        Long from = Graphs.defaultOpset(model);
        OnnxMl.GraphProto graph = model.getGraph();
        Map<String, OnnxMl.TensorProto> initializers = Graphs.initializers(graph);
        var names = NodeNames.of(graph);
        Set<String> triedOps = new HashSet<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            OnnxMl.NodeProto node = graph.getNode(i);
            if (!Graphs.isDefaultDomain(node.getDomain())) {
                continue;
            }
            String key = node.getOpType() + "|" + node.getAttributeList() + "|" + node.getInputCount();
            if (!triedOps.add(key)) {
                continue;
            }
            try {
                convertNative(singleNode(model, node, initializers), targetOpset);
            } catch (RuntimeException nodeError) {
                return new InvalidInputException("cannot upgrade the model from opset " + from + " to " + targetOpset
                        + ": op " + node.getOpType() + " (node '" + names.get(i) + "') of opset " + from
                        + " has no safe conversion: " + clean(nodeError.getMessage()), error);
            }
        }
        return new InvalidInputException("cannot upgrade the model from opset " + from + " to " + targetOpset + ": "
                + clean(error.getMessage()), error);
    }

    private static OnnxMl.ModelProto singleNode(OnnxMl.ModelProto model, OnnxMl.NodeProto node,
                                                Map<String, OnnxMl.TensorProto> initializers) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("probe");
        Set<String> seen = new HashSet<>();
        for (String input : node.getInputList()) {
            if (input.isEmpty() || !seen.add(input)) {
                continue;
            }
            OnnxMl.TensorProto init = initializers.get(input);
            if (init != null) {
                g.addInitializer(init);
            }
            g.addInput(OnnxMl.ValueInfoProto.newBuilder().setName(input));
        }
        for (String output : node.getOutputList()) {
            if (!output.isEmpty()) {
                g.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(output));
            }
        }
        g.addNode(node);
        return model.toBuilder().setGraph(g).build();
    }

    private static String clean(String message) {
        if (message == null) {
            return "unknown converter error";
        }
        return message.replaceAll("\\S*/include/", "");
    }
}
