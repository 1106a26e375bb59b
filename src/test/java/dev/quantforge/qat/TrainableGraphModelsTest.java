package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quantforge.dataset.io.NpzDataset;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.onnx.PrepareOptions;
import dev.quantforge.testsupport.SharedData;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared models converted to TrainableGraph match ONNX Runtime FP32; gradients train; export runs in ORT. */
class TrainableGraphModelsTest {

    static final double TOLERANCE = 1e-4;

    static OnnxMl.ModelProto prepared(String relative) throws IOException {
        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(SharedData.file(relative)));
        return new GraphPreparer().prepare(model, new PrepareOptions(false)).model();
    }

    /** The first {@code n} mnist8-eval images as [1, 1, 28, 28] samples, and their labels. */
    static List<float[]> mnistImages(int n, long[] labels) throws IOException {
        NpzDataset data = new NpzDataset(SharedData.file("mnist/mnist8-eval.npz"), Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        List<float[]> images = new ArrayList<>();
        try (SampleSource.BatchIterator it = data.batches(n, n)) {
            Batch batch = it.next();
            float[] all = batch.tensors().values().iterator().next().toFloatArray();
            int per = all.length / batch.size();
            for (int i = 0; i < batch.size(); i++) {
                float[] one = new float[per];
                System.arraycopy(all, i * per, one, 0, per);
                images.add(one);
                if (labels != null) {
                    labels[i] = batch.labels()[i];
                }
            }
        }
        return images;
    }

    static long[] inputShape(OnnxMl.ModelProto model, int batch) {
        OnnxMl.ValueInfoProto input = model.getGraph().getInput(0);
        List<OnnxMl.TensorShapeProto.Dimension> dims = input.getType().getTensorType().getShape().getDimList();
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.get(i).hasDimValue() && dims.get(i).getDimValue() > 0 ? dims.get(i).getDimValue() : (i == 0 ? batch : 1);
        }
        return shape;
    }

    static float[] ort(OnnxMl.ModelProto model, float[] input, long[] shape) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession session = env.createSession(model.toByteArray(), options);
                 OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape);
                 OrtSession.Result result = session.run(Map.of(model.getGraph().getInput(0).getName(), tensor))) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                FloatBuffer fb = out.getFloatBuffer();
                float[] values = new float[fb.remaining()];
                fb.get(values);
                return values;
            }
        }
    }

    static float[] djl(TrainableGraph graph, NDManager manager, float[] input, long[] shape) {
        try (NDManager step = manager.newSubManager()) {
            NDArray x = step.create(input, new Shape(shape));
            NDList out = graph.forward(Map.of(graph.inputNames().get(0), x), false);
            return out.get(0).toFloatArray();
        }
    }

    static double maxError(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]) / Math.max(1.0, Math.abs(expected[i])));
        }
        return worst;
    }

    void assertMatchesOrt(String name, OnnxMl.ModelProto model, List<float[]> samples, int batch) throws Exception {
        try (NDManager manager = QatTestEngine.get().newManager();
             TrainableGraph graph = TrainableGraph.of(model, manager)) {
            long[] shape = inputShape(model, batch);
            double worst = 0;
            for (float[] sample : samples) {
                worst = Math.max(worst, maxError(ort(model, sample, shape), djl(graph, manager, sample, shape)));
            }
            System.out.printf("%s: %d inputs of shape %s, max relative error vs ONNX Runtime %.2e, %d parameters%n",
                    name, samples.size(), java.util.Arrays.toString(shape), worst, graph.parameters().size());
            assertTrue(worst <= TOLERANCE, name + ": max relative error " + worst);
        }
    }

    @Test
    void mnist8MatchesOnnxRuntime() throws Exception {
        assertMatchesOrt("mnist-8", prepared("mnist/mnist-8.onnx"), mnistImages(8, null), 1);
    }

    @Test
    void tribuoCnnMatchesOnnxRuntime() throws Exception {
        assertMatchesOrt("tribuo CNN", prepared("mnist/tribuo-pytorch_cnn_mnist.onnx"), mnistImages(8, null), 1);
    }

    @Test
    void cifarNetWithBatchNormMatchesOnnxRuntime() throws Exception {
        OnnxMl.ModelProto model = prepared("cifar10-mlperftiny-ic/model_ic.onnx");
        assertTrue(model.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("BatchNormalization")));
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        List<float[]> batches = new ArrayList<>();
        int batch = 4;
        String[] classes = {"airplane", "cat", "ship", "truck"};
        float[] data = new float[batch * 3 * 32 * 32];
        for (int b = 0; b < batch; b++) {
            Path file = SharedData.file("cifar10-mlperftiny-ic/test-jpeg/" + classes[b] + "/0000.jpg");
            BufferedImage image = ImageIO.read(file.toFile());
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int rgb = image.getRGB(x, y);
                    for (int c = 0; c < 3; c++) {
                        int v = (rgb >> (16 - 8 * c)) & 0xff;
                        data[((b * 3 + c) * 32 + y) * 32 + x] = (v / 255f - mean[c]) / std[c];
                    }
                }
            }
        }
        batches.add(data);
        assertMatchesOrt("CIFAR net", model, batches, batch);
    }

    @Test
    void oneSgdStepLowersTheLossAndTheExportRunsInOnnxRuntime() throws Exception {
        OnnxMl.ModelProto model = prepared("mnist/mnist-8.onnx");
        long[] labels = new long[32];
        List<float[]> images = mnistImages(32, labels);
        long[] shape = inputShape(model, 1);
        try (NDManager manager = QatTestEngine.get().newManager();
             TrainableGraph graph = TrainableGraph.of(model, manager)) {
            assertTrue(graph.parameters().size() >= 6, "parameters: " + graph.parameters().keySet());
            double before;
            try (NDManager step = manager.newSubManager();
                 GradientCollector collector = manager.getEngine().newGradientCollector()) {
                NDArray loss = loss(graph, step, images, labels, shape);
                before = loss.getFloat();
                collector.backward(loss);
            }
            float lr = 0.001f;
            for (NDArray p : graph.parameters().values()) {
                NDArray grad = p.getGradient();
                assertTrue(grad.abs().sum().getFloat() > 0, "no gradient for " + p.getName());
                p.stopGradient().subi(grad.mul(lr)); // through a detached view: grad mode may be on in this thread
            }
            graph.zeroGradients();
            for (NDArray p : graph.parameters().values()) {
                assertEquals(0f, p.getGradient().abs().sum().getFloat(), "gradient of " + p.getName() + " zeroed");
            }
            double after;
            try (NDManager step = manager.newSubManager()) {
                after = loss(graph, step, images, labels, shape).getFloat();
            }
            System.out.printf("mnist-8, 32 images: cross-entropy %.5f → %.5f after one SGD step (lr %.3f)%n", before, after, lr);
            assertTrue(after < before, "loss " + before + " → " + after);

            OnnxMl.ModelProto exported = graph.export();
            float[] trained = djl(graph, manager, images.get(0), shape);
            assertTrue(maxError(ort(exported, images.get(0), shape), trained) <= TOLERANCE);
            assertTrue(maxError(ort(model, images.get(0), shape), trained) > 0, "the export carries the trained weights");
        }
    }

    static NDArray loss(TrainableGraph graph, NDManager step, List<float[]> images, long[] labels, long[] shape) {
        NDArray total = null;
        for (int i = 0; i < images.size(); i++) {
            NDArray x = step.create(images.get(i), new Shape(shape));
            NDArray logits = graph.forward(Map.of(graph.inputNames().get(0), x), true).get(0);
            NDArray nll = logits.logSoftmax(1).get(new NDIndex(0, labels[i])).neg();
            total = total == null ? nll : total.add(nll);
        }
        return total.div(images.size());
    }

    @Test
    void unsupportedOpsAreNamed() {
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder()
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(OnnxMl.GraphProto.newBuilder()
                        .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("a"))
                        .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Resize").addInput("a").addOutput("b"))
                        .addNode(OnnxMl.NodeProto.newBuilder().setOpType("LayerNormalization").addInput("b").addOutput("c"))
                        .addNode(OnnxMl.NodeProto.newBuilder().setDomain("com.microsoft").setOpType("Gelu").addInput("c").addOutput("d")))
                .build();
        assertEquals(Set.of("LayerNormalization", "Resize", "com.microsoft:Gelu"), TrainableGraph.unsupportedOps(model));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> TrainableGraph.of(model, null));
        assertTrue(e.getMessage().contains("Resize"), e.getMessage());
        assertNull(null);
    }
}
