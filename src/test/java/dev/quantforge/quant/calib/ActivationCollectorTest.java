package dev.quantforge.quant.calib;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.quantforge.dataset.io.NpzDataset;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.quantforge.quant.testdata.Models.MNIST8;
import static org.junit.jupiter.api.Assertions.*;

class ActivationCollectorTest {

    private static final Path CALIB = Path.of("/work/shared/datasets/mnist/mnist8-calib.npz");
    private final ActivationCollector collector = new ActivationCollector();

    /** First input of every Conv / MatMul node. */
    private static List<String> quantizedInputs(OnnxMl.ModelProto model) {
        List<String> names = new ArrayList<>();
        for (OnnxMl.NodeProto node : model.getGraph().getNodeList()) {
            if (node.getOpType().equals("Conv") || node.getOpType().equals("MatMul")) {
                names.add(node.getInput(0));
            }
        }
        return names;
    }

    @Test
    void mnist8ConvAndMatMulInputs() throws Exception {
        OnnxMl.ModelProto model = Graphs.parse(MNIST8);
        List<String> names = quantizedInputs(model);
        assertEquals(List.of("Input3", "Pooling66_Output_0", "Pooling160_Output_0_reshape0"),
                names.subList(0, 3).stream().map(n -> n).toList().size() == 3 ? names.subList(0, 3) : names);
        NpzDataset data = new NpzDataset(CALIB, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        Map<String, String> binding;
        try (OrtModel ort = OrtModel.load(MNIST8)) {
            binding = InputBinding.bind(ort.inputs(), data.tensors());
        }
        List<Double> fractions = new ArrayList<>();
        Map<String, TensorHistogram> hs = collector.collect(model, names, data, binding, 32, Long.MAX_VALUE, 2048,
                (f, phase, message) -> fractions.add(f));
        assertEquals(1.0, fractions.get(fractions.size() - 1));
        TensorHistogram input = hs.get("Input3");
        assertEquals(1.0, input.max());
        assertEquals(0.0, input.min());
        assertEquals(1000L * 784, input.count());
        assertEquals(1000L * 8 * 14 * 14, hs.get("Pooling66_Output_0").count());
        assertEquals(1000L * 256, hs.get("Pooling160_Output_0_reshape0").count());
        for (Map.Entry<String, TensorHistogram> e : hs.entrySet()) {
            TensorHistogram h = e.getValue();
            System.out.printf("mnist-8 %s: count %d min %.4f max %.4f | max %.4f pct %.4f entropy %.4f mse %.4f%n",
                    e.getKey(), h.count(), h.min(), h.max(),
                    Calibrators.compute(h, CalibrationMethod.MAX, CalibrationParams.int8Symmetric()).range().amax(),
                    Calibrators.compute(h, CalibrationMethod.PERCENTILE, CalibrationParams.int8Symmetric()).range().amax(),
                    Calibrators.compute(h, CalibrationMethod.ENTROPY, CalibrationParams.int8Symmetric()).range().amax(),
                    Calibrators.compute(h, CalibrationMethod.MSE, CalibrationParams.int8Symmetric()).range().amax());
        }

        // Cross-check on 5 samples: add the output by hand and run ONNX Runtime directly.
        String tensor = "Pooling66_Output_0";
        Map<String, TensorHistogram> five = collector.collect(model, List.of(tensor), data, binding, 1, 5, 2048, Progress.NONE);
        OnnxMl.GraphProto.Builder graph = model.getGraph().toBuilder().addOutput(OnnxMl.ValueInfoProto.newBuilder()
                .setName(tensor).setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                        OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1))));
        byte[] bytes = model.toBuilder().setGraph(graph).build().toByteArray();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        try (OrtSession session = env.createSession(bytes, new OrtSession.SessionOptions());
             SampleSource.BatchIterator it = data.batches(5, 5)) {
            float[] pixels = it.next().tensors().get(binding.get("Input3")).toFloatArray();
            for (int s = 0; s < 5; s++) {
                float[] one = java.util.Arrays.copyOfRange(pixels, s * 784, (s + 1) * 784);
                try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(one), new long[]{1, 1, 28, 28});
                     OrtSession.Result r = session.run(Map.of("Input3", in), Set.of(tensor))) {
                    float[] out = ((OnnxTensor) r.get(0)).getFloatBuffer().array();
                    for (float v : out) {
                        max = Math.max(max, v);
                        min = Math.min(min, v);
                    }
                }
            }
        }
        assertEquals(max, five.get(tensor).max());
        assertEquals(min, five.get(tensor).min());
        assertEquals(5L * 8 * 14 * 14, five.get(tensor).count());
    }

    @Test
    void unknownTensorIsRefused() {
        OnnxMl.ModelProto model = Graphs.parse(MNIST8);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ActivationCollector.withOutputs(model, Set.of("nope")));
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
    }

    /** mnist-shaped random samples made on the fly (nothing stored); value {@code poison} at sample {@code poisonAt}. */
    private static SampleSource generated(long n, int poisonAt, float poison) {
        return new SampleSource() {
            public List<TensorInfo> tensors() {
                return List.of(new TensorInfo("Input3", ElementType.FLOAT32, List.of(n, 1L, 28L, 28L)));
            }

            public long sampleCount() {
                return n;
            }

            public boolean hasLabels() {
                return false;
            }

            public BatchIterator batches(int batchSize, long maxSamples) {
                long total = Math.min(n, maxSamples);
                Random random = new Random(7);
                return new BatchIterator() {
                    long next = 0;

                    public boolean hasNext() {
                        return next < total;
                    }

                    public Batch next() {
                        int size = (int) Math.min(batchSize, total - next);
                        ByteBuffer bytes = ByteBuffer.allocate(size * 784 * 4).order(ByteOrder.LITTLE_ENDIAN);
                        for (int i = 0; i < size * 784; i++) {
                            bytes.putFloat(random.nextFloat());
                        }
                        if (poisonAt >= next && poisonAt < next + size) {
                            for (int i = 0; i < 784; i++) { // the whole sample
                                bytes.putFloat((int) (poisonAt - next) * 784 * 4 + i * 4, poison);
                            }
                        }
                        bytes.flip();
                        Batch batch = new Batch(next, size, Map.of("Input3",
                                new NdArray(ElementType.FLOAT32, new long[]{size, 1, 28, 28}, bytes)), null);
                        next += size;
                        if (next % 100 == 0) {
                            System.gc(); // keeps garbage from dominating the sampled peak (see memory test)
                        }
                        return batch;
                    }

                    public void close() {
                    }
                };
            }
        };
    }

    private long peakHeapDuring(OnnxMl.ModelProto model, List<String> names, long n) throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long baseline = memory.getHeapMemoryUsage().getUsed();
        AtomicLong peak = new AtomicLong(baseline);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.start();
        Map<String, TensorHistogram> hs = collector.collect(model, names, generated(n, -1, 0), Map.of("Input3", "Input3"),
                1, n, 2048, Progress.NONE);
        running.set(false);
        sampler.join();
        assertEquals(n * 784, hs.get("Input3").count());
        return peak.get() - baseline;
    }

    @Test
    void memoryDoesNotGrowWithTheSampleCount() throws Exception {
        OnnxMl.ModelProto model = Graphs.parse(MNIST8);
        List<String> names = quantizedInputs(model);
        peakHeapDuring(model, names, 200); // warm-up: ORT, JIT, class loading
        long p500 = peakHeapDuring(model, names, 500);
        long p5000 = peakHeapDuring(model, names, 5000);
        System.out.printf("peak heap above baseline: 500 samples %.2f MB, 5000 samples %.2f MB%n", p500 / 1e6, p5000 / 1e6);
        // 8 MB absolute slack absorbs GC timing noise (the sampler sees garbage made between System.gc() calls)
        assertTrue(p5000 <= 1.1 * p500 + 8e6, "500: " + p500 + " B, 5000: " + p5000 + " B");
    }

    @Test
    void nanInTheInputDataNamesTheTensorAndSample() {
        OnnxMl.ModelProto model = Graphs.parse(MNIST8);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> collector.collect(model,
                quantizedInputs(model), generated(50, 17, Float.NaN), Map.of("Input3", "Input3"), 1, 50, 2048, Progress.NONE));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("NaN in model input 'Input3'"), e.getMessage());
        assertTrue(e.getMessage().contains("at sample 17"), e.getMessage());
    }

    @Test
    void overflowInAnActivationNamesTheTensor() {
        OnnxMl.ModelProto model = Graphs.parse(MNIST8);
        List<String> names = quantizedInputs(model);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> collector.collect(model,
                names, generated(30, 12, 3e38f), Map.of("Input3", "Input3"), 1, 30, 2048, Progress.NONE));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().startsWith("calibration data produces"), e.getMessage());
        assertTrue(e.getMessage().contains("at sample 12"), e.getMessage());
    }
}
