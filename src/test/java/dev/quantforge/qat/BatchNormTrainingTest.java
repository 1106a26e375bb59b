package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.Graphs;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** BatchNormalization in training mode: batch statistics, ONNX momentum update of the running stats; or frozen. */
class BatchNormTrainingTest {

    static final int N = 2;
    static final int C = 3;
    static final int HW = 4;

    static OnnxMl.ModelProto model() {
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(OnnxMl.GraphProto.newBuilder()
                        .addInput(OnnxMl.ValueInfoProto.newBuilder().setName("x"))
                        .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("y"))
                        .addInitializer(Graphs.floatTensor("s", new long[]{C}, new float[]{1f, 2f, 0.5f}))
                        .addInitializer(Graphs.floatTensor("b", new long[]{C}, new float[]{0f, 1f, -1f}))
                        .addInitializer(Graphs.floatTensor("m", new long[]{C}, new float[]{0.1f, 0.2f, 0.3f}))
                        .addInitializer(Graphs.floatTensor("v", new long[]{C}, new float[]{1f, 2f, 3f}))
                        .addNode(OnnxMl.NodeProto.newBuilder().setOpType("BatchNormalization").setName("bn")
                                .addInput("x").addInput("s").addInput("b").addInput("m").addInput("v").addOutput("y")
                                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("momentum").setF(0.8f)
                                        .setType(OnnxMl.AttributeProto.AttributeType.FLOAT))))
                .build();
    }

    @Test
    void trainingUsesBatchStatisticsAndUpdatesRunningStats() {
        float[] x = new float[N * C * HW];
        Random random = new Random(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian() * 2 + 1;
        }
        float[] s = {1f, 2f, 0.5f};
        float[] b = {0f, 1f, -1f};
        float[] m = {0.1f, 0.2f, 0.3f};
        float[] v = {1f, 2f, 3f};
        float[] expectedY = new float[x.length];
        float[] expectedMean = new float[C];
        float[] expectedVar = new float[C];
        for (int c = 0; c < C; c++) {
            double sum = 0;
            double sq = 0;
            for (int n = 0; n < N; n++) {
                for (int k = 0; k < HW; k++) {
                    sum += x[(n * C + c) * HW + k];
                }
            }
            double mean = sum / (N * HW);
            for (int n = 0; n < N; n++) {
                for (int k = 0; k < HW; k++) {
                    double d = x[(n * C + c) * HW + k] - mean;
                    sq += d * d;
                }
            }
            double var = sq / (N * HW);
            for (int n = 0; n < N; n++) {
                for (int k = 0; k < HW; k++) {
                    int i = (n * C + c) * HW + k;
                    expectedY[i] = (float) ((x[i] - mean) / Math.sqrt(var + 1e-5) * s[c] + b[c]);
                }
            }
            expectedMean[c] = (float) (m[c] * 0.8 + mean * 0.2);
            expectedVar[c] = (float) (v[c] * 0.8 + var * 0.2);
        }
        try (NDManager manager = QatTestEngine.get().newManager();
             TrainableGraph graph = TrainableGraph.of(model(), manager)) {
            assertEquals(java.util.Set.of("s", "b"), graph.parameters().keySet());
            assertEquals(java.util.Set.of("m", "v"), graph.buffers().keySet());

            graph.setBatchNormFrozen(true);
            NDArray input = manager.create(x, new Shape(N, C, 2, 2));
            float[] frozen = graph.forward(Map.of("x", input), true).get(0).toFloatArray();
            float[] inference = graph.forward(Map.of("x", input), false).get(0).toFloatArray();
            assertArrayEquals(inference, frozen, 1e-6f);
            assertArrayEquals(m, graph.buffers().get("m").toFloatArray(), 0f);

            graph.setBatchNormFrozen(false);
            float[] y = graph.forward(Map.of("x", input), true).get(0).toFloatArray();
            assertArrayEquals(expectedY, y, 1e-4f);
            assertArrayEquals(expectedMean, graph.buffers().get("m").toFloatArray(), 1e-5f);
            assertArrayEquals(expectedVar, graph.buffers().get("v").toFloatArray(), 1e-5f);

            OnnxMl.ModelProto exported = graph.export();
            assertArrayEquals(expectedMean, Graphs.floats(Graphs.initializer(exported.getGraph(), "m").orElseThrow()), 1e-5f);
        }
    }
}
