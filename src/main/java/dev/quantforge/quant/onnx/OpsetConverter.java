package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import dev.quantforge.quant.InvalidInputException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnx.ModelProto;

import java.io.IOException;
import java.util.HashSet;
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
            return convertNative(model, targetOpset);
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
            if (!ModelInspector.isDefaultDomain(node.getDomain())) {
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
