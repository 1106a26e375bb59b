package dev.quantforge.quant.calib;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.PrefetchingBatchIterator;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one streaming calibration pass: exposes the tensors to calibrate as extra graph outputs,
 * runs the FP32 model over the calibration samples batch by batch in ONNX Runtime and adds every
 * value to that tensor's {@link TensorHistogram}. Only the histograms are kept, so memory does not
 * depend on the number of samples (per batch, the outputs of that batch are held briefly).
 *
 * <p>Three things overlap: the next batch is read (decoded) on its own thread, ONNX Runtime runs the
 * current one, and the previous one's values are histogrammed on a small pool — so the pass costs about
 * one inference pass with the extra outputs (bench/RESULTS.md). At most three batches are held.
 *
 * <p>Tensors that are graph inputs are histogrammed from the feeds. The session uses ONNX Runtime's
 * full optimizations, which never remove or fuse away a graph output, so every requested tensor keeps
 * its FP32 value.
 */
public final class ActivationCollector {

    public static final String PHASE = "calibrate";
    private static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT_VALUE;

    /**
     * @param model       the model to calibrate (not modified)
     * @param tensorNames float tensors to calibrate: node outputs or graph inputs
     * @param binding     model input name → dataset tensor name ({@code InputBinding.bind})
     * @param batchSize   samples per run when the model takes a dynamic batch; fixed-batch models run in
     *                    chunks of their batch
     * @param maxSamples  calibrate on at most this many samples from the start of the dataset
     * @param bins        histogram bins (even, see {@link TensorHistogram})
     * @return tensor name → histogram, in the order of {@code tensorNames}
     * @throws InvalidInputException when a tensor does not exist or is not float, or when the input data
     *                             or an activation holds NaN / Inf
     * @throws dev.quantforge.quant.progress.CancelledException when {@code progress} says stop
     */
    public Map<String, TensorHistogram> collect(OnnxMl.ModelProto model, List<String> tensorNames, SampleSource data,
                                                Map<String, String> binding, int batchSize, long maxSamples, int bins,
                                                Progress progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
        new TensorHistogram(bins); // validates bins before any work
        Set<String> names = new LinkedHashSet<>(tensorNames);
        Set<String> graphInputs = graphInputNames(model.getGraph());
        OnnxMl.ModelProto withOutputs = withOutputs(model, names);

        Map<String, TensorHistogram> histograms = new LinkedHashMap<>();
        names.forEach(n -> histograms.put(n, new TensorHistogram(bins)));
        List<String> fromOutputs = names.stream().filter(n -> !graphInputs.contains(n)).toList();
        Set<String> fetch = new LinkedHashSet<>(fromOutputs);

        long total = Math.min(maxSamples, data.sampleCount());
        progress.update(0, PHASE, "0/" + total + " samples");
        try (OrtModel ort = OrtModel.load(withOutputs.toByteArray(), OrtModel.DEFAULT_THREADS,
                OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            for (String n : names) {
                if (graphInputs.contains(n)) {
                    TensorInfo input = ort.inputs().stream().filter(i -> i.name().equals(n)).findFirst().orElseThrow();
                    if (input.elementType() != ElementType.FLOAT32) {
                        throw new InvalidInputException("tensor '" + n + "' is a " + input.elementType().apiName()
                                + " model input; only float32 tensors can be calibrated");
                    }
                }
            }
            int chunk = ort.hasDynamicBatch() ? batchSize : Math.toIntExact(ort.fixedBatchSize().orElse(1));
            long samples = 0;
            try (SampleSource.BatchIterator batches = new PrefetchingBatchIterator(data.batches(chunk, total));
                 Histogrammer histogrammer = new Histogrammer(histograms, binding)) {
                while (batches.hasNext()) {
                    Batch batch = batches.next();
                    if (!ort.hasDynamicBatch() && batch.size() % chunk != 0) {
                        throw new InvalidInputException("the model has a fixed batch of " + chunk + "; the last "
                                + batch.size() + " of " + total + " calibration samples do not fill a batch "
                                + "(use a sample count that is a multiple of " + chunk + ")");
                    }
                    for (int from = 0; from < batch.size(); from += chunk) {
                        int n = Math.min(chunk, batch.size() - from);
                        long firstSample = batch.firstSample() + from;
                        Map<String, OnnxTensor> feeds = ort.createFeeds(batch, binding, from, n);
                        List<Values> values = new ArrayList<>();
                        try {
                            for (Map.Entry<String, OnnxTensor> feed : feeds.entrySet()) {
                                if (feed.getValue().getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
                                    values.add(Values.of(feed.getKey(), true, feed.getValue().getFloatBuffer()));
                                }
                            }
                            if (!fetch.isEmpty()) {
                                try (OrtSession.Result result = ort.session().run(feeds, fetch)) {
                                    for (String name : fromOutputs) {
                                        Optional<OnnxValue> value = result.get(name);
                                        if (value.isEmpty() || !(value.get() instanceof OnnxTensor tensor)) {
                                            throw new InvalidInputException("tensor '" + name + "' is not a tensor output");
                                        }
                                        if (tensor.getInfo().type != ai.onnxruntime.OnnxJavaType.FLOAT) {
                                            throw new InvalidInputException("tensor '" + name + "' is "
                                                    + tensor.getInfo().type + "; only float32 tensors can be calibrated");
                                        }
                                        values.add(Values.of(name, false, tensor.getFloatBuffer()));
                                    }
                                } catch (OrtException e) {
                                    throw new InvalidInputException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
                                }
                            }
                        } finally {
                            OnnxValue.close(feeds);
                        }
                        // histograms of this chunk are built while ONNX Runtime runs the next one
                        histogrammer.submit(values, n, firstSample);
                    }
                    samples += batch.size();
                    progress.update(total == 0 ? 1.0 : (double) samples / total, PHASE, samples + "/" + total + " samples");
                }
                histogrammer.awaitPending();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the calibration dataset", e);
            }
        }
        return histograms;
    }

    private static int countNonFinite(float[] values, int offset, int length) {
        int bad = 0;
        for (int i = offset; i < offset + length; i++) {
            if (!Float.isFinite(values[i])) {
                bad++;
            }
        }
        return bad;
    }

    private static InvalidInputException nonFinite(String verb, String what, float[] values, int offset, int length,
                                                 int samples, long firstSample) {
        int index = 0;
        while (index < length && Float.isFinite(values[offset + index])) {
            index++;
        }
        float bad = values[offset + index];
        String kind = Float.isNaN(bad) ? "NaN" : bad > 0 ? "+Inf" : "-Inf";
        long sample = length % samples == 0 ? firstSample + index / (length / samples) : firstSample;
        return new InvalidInputException(verb + " " + kind + " in " + what + " at sample " + sample
                + "; check the input preprocessing");
    }

    /** One tensor's values of one chunk: ONNX Runtime's copy out of native memory, not copied again. */
    private record Values(String name, boolean modelInput, float[] array, int offset, int length) {
        static Values of(String name, boolean modelInput, FloatBuffer buffer) {
            if (buffer.hasArray()) {
                return new Values(name, modelInput, buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
            }
            float[] copy = new float[buffer.remaining()];
            buffer.duplicate().get(copy);
            return new Values(name, modelInput, copy, 0, copy.length);
        }
    }

    /**
     * Adds a chunk's values to the histograms on a small pool, one task per tensor, while the caller runs
     * the next chunk: a tensor's histogram is touched by one task at a time because a chunk is submitted
     * only after the previous chunk's tasks are done. At most two chunks of activations are held.
     */
    private static final class Histogrammer implements AutoCloseable {
        private final Map<String, TensorHistogram> histograms;
        private final Map<String, String> datasetTensorOf;
        private final ExecutorService pool;
        private final List<Future<?>> pending = new ArrayList<>();

        Histogrammer(Map<String, TensorHistogram> histograms, Map<String, String> binding) {
            this.histograms = histograms;
            this.datasetTensorOf = binding;
            int threads = Math.max(1, Math.min(histograms.size(), Runtime.getRuntime().availableProcessors()));
            AtomicInteger id = new AtomicInteger();
            this.pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "qf-histogram-" + id.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }

        void submit(List<Values> chunk, int samples, long firstSample) {
            awaitPending();
            for (Values v : chunk) {
                pending.add(pool.submit(() -> add(v, samples, firstSample)));
            }
        }

        private void add(Values v, int samples, long firstSample) {
            TensorHistogram h = histograms.get(v.name());
            int bad = h != null ? h.add(v.array(), v.offset(), v.length()) : countNonFinite(v.array(), v.offset(), v.length());
            if (bad > 0) {
                throw v.modelInput()
                        ? nonFinite("calibration data has", "model input '" + v.name() + "' (dataset tensor '"
                        + datasetTensorOf.get(v.name()) + "')", v.array(), v.offset(), v.length(), samples, firstSample)
                        : nonFinite("calibration data produces", "tensor '" + v.name() + "'", v.array(), v.offset(),
                        v.length(), samples, firstSample);
            }
        }

        void awaitPending() {
            try {
                for (Future<?> f : pending) {
                    f.get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while histogramming", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new IllegalStateException(e.getCause());
            } finally {
                pending.clear();
            }
        }

        @Override
        public void close() {
            pool.shutdownNow();
        }
    }

    /** Graph input names that are not initializers. */
    static Set<String> graphInputNames(OnnxMl.GraphProto graph) {
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        Set<String> inputs = new LinkedHashSet<>();
        for (OnnxMl.ValueInfoProto input : graph.getInputList()) {
            if (!initializers.contains(input.getName())) {
                inputs.add(input.getName());
            }
        }
        return inputs;
    }

    /**
     * A copy of the model in which every requested node output is also a graph output (a
     * ValueInfoProto with elem_type FLOAT and no shape, unless it is already an output).
     *
     * @throws InvalidInputException when a name is not a node output or graph input, is a weight, or is
     *                             declared with a non-float type
     */
    public static OnnxMl.ModelProto withOutputs(OnnxMl.ModelProto model, Set<String> tensorNames) {
        OnnxMl.GraphProto graph = model.getGraph();
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        Set<String> inputs = graphInputNames(graph);
        Set<String> nodeOutputs = new HashSet<>();
        graph.getNodeList().forEach(node -> nodeOutputs.addAll(node.getOutputList()));
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(o -> outputs.add(o.getName()));
        Map<String, Integer> declaredTypes = new HashMap<>();
        List<OnnxMl.ValueInfoProto> declared = new ArrayList<>(graph.getValueInfoList());
        declared.addAll(graph.getOutputList());
        for (OnnxMl.ValueInfoProto v : declared) {
            if (v.getType().hasTensorType()) {
                declaredTypes.put(v.getName(), v.getType().getTensorType().getElemType());
            }
        }

        OnnxMl.GraphProto.Builder builder = graph.toBuilder();
        List<String> unknown = new ArrayList<>();
        for (String name : tensorNames) {
            if (inputs.contains(name)) {
                continue;
            }
            if (initializers.contains(name)) {
                throw new InvalidInputException("tensor '" + name + "' is a weight (initializer); weights are "
                        + "calibrated from their values, not from the calibration data");
            }
            if (!nodeOutputs.contains(name)) {
                unknown.add(name);
                continue;
            }
            Integer type = declaredTypes.get(name);
            if (type != null && type != 0 && type != FLOAT) {
                throw new InvalidInputException("tensor '" + name + "' has ONNX element type " + type
                        + "; only float32 tensors can be calibrated");
            }
            if (!outputs.contains(name)) {
                builder.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(name)
                        .setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                                OnnxMl.TypeProto.Tensor.newBuilder().setElemType(FLOAT))));
                outputs.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new InvalidInputException("the model has no tensor named " + String.join(", ",
                    unknown.stream().map(n -> "'" + n + "'").toList())
                    + " (calibrate node outputs or graph inputs, by the names in the ONNX graph)");
        }
        return model.toBuilder().setGraph(builder).build();
    }
}
