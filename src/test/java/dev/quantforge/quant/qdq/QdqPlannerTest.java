package dev.quantforge.quant.qdq;

import dev.quantforge.quant.onnx.Graphs;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.qdq.QuantizationSettings.ActivationType;
import dev.quantforge.quant.runtime.OrtModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.quantforge.quant.testdata.Models.*;
import static org.junit.jupiter.api.Assertions.*;

class QdqPlannerTest {

    private static OnnxMl.ModelProto tribuo;
    private static OnnxMl.ModelProto mnist8;

    @BeforeAll
    static void prepare() {
        tribuo = prepare(TRIBUO_CNN);
        mnist8 = prepare(MNIST8);
    }

    /** The engine's preparation: opset 13, named nodes, BatchNorm folded, Q/DQ constant folding. */
    private static OnnxMl.ModelProto prepare(java.nio.file.Path model) {
        return QdqPreparation.apply(new dev.quantforge.quant.onnx.GraphPreparer().prepare(Graphs.parse(model)).model());
    }

    /** Wide dummy ranges for every tensor: enough to write and load, accuracy is tested elsewhere. */
    private static Map<String, TensorRange> ranges(QdqPlan plan) {
        Map<String, TensorRange> r = new HashMap<>();
        plan.activationTensors().forEach(t -> r.put(t, new TensorRange(-1, 10)));
        return r;
    }

    private static OnnxMl.TensorProto init(OnnxMl.ModelProto m, String name) {
        return m.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst().orElse(null);
    }

    private static OnnxMl.NodeProto nodeByName(OnnxMl.ModelProto m, String name) {
        return m.getGraph().getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst().orElseThrow();
    }

    private static void loads(OnnxMl.ModelProto m) {
        try (OrtModel ignored = OrtModel.load(m.toByteArray(), 1, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            // loads
        }
    }

    @Test
    void plansTheQuantizableNodesWithWeightAxes() {
        QdqPlan plan = QdqPlanner.plan(tribuo, QuantizationSettings.defaults(ActivationType.INT8_SYMMETRIC));
        assertEquals(List.of("Conv", "Conv", "Gemm", "Gemm"), plan.nodes().stream().map(QdqPlan.PlannedNode::opType).toList());
        QdqPlan.PlannedNode fc1 = plan.node("Gemm_8");
        assertEquals("fc1.weight", fc1.weight());
        assertEquals(0, fc1.weightAxis()); // transB = 1
        assertEquals("fc1.bias", fc1.bias());
        assertEquals(0, plan.node("Conv_0").weightAxis());
        assertEquals(List.of("input_image"), plan.node("Conv_0").activationInputs());
        // TensorRT rule: the inputs of quantized nodes only
        assertEquals(Set.of("input_image", "11", "16", "18"), plan.activationTensors());
        QdqPlan.PlannedNode matmul = QdqPlanner.plan(mnist8, QuantizationSettings.defaults(ActivationType.INT8_SYMMETRIC)).node("Times212");
        assertEquals(1, matmul.weightAxis()); // [K, N]
    }

    @Test
    void exclusionByNameOpTypeAndPatternKeepsNodesFloat() {
        QuantizationSettings settings = QuantizationSettings.defaults(ActivationType.UINT8_ASYMMETRIC)
                .withExcludes(Set.of("Conv_0"), Set.of("Gemm"), List.of());
        QdqPlan plan = QdqPlanner.plan(tribuo, settings);
        QdqModel qdq = QdqWriter.write(tribuo, plan, ranges(plan), settings);
        Map<String, QuantizedLayer> layers = new HashMap<>();
        qdq.layers().forEach(l -> layers.put(l.node(), l));
        assertEquals("excluded by name", layers.get("Conv_0").reason());
        assertFalse(layers.get("Conv_0").quantized());
        assertEquals("excluded by opTypes", layers.get("Gemm_8").reason());
        assertEquals("excluded by opTypes", layers.get("Gemm_10").reason());
        assertTrue(layers.get("Conv_3").quantized());
        assertNull(layers.get("Conv_3").reason());
        // float weights untouched and still read by their nodes
        for (String w : List.of("conv1.weight", "fc1.weight", "fc2.weight", "fc1.bias")) {
            assertEquals(init(tribuo, w), init(qdq.model(), w), w);
        }
        assertEquals("conv1.weight", nodeByName(qdq.model(), "Conv_0").getInput(1));
        assertEquals("input_image", nodeByName(qdq.model(), "Conv_0").getInput(0));
        assertEquals("fc1.weight", nodeByName(qdq.model(), "Gemm_8").getInput(1));
        assertNull(init(qdq.model(), "conv2.weight")); // quantized, float copy removed
        assertNotNull(init(qdq.model(), "conv2.weight_quantized"));
        loads(qdq.model());

        // patterns: a regex, and a glob that is not a valid regex
        QuantizationSettings byPattern = settings.withExcludes(Set.of(), Set.of(), List.of("Conv_.*", "*_10"));
        QdqPlan p2 = QdqPlanner.plan(tribuo, byPattern);
        assertEquals("excluded by pattern 'Conv_.*'", p2.node("Conv_0").reason());
        assertEquals("excluded by pattern 'Conv_.*'", p2.node("Conv_3").reason());
        assertEquals("excluded by pattern '*_10'", p2.node("Gemm_10").reason());
        assertTrue(p2.node("Gemm_8").quantized());
        QdqModel q2 = QdqWriter.write(tribuo, p2, ranges(p2), byPattern);
        assertEquals(init(tribuo, "conv2.weight"), init(q2.model(), "conv2.weight"));
        loads(q2.model());
    }

    @Test
    void perChannelAndPerTensorWeights() {
        for (boolean perChannel : new boolean[] {true, false}) {
            QuantizationSettings settings = QuantizationSettings.defaults(ActivationType.INT8_SYMMETRIC).withWeightsPerChannel(perChannel);
            QdqPlan plan = QdqPlanner.plan(tribuo, settings);
            QdqModel qdq = QdqWriter.write(tribuo, plan, ranges(plan), settings);
            OnnxMl.NodeProto dq = nodeByName(qdq.model(), "fc1.weight_DequantizeLinear");
            OnnxMl.TensorProto scale = init(qdq.model(), "fc1.weight_scale");
            OnnxMl.TensorProto q = init(qdq.model(), "fc1.weight_quantized");
            assertEquals(OnnxMl.TensorProto.DataType.INT8_VALUE, q.getDataType());
            assertEquals(List.of(50L, 320L), q.getDimsList());
            assertEquals(OnnxMl.TensorProto.DataType.INT8_VALUE, init(qdq.model(), "fc1.weight_zero_point").getDataType());
            if (perChannel) {
                assertEquals(1, dq.getAttributeCount());
                assertEquals("axis", dq.getAttribute(0).getName());
                assertEquals(0, dq.getAttribute(0).getI()); // Gemm transB=1 → output channels on axis 0
                assertEquals(List.of(50L), scale.getDimsList());
                assertEquals(1, nodeByName(qdq.model(), "conv2.weight_DequantizeLinear").getAttribute(0).getI() + 1);
            } else {
                assertEquals(0, dq.getAttributeCount());
                assertEquals(List.of(), scale.getDimsList());
            }
            // weight values round-trip within half a step
            float[] w = Graphs.floats(init(tribuo, "fc1.weight"));
            float[] s = Graphs.floats(scale);
            byte[] qb = q.getRawData().toByteArray();
            for (int i = 0; i < w.length; i++) {
                float step = s[perChannel ? i / 320 : 0];
                assertEquals(w[i], qb[i] * step, step / 2 + 1e-7);
            }
            String granularity = perChannel ? "per_channel" : "per_tensor";
            qdq.layers().forEach(l -> assertEquals(granularity, l.weightGranularity()));
            loads(qdq.model());
        }
        // Gemm without transB: axis 1
        OnnxMl.ModelProto noTrans = transposeFc1(tribuo);
        QdqPlan plan = QdqPlanner.plan(noTrans, QuantizationSettings.defaults(ActivationType.INT8_SYMMETRIC));
        assertEquals(1, plan.node("Gemm_8").weightAxis());
        QdqModel qdq = QdqWriter.write(noTrans, plan, ranges(plan), plan.settings());
        assertEquals(1, nodeByName(qdq.model(), "fc1.weight_DequantizeLinear").getAttribute(0).getI());
        loads(qdq.model());
    }

    private static OnnxMl.ModelProto transposeFc1(OnnxMl.ModelProto m) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            if (g.getInitializer(i).getName().equals("fc1.weight")) {
                float[] w = Graphs.floats(g.getInitializer(i));
                float[] t = new float[w.length];
                for (int r = 0; r < 50; r++) {
                    for (int c = 0; c < 320; c++) {
                        t[c * 50 + r] = w[r * 320 + c];
                    }
                }
                g.setInitializer(i, Graphs.floatTensor("fc1.weight", new long[] {320, 50}, t));
            }
        }
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getName().equals("Gemm_8")) {
                OnnxMl.NodeProto.Builder nb = g.getNode(i).toBuilder().clearAttribute();
                g.getNode(i).getAttributeList().stream().filter(a -> !a.getName().equals("transB")).forEach(nb::addAttribute);
                g.setNode(i, nb);
            }
        }
        return m.toBuilder().setGraph(g).build();
    }

    @Test
    void aTensorFeedingTwoQuantizedNodesGetsOneQdqPair() {
        // x → Conv a, Conv b → Add(a, b) (residual) → y
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("shared");
        OnnxMl.TypeProto type = OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1)
                .setShape(OnnxMl.TensorShapeProto.newBuilder()
                        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(2))
                        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(4))
                        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(4)))).build();
        g.addInput(OnnxMl.ValueInfoProto.newBuilder().setName("x").setType(type));
        g.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("y").setType(type));
        float[] w = new float[2 * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = 0.1f * (i + 1);
        }
        g.addInitializer(Graphs.floatTensor("wa", new long[] {2, 2, 1, 1}, w));
        g.addInitializer(Graphs.floatTensor("wb", new long[] {2, 2, 1, 1}, new float[] {-0.5f, 0.2f, 0.3f, 0.9f}));
        g.addInitializer(Graphs.floatTensor("ba", new long[] {2}, new float[] {0.1f, -0.2f}));
        g.addNode(OnnxMl.NodeProto.newBuilder().setName("conv_a").setOpType("Conv").addInput("x").addInput("wa").addInput("ba").addOutput("a"));
        g.addNode(OnnxMl.NodeProto.newBuilder().setName("conv_b").setOpType("Conv").addInput("x").addInput("wb").addOutput("b"));
        g.addNode(OnnxMl.NodeProto.newBuilder().setName("add").setOpType("Add").addInput("a").addInput("b").addOutput("y"));
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(7).setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(13)).build();

        for (ActivationType type2 : ActivationType.values()) {
            QuantizationSettings settings = QuantizationSettings.defaults(type2);
            QdqPlan plan = QdqPlanner.plan(model, settings);
            assertEquals(List.of("a", "b"), plan.node("add").activationInputs());
            assertEquals(Set.of("x", "a", "b"), plan.activationTensors());
            QdqModel qdq = QdqWriter.write(model, plan, Map.of("x", new TensorRange(-1, 1), "a", new TensorRange(-2, 2),
                    "b", new TensorRange(-3, 3)), settings);
            List<OnnxMl.NodeProto> qOfX = qdq.model().getGraph().getNodeList().stream()
                    .filter(n -> n.getOpType().equals("QuantizeLinear") && n.getInput(0).equals("x")).toList();
            assertEquals(1, qOfX.size());
            assertEquals("x_dequantized", nodeByName(qdq.model(), "conv_a").getInput(0));
            assertEquals("x_dequantized", nodeByName(qdq.model(), "conv_b").getInput(0));
            assertEquals(3, qdq.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("QuantizeLinear")).count());
            // int32 bias only for ORT
            boolean int32Bias = init(qdq.model(), "ba_quantized") != null;
            assertEquals(type2 == ActivationType.UINT8_ASYMMETRIC, int32Bias);
            loads(qdq.model());
        }
        // without quantizeResidualAdd the Add is not a candidate
        QdqPlan noAdd = QdqPlanner.plan(model, QuantizationSettings.defaults(ActivationType.INT8_SYMMETRIC).withQuantizeResidualAdd(false));
        assertNull(noAdd.node("add"));
        assertEquals(Set.of("x"), noAdd.activationTensors());
    }

    @Test
    void uint8ParametersIncludeZeroAndGuardDegenerateRanges() {
        QdqWriter.Params p = QdqWriter.activationParams(new TensorRange(0.5, 2.0), true);
        assertEquals(0, p.zeroPoint()); // range widened to [0, 2]
        assertEquals(2.0 / 255, p.scale(), 1e-7);
        QdqWriter.Params n = QdqWriter.activationParams(new TensorRange(-1.0, 3.0), true);
        assertEquals(64, n.zeroPoint());
        QdqWriter.Params zero = QdqWriter.activationParams(new TensorRange(0, 0), false);
        assertTrue(zero.scale() > 0);
        assertEquals(1.0 / 127, zero.scale(), 1e-7);
    }
}
