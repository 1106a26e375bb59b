package dev.quantforge.quant.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Measures the latency of {@code OrtSession.run} on the CPU: warm-up runs, then timed runs of the
 * same prepared input (tensor creation is outside the timing; fetching the first output is inside).
 *
 * <p>Input: the first {@code batchSize} samples of the dataset when one is given (fewer if the
 * dataset is smaller; {@code batchSize} in the result is then the real batch). Otherwise random
 * data from a fixed seed: floats uniform in [0, 1), integers 0 or 1 (valid token ids, masks and
 * indices for the models we know); a symbolic first dimension becomes {@code batchSize}, any other
 * symbolic or unknown dimension becomes 1.
 */
public final class LatencyBenchmark {

    /** The onnxruntime Maven artifact the service is built against, if the runtime cannot tell. */
    static final String FALLBACK_ENGINE_VERSION = "1.20.0"; // keep in step with onnxruntime.version in pom.xml
    private static final int PROGRESS_EVERY = 10;

    public BenchmarkResult run(Path onnxFile, BenchmarkSettings settings, SampleSource dataOrNull, Progress progress) {
        try (OrtModel model = OrtModel.load(onnxFile, settings.threads(), OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            return run(model, settings, dataOrNull, progress);
        }
    }

    /** Benchmarks an already loaded model; {@code settings.threads()} is only reported then. */
    public BenchmarkResult run(OrtModel model, BenchmarkSettings settings, SampleSource dataOrNull, Progress progress) {
        return runInterleaved(List.of(model), settings, dataOrNull, progress).get(0);
    }

    /**
     * Benchmarks several models (e.g. FP32 and INT8) in the same run: every iteration runs each
     * model once, in turn, on the same input, so drift of a noisy machine hits all of them alike
     * and their ratio is meaningful. All models must take the same inputs.
     */
    public List<BenchmarkResult> runInterleaved(List<OrtModel> models, BenchmarkSettings settings, SampleSource dataOrNull,
                                                Progress progress) {
        OrtModel first = models.get(0);
        int batchSize = settings.batchSize();
        for (OrtModel model : models) {
            if (model.fixedBatchSize().isPresent() && model.fixedBatchSize().getAsLong() != batchSize) {
                long fixed = model.fixedBatchSize().getAsLong();
                throw new InvalidInputException("model has a fixed batch of " + fixed + "; use batchSize " + fixed);
            }
        }
        Batch batch;
        Map<String, String> binding;
        if (dataOrNull != null) {
            binding = InputBinding.bind(first.inputs(), dataOrNull.tensors());
            batch = firstBatch(dataOrNull, batchSize);
        } else {
            batch = randomBatch(first.inputs(), batchSize);
            binding = new LinkedHashMap<>();
            for (TensorInfo input : first.inputs()) {
                binding.put(input.name(), input.name());
            }
        }

        int total = settings.warmup() + settings.iterations();
        double[][] latenciesMs = new double[models.size()][settings.iterations()];
        List<Map<String, OnnxTensor>> feeds = new java.util.ArrayList<>();
        try {
            for (OrtModel model : models) {
                feeds.add(model.createFeeds(batch, binding, 0, batch.size()));
            }
            for (int i = 0; i < total; i++) {
                for (int m = 0; m < models.size(); m++) {
                    OrtModel model = models.get(m);
                    long start = System.nanoTime();
                    try (OrtSession.Result ignored = model.session().run(feeds.get(m), Set.of(model.outputNames().get(0)))) {
                        long elapsed = System.nanoTime() - start;
                        if (i >= settings.warmup()) {
                            latenciesMs[m][i - settings.warmup()] = elapsed / 1e6;
                        }
                    }
                }
                if ((i + 1) % PROGRESS_EVERY == 0 || i + 1 == total) {
                    progress.update((double) (i + 1) / total, "benchmark",
                            (i < settings.warmup() ? "warm-up " + (i + 1) + "/" + settings.warmup()
                                    : (i + 1 - settings.warmup()) + "/" + settings.iterations() + " iterations"));
                }
            }
        } catch (OrtException e) {
            throw new InvalidInputException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
        } finally {
            feeds.forEach(OnnxValue::close);
        }

        List<BenchmarkResult> results = new java.util.ArrayList<>();
        for (double[] measured : latenciesMs) {
            double[] sorted = measured.clone();
            Arrays.sort(sorted);
            double mean = Arrays.stream(sorted).average().orElse(0);
            BenchmarkResult.LatencyMs latency = new BenchmarkResult.LatencyMs(percentile(sorted, 50), percentile(sorted, 90),
                    percentile(sorted, 99), mean, sorted[0], sorted[sorted.length - 1]);
            double throughput = mean > 0 ? batch.size() / (mean / 1000.0) : 0;
            results.add(new BenchmarkResult(latency, throughput, batch.size(), settings.threads(), settings.iterations(),
                    runtimeInfo(settings.threads())));
        }
        return results;
    }

    /**
     * Nearest-rank percentile of ascending {@code sorted}: the smallest value such that at least
     * {@code p}% of the values are ≤ it, i.e. element {@code ceil(p/100 · n) - 1}. Always one of
     * the measured values, no interpolation.
     */
    public static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static Batch firstBatch(SampleSource data, int batchSize) {
        try (SampleSource.BatchIterator batches = data.batches(batchSize, batchSize)) {
            if (!batches.hasNext()) {
                throw new InvalidInputException("the benchmark dataset has no samples");
            }
            return batches.next();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the benchmark dataset", e);
        }
    }

    static Batch randomBatch(List<TensorInfo> inputs, int batchSize) {
        Random random = new Random(42);
        Map<String, NdArray> tensors = new LinkedHashMap<>();
        for (TensorInfo input : inputs) {
            long[] shape = new long[input.shape().size()];
            for (int axis = 0; axis < shape.length; axis++) {
                Object dim = input.shape().get(axis);
                shape[axis] = dim instanceof Long fixed ? fixed : axis == 0 ? batchSize : 1;
            }
            tensors.put(input.name(), randomArray(input.elementType(), shape, random));
        }
        return new Batch(0, batchSize, tensors, null);
    }

    /** Random data written as float32 or int64; the model's element type is reached by OrtModel's conversion. */
    private static NdArray randomArray(ElementType type, long[] shape, Random random) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        int n = Math.toIntExact(count);
        if (type.isFloatingPoint()) {
            ByteBuffer data = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                data.putFloat(random.nextFloat());
            }
            return new NdArray(ElementType.FLOAT32, shape, data.rewind());
        }
        if (type.isInteger()) {
            ByteBuffer data = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                data.putLong(random.nextInt(2));
            }
            return new NdArray(ElementType.INT64, shape, data.rewind());
        }
        throw new InvalidInputException("cannot make random data for a " + type.apiName() + " input; give a dataset");
    }

    public static BenchmarkResult.RuntimeInfo runtimeInfo(int threads) {
        return new BenchmarkResult.RuntimeInfo("onnxruntime", engineVersion(), "CPUExecutionProvider", threads, hostName());
    }

    static String engineVersion() {
        try {
            String version = OrtEnvironment.getEnvironment().getVersion();
            if (version != null && !version.isBlank()) {
                return version;
            }
        } catch (RuntimeException | LinkageError e) {
            // older native libraries lack the call; the build's version is the best we know
        }
        return FALLBACK_ENGINE_VERSION;
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "unknown" : env;
        }
    }
}
