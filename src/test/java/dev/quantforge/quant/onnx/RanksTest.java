package dev.quantforge.quant.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.onnx.proto.OnnxMl;

class RanksTest {

    /** A BERT export's runtime-built Reshape shape: Shape → Gather → Unsqueeze, Concat with a constant, Reshape. */
    @Test
    void aReshapeByARuntimeShapeHasTheRankOfThatShapesLength() {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder()
                .addInput(input("x", 3))
                .addInitializer(Graphs.int64Tensor("zero", new long[0], new long[]{0}))
                .addInitializer(Graphs.int64Tensor("axes", new long[]{1}, new long[]{0}))
                .addInitializer(Graphs.int64Tensor("rest", new long[]{2}, new long[]{-1, 64}))
                .addNode(node("Shape", "shape", "x"))
                .addNode(node("Gather", "batch", "shape", "zero"))
                .addNode(node("Unsqueeze", "batch1", "batch", "axes"))
                .addNode(node("Concat", "newShape", "batch1", "rest").toBuilder()
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis").setType(OnnxMl.AttributeProto.AttributeType.INT).setI(0)))
                .addNode(node("Reshape", "y", "x", "newShape"))
                .addNode(node("Relu", "z", "y"));
        Map<String, Integer> ranks = Ranks.of(g.build());
        assertThat(ranks).containsEntry("shape", 1).containsEntry("batch", 0).containsEntry("y", 3).containsEntry("z", 3);
    }

    private static OnnxMl.ValueInfoProto input(String name, int rank) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (int i = 0; i < rank; i++) {
            shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("d" + i));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(Graphs.FLOAT).setShape(shape))).build();
    }

    private static OnnxMl.NodeProto node(String op, String output, String... inputs) {
        OnnxMl.NodeProto.Builder b = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(output + "_node").addOutput(output);
        for (String in : inputs) {
            b.addInput(in);
        }
        return b.build();
    }
}
