package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NodeNamesTest {

    private static OnnxMl.NodeProto node(String name, String opType) {
        return OnnxMl.NodeProto.newBuilder().setName(name).setOpType(opType).build();
    }

    @Test
    void keepsOwnNamesAndGeneratesStableUniqueOnes() {
        List<OnnxMl.NodeProto> nodes = List.of(
                node("", "Conv"),          // 0 → Conv_0
                node("a", "Relu"),         // 1 → a
                node("a", "Relu"),         // 2 → duplicate → Relu_2
                node("", "MatMul"),        // 3 → MatMul_3 is taken by node 4 → MatMul_3_1
                node("MatMul_3", "Add"));  // 4 → keeps its own name
        assertEquals(List.of("Conv_0", "a", "Relu_2", "MatMul_3_1", "MatMul_3"), NodeNames.of(nodes));
        assertEquals(NodeNames.of(nodes), NodeNames.of(nodes));
    }
}
