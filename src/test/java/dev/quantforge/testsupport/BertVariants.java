package dev.quantforge.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import ai.onnx.proto.OnnxMl;

/**
 * The same real BERT graph with another input signature, as other exporters write it: without token_type_ids
 * (DistilBERT-style: the segment ids are computed as zeros inside the graph) or with its inputs renamed
 * (Google BERT's input_mask / segment_ids).
 */
public final class BertVariants {

    private BertVariants() {
    }

    /** {@code model} with the input token_type_ids replaced by {@code Mul(input_ids, 0)}: two inputs, same outputs. */
    public static Path withoutTokenTypeIds(Path model, Path out) {
        OnnxMl.ModelProto m = read(model);
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInputCount(); i++) {
            if (g.getInput(i).getName().equals("token_type_ids")) {
                g.removeInput(i);
                break;
            }
        }
        g.addInitializer(OnnxMl.TensorProto.newBuilder().setName("token_type_ids_zero")
                .setDataType(OnnxMl.TensorProto.DataType.INT64_VALUE).addInt64Data(0));
        g.addNode(0, OnnxMl.NodeProto.newBuilder().setName("token_type_ids_as_zeros").setOpType("Mul")
                .addInput("input_ids").addInput("token_type_ids_zero").addOutput("token_type_ids"));
        return write(m.toBuilder().setGraph(g).build(), out);
    }

    /** {@code model} with its graph inputs renamed (old name → new name) wherever they are read. */
    public static Path withRenamedInputs(Path model, Map<String, String> renames, Path out) {
        OnnxMl.ModelProto m = read(model);
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (OnnxMl.ValueInfoProto.Builder input : g.getInputBuilderList()) {
            input.setName(renames.getOrDefault(input.getName(), input.getName()));
        }
        for (OnnxMl.NodeProto.Builder node : g.getNodeBuilderList()) {
            for (int i = 0; i < node.getInputCount(); i++) {
                node.setInput(i, renames.getOrDefault(node.getInput(i), node.getInput(i)));
            }
        }
        return write(m.toBuilder().setGraph(g).build(), out);
    }

    private static OnnxMl.ModelProto read(Path model) {
        try {
            return OnnxMl.ModelProto.parseFrom(Files.readAllBytes(model));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path write(OnnxMl.ModelProto model, Path out) {
        try {
            Files.write(out, model.toByteArray());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
