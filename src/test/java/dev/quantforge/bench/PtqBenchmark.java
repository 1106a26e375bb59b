package dev.quantforge.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;

import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.dataset.io.ImageFolderDataset;
import dev.quantforge.dataset.io.NpzDataset;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.calib.ActivationCollector;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.onnx.PrepareOptions;
import dev.quantforge.quant.onnx.PreparedModel;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.OrtFusionCheck;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqPlanner;
import dev.quantforge.quant.qdq.QdqPreparation;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.quant.runtime.CpuFeatures;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.quant.pipeline.LatencyPair;
import dev.quantforge.quant.pipeline.PostTrainingQuantization;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.testsupport.SharedData;

/**
 * The PTQ engine, directly (no service): (1) the cost of one calibration pass
 * ({@code ActivationCollector.collect}) against plain FP32 inference over the same samples, and
 * (2) FP32 vs INT8 (QDQ, uint8 asymmetric, entropy) latency of every shared model that quantizes,
 * interleaved in the same run, with the op histogram of ONNX Runtime's optimized INT8 graph.
 *
 * <p>Not a test: tagged {@code bench}, run with {@code ./mvnw -o -Pbench test -Dtest=PtqBenchmark}.
 */
@Tag("bench")
class PtqBenchmark {

    static final List<String> CIFAR_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
    static final Preprocessing CIFAR_PRE = Preprocessing.fromMap(Map.of("scale", 0.00392156862745098,
            "mean", List.of(0.485, 0.456, 0.406), "std", List.of(0.229, 0.224, 0.225)));

    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    private static final int ITERATIONS = Integer.getInteger("bench.iterations", 200);
    private static final int WARMUP = Integer.getInteger("bench.warmup", 20);
    private static final int CALIB_SAMPLES = Integer.getInteger("bench.calibSamples", 200);
    private static final int BINS = 2048;


    static SampleSource cifarCalib(Path tmp) throws IOException {
        Path zip = tmp.resolve("cifar-calib-0900-0999.zip");
        if (!Files.exists(zip)) {
            Files.write(zip, SharedData.cifarZip(900, 1000));
        }
        return new ImageFolderDataset(zip, CIFAR_PRE, ZipLimits.DEFAULT);
    }

    static SampleSource mnist(double scale) throws IOException {
        Preprocessing p = scale == 1 ? Preprocessing.DEFAULT : Preprocessing.fromMap(Map.of("scale", scale));
        return new NpzDataset(SharedData.file("mnist/mnist8-calib.npz"), p, ZipLimits.DEFAULT);
    }

    /** Prepared FP32 graph as the ptq job makes it (opset 13, BN folded, QDQ preparation). */
    record Prepared(OnnxMl.ModelProto fp32, Path file, List<String> steps) {
    }

    static Prepared prepare(Path model, Path tmp, String name) throws IOException {
        OnnxMl.ModelProto original = Graphs.parse(model);
        PreparedModel prepared = new GraphPreparer().prepare(original, new PrepareOptions(true));
        OnnxMl.ModelProto fp32 = QdqPreparation.apply(prepared.model());
        Path file = tmp.resolve(name + ".fp32.onnx");
        Files.write(file, fp32.toByteArray());
        return new Prepared(fp32, file, prepared.steps());
    }

    static QuantizationSettings settings() {
        // as PtqHandler with the default config: uint8 asymmetric, per-channel weights, reduceRange "auto"
        return QuantizationSettings.defaults(QuantizationSettings.ActivationType.UINT8_ASYMMETRIC)
                .withReduceRangeWeights(!CpuFeatures.hasVnni());
    }

    // ------------------------------------------------------------------ 1. calibration overhead

    @Test
    void calibrationOverhead() throws Exception {
        BenchReport r = new BenchReport("ptq-calibration");
        Path tmp = Files.createTempDirectory("qf-bench-ptq-");
        r.put("vnni", CpuFeatures.hasVnni());
        overhead(r, "mnist8", SharedData.file("mnist/mnist-8.onnx"), mnist(1), tmp);
        overhead(r, "cifar", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), cifarCalib(tmp), tmp);
        r.write();
    }

    private void overhead(BenchReport r, String key, Path modelFile, SampleSource data, Path tmp) throws IOException {
        int batch = 32;
        long samples = Math.min(1000, data.sampleCount());
        Prepared p = prepare(modelFile, tmp, key);
        QdqPlan plan = QdqPlanner.plan(p.fp32(), settings());
        List<String> tensors = new ArrayList<>(plan.activationTensors());
        Map<String, String> binding;
        try (OrtModel m = OrtModel.load(p.file(), OrtModel.DEFAULT_THREADS, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            binding = InputBinding.bind(m.inputs(), data.tensors());
        }
        r.put(key + "_samples", samples);
        r.put(key + "_batch", batch);
        r.put(key + "_activation_tensors", tensors.size());
        double[] a = new double[ROUNDS];
        double[] b = new double[ROUNDS];
        double[] d = new double[ROUNDS];
        double[] bRunOnly = new double[ROUNDS];
        double[] e = new double[ROUNDS];
        for (int round = 0; round < ROUNDS + 1; round++) { // round 0: warm-up, not recorded
            long t0 = System.nanoTime();
            Map<String, TensorHistogram> h = new ActivationCollector().collect(p.fp32(), tensors, data, binding, batch, samples, BINS,
                    Progress.NONE);
            double ta = (System.nanoTime() - t0) / 1e9;
            if (h.size() != tensors.size()) {
                throw new IllegalStateException("histograms: " + h.size());
            }
            // (b) plain FP32 inference: load (same threads as the collector: all cores), read the same batches, OrtModel.run
            long t1 = System.nanoTime();
            long runNanos = 0;
            long n = 0;
            try (OrtModel m = OrtModel.load(p.file(), OrtModel.DEFAULT_THREADS, OrtSession.SessionOptions.OptLevel.ALL_OPT);
                 SampleSource.BatchIterator it = data.batches(batch, samples)) {
                while (it.hasNext()) {
                    Batch bt = it.next();
                    long s = System.nanoTime();
                    float[][] out = m.run(bt, binding);
                    runNanos += System.nanoTime() - s;
                    n += out.length;
                }
            }
            double tb = (System.nanoTime() - t1) / 1e9;
            // (b2) the collector's own session (BASIC_OPT, every activation tensor an output) run over the same batches,
            //      outputs fetched but no histograms: separates "ORT computing/copying extra outputs" from "histograms"
            long t3 = System.nanoTime();
            OnnxMl.ModelProto withOutputs = ActivationCollector.withOutputs(p.fp32(), new java.util.LinkedHashSet<>(tensors));
            try (OrtModel m = OrtModel.load(withOutputs.toByteArray(), OrtModel.DEFAULT_THREADS, OrtSession.SessionOptions.OptLevel.BASIC_OPT);
                 SampleSource.BatchIterator it = data.batches(batch, samples)) {
                java.util.Set<String> fetch = new java.util.LinkedHashSet<>(m.outputNames());
                int chunk = m.hasDynamicBatch() ? batch : (int) m.fixedBatchSize().orElse(1);
                while (it.hasNext()) {
                    Batch bt = it.next();
                    for (int from = 0; from < bt.size(); from += chunk) {
                        Map<String, ai.onnxruntime.OnnxTensor> feeds = m.createFeeds(bt, binding, from, Math.min(chunk, bt.size() - from));
                        try (OrtSession.Result ignored = m.session().run(feeds, fetch)) {
                            // outputs discarded
                        } catch (ai.onnxruntime.OrtException ex) {
                            throw new IllegalStateException(ex);
                        } finally {
                            ai.onnxruntime.OnnxValue.close(feeds);
                        }
                    }
                }
            }
            double te = (System.nanoTime() - t3) / 1e9;
            // (c) reading/decoding the samples alone
            long t2 = System.nanoTime();
            try (SampleSource.BatchIterator it = data.batches(batch, samples)) {
                while (it.hasNext()) {
                    it.next();
                }
            }
            double tc = (System.nanoTime() - t2) / 1e9;
            if (n != samples) {
                throw new IllegalStateException("ran " + n);
            }
            if (round > 0) {
                a[round - 1] = ta;
                b[round - 1] = tb;
                d[round - 1] = tc;
                bRunOnly[round - 1] = runNanos / 1e9;
                e[round - 1] = te;
                r.put(key + "_round" + round, String.format(Locale.ROOT,
                        "collect %.3f s, fp32 %.3f s (of which OrtModel.run %.3f s), collector session without histograms %.3f s, read only %.3f s, ratio collect/fp32 %.2f",
                        ta, tb, runNanos / 1e9, te, tc, ta / tb));
            }
        }
        r.put(key + "_collect_s_median", median(a));
        r.put(key + "_fp32_s_median", median(b));
        r.put(key + "_fp32_run_only_s_median", median(bRunOnly));
        r.put(key + "_read_only_s_median", median(d));
        r.put(key + "_collector_session_no_histograms_s_median", median(e));
        r.put(key + "_medians", String.format(Locale.ROOT, "collect %.3f s, fp32 %.3f s (run only %.3f s), collector session w/o histograms %.3f s, read only %.3f s",
                median(a), median(b), median(bRunOnly), median(e), median(d)));
        double[] ratios = new double[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            ratios[i] = a[i] / b[i];
        }
        r.put(key + "_ratio_collect_over_fp32_median", String.format(Locale.ROOT, "%.3f", median(ratios)));
        r.put(key + "_ratio_collect_over_fp32_per_round", Arrays.toString(Arrays.stream(ratios).map(x -> Math.round(x * 1000) / 1000.0).toArray()));
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    // ------------------------------------------------------------------ 2. INT8 / FP32 latency

    /** Uniform random float32 samples in [lo, hi], shaped like the model's first input (batch dimension replaced). */
    static final class RandomSource implements SampleSource {
        final String name;
        final long[] sampleShape;
        final long count;
        final float lo;
        final float hi;

        RandomSource(TensorInfo input, long count, float lo, float hi) {
            this.name = input.name();
            List<Object> s = input.shape();
            this.sampleShape = new long[s.size() - 1];
            for (int i = 1; i < s.size(); i++) {
                this.sampleShape[i - 1] = s.get(i) instanceof Long l && l > 0 ? l : 1;
            }
            this.count = count;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        public List<TensorInfo> tensors() {
            List<Object> shape = new ArrayList<>();
            shape.add(count);
            for (long d : sampleShape) {
                shape.add(d);
            }
            return List.of(new TensorInfo(name, ElementType.FLOAT32, shape));
        }

        @Override
        public long sampleCount() {
            return count;
        }

        @Override
        public boolean hasLabels() {
            return false;
        }

        @Override
        public BatchIterator batches(int batchSize, long maxSamples) {
            long end = Math.min(maxSamples, count);
            long per = Arrays.stream(sampleShape).reduce(1, (x, y) -> x * y);
            return new BatchIterator() {
                long next;
                final Random random = new Random(42);

                @Override
                public boolean hasNext() {
                    return next < end;
                }

                @Override
                public Batch next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    int n = (int) Math.min(batchSize, end - next);
                    ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(n * per * 4)).order(ByteOrder.LITTLE_ENDIAN);
                    FloatBuffer f = bytes.asFloatBuffer();
                    for (long i = 0; i < n * per; i++) {
                        f.put(lo + random.nextFloat() * (hi - lo));
                    }
                    long[] shape = new long[sampleShape.length + 1];
                    shape[0] = n;
                    System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
                    Batch b = new Batch(next, n, Map.of(name, new NdArray(ElementType.FLOAT32, shape, bytes)), null);
                    next += n;
                    return b;
                }

                @Override
                public void close() {
                }
            };
        }
    }

    interface DataFactory {
        SampleSource open(OrtModel fp32) throws IOException;
    }

    record Case(String key, Path model, String dataDescription, DataFactory data) {
    }

    private List<Case> cases(Path tmp) {
        return List.of(
                new Case("mnist8", SharedData.file("mnist/mnist-8.onnx"), "mnist8-calib.npz (real)", m -> mnist(1)),
                new Case("mnist7", SharedData.file("mnist/mnist-7.onnx"), "mnist8-calib.npz (real)", m -> mnist(1)),
                new Case("tribuo_cnn", SharedData.file("mnist/tribuo-pytorch_cnn_mnist.onnx"), "mnist8-calib.npz ×255 (real)", m -> mnist(255)),
                new Case("cifar", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), "CIFAR JPEGs 0900-0999 (real)", m -> cifarCalib(tmp)),
                new Case("kws", SharedData.file("kws-mlperftiny/model_kws.onnx"), "random: (int8 - 83) * 0.5847, [-123, 26] (no real data)",
                        m -> new RandomSource(m.inputs().get(0), CALIB_SAMPLES, (-128 - 83) * 0.5847f, (127 - 83) * 0.5847f)),
                new Case("ultraface", SharedData.file("ultraface-rfb-320/version-RFB-320.onnx"), "random uniform [-1, 1] ((p-127)/128)",
                        m -> new RandomSource(m.inputs().get(0), CALIB_SAMPLES, -1f, 1f)),
                new Case("vww", SharedData.file("mlperftiny-alibaba-extra/model_vww.onnx"), "random uniform [0, 1] (p/255; only one real image)",
                        m -> new RandomSource(m.inputs().get(0), CALIB_SAMPLES, 0f, 1f)));
    }

    /**
     * Every calibrator from one calibration pass on every shared model: output SQNR and cosine to FP32 (and top-1 where the
     * data has labels), compared on the calibration data itself — which calibrator should be the default.
     */
    @Test
    void calibratorsOnEveryModel() throws Exception {
        BenchReport r = new BenchReport("ptq-calibrators");
        Path tmp = Files.createTempDirectory("qf-bench-ptq-calib-");
        r.put("cpu", CpuFeatures.describe());
        StringBuilder table = new StringBuilder("\n| model | data | " + String.join(" | ", PostTrainingQuantization.ALL_CALIBRATORS.stream()
                .map(m -> m.apiName() + " SQNR dB (top-1)").toList()) + " | best |\n|---|---|" + "---|".repeat(PostTrainingQuantization.ALL_CALIBRATORS.size() + 1) + "\n");
        String only = System.getProperty("bench.models");
        for (Case c : cases(tmp)) {
            if (only != null && !Arrays.asList(only.split(",")).contains(c.key())) {
                continue;
            }
            QuantizationSpec spec = QuantizationSpec.DEFAULTS.withCalibration(new QuantizationSpec.Calibration(CALIB_SAMPLES, 32, true))
                    .withMode(QuantizationSpec.Mode.STATIC);
            try (QuantizationPipeline p = QuantizationPipeline.prepare(c.model(), spec, tmp.resolve("calib-" + c.key()), EngineLog.NONE, Progress.NONE)) {
                SampleSource data;
                try (OrtModel m = OrtModel.load(p.fp32File(), 1, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
                    data = c.data().open(m);
                }
                p.calibrate(data, c.dataDescription(), Progress.NONE);
                table.append("| ").append(c.key()).append(" | ").append(c.dataDescription()).append(" | ");
                String best = null;
                double bestSqnr = Double.NEGATIVE_INFINITY;
                for (CalibrationMethod m : PostTrainingQuantization.ALL_CALIBRATORS) {
                    Path file = p.build(java.util.Set.of(), p.ranges(m), m).file();
                    var cmp = p.compare(file, data, Progress.NONE);
                    table.append(String.format(Locale.ROOT, "%.1f", cmp.sqnrDb()))
                            .append(cmp.top1Candidate() == null ? "" : String.format(Locale.ROOT, " (%.4f)", cmp.top1Candidate())).append(" | ");
                    if (cmp.sqnrDb() > bestSqnr) {
                        bestSqnr = cmp.sqnrDb();
                        best = m.apiName();
                    }
                }
                table.append(best).append(" |\n");
            } catch (Exception | Error e) {
                e.printStackTrace();
                table.append("| ").append(c.key()).append(" | failed: ").append(e.getMessage()).append(" |\n");
            }
        }
        r.put("calibrators", table.toString());
        r.write();
    }

    @Test
    void int8VsFp32Latency() throws Exception {
        BenchReport r = new BenchReport("ptq-latency");
        Path tmp = Files.createTempDirectory("qf-bench-ptq-lat-");
        r.put("vnni", CpuFeatures.hasVnni());
        r.put("reduceRangeWeights", settings().reduceRangeWeights());
        r.put("calibrationSamples", CALIB_SAMPLES);
        r.put("iterations", ITERATIONS);
        r.put("warmup", WARMUP);
        List<Case> cases = cases(tmp);
        String only = System.getProperty("bench.models");
        for (Case c : cases) {
            if (only != null && !Arrays.asList(only.split(",")).contains(c.key())) {
                continue;
            }
            try {
                latency(r, c, tmp);
            } catch (Exception | Error e) {
                e.printStackTrace();
                r.put(c.key() + "_FAILED", e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        r.write();
    }

    private void latency(BenchReport r, Case c, Path tmp) throws Exception {
        String k = c.key();
        QuantizationSpec spec = QuantizationSpec.DEFAULTS.withCalibration(new QuantizationSpec.Calibration(CALIB_SAMPLES, 32, false));
        try (QuantizationPipeline p = QuantizationPipeline.prepare(c.model(), spec, tmp.resolve(k), EngineLog.NONE, Progress.NONE)) {
            latency(r, c, p);
        }
    }

    private void latency(BenchReport r, Case c, QuantizationPipeline p) throws Exception {
        String k = c.key();
        QdqPlan plan = p.plan();
        r.put(k + "_prepare", String.join("; ", p.prepared().steps()));
        r.put(k + "_quantized_nodes", plan.quantizedNodes().size() + " of " + plan.nodes().size());
        OptionalFixed fixed;
        SampleSource data;
        try (OrtModel m = OrtModel.load(p.fp32File(), 1, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            data = c.data().open(m);
            fixed = new OptionalFixed(m.fixedBatchSize().isPresent() ? m.fixedBatchSize().getAsLong() : -1);
        }
        r.put(k + "_data", c.dataDescription());
        long t0 = System.nanoTime();
        p.calibrate(data, c.dataDescription(), Progress.NONE);
        Path int8File = p.build(java.util.Set.of()).file();
        r.put(k + "_calibrate_and_quantize_s", (System.nanoTime() - t0) / 1e9);
        r.put(k + "_calibration_samples", p.histograms().samples());
        Map<String, Integer> fused = p.runtimeOps(int8File);
        Map<String, Integer> fp32Ops = p.runtimeOps(p.fp32File());
        r.put(k + "_fused_int8_kernels", OrtFusionCheck.fusedInt8Count(fused));
        r.put(k + "_optimized_int8_graph_ops", fused.toString());
        r.put(k + "_optimized_fp32_graph_ops", fp32Ops.toString());

        List<int[]> configs = new ArrayList<>(); // {batch, threads}
        configs.add(new int[]{1, 1});
        if (fixed.batch() < 0) {
            configs.add(new int[]{8, 1});
        } else {
            r.put(k + "_batch8", "skipped: fixed batch " + fixed.batch());
        }
        if (k.equals("cifar")) {
            configs.add(new int[]{1, 2});
            configs.add(new int[]{8, 2});
        }
        for (int[] cfg : configs) {
            int batch = cfg[0];
            int threads = cfg[1];
            String kk = k + "_b" + batch + "_t" + threads;
            LatencyPair res = p.latency(int8File, data, new BenchmarkSettings(ITERATIONS, WARMUP, batch, threads), Progress.NONE);
            double fp = res.fp32().latencyMs().p50();
            double in = res.candidate().latencyMs().p50();
            r.put(kk + "_summary", String.format(Locale.ROOT, "p50 FP32 %.4f ms, INT8 %.4f ms, speedup %.2fx (p90 %.4f / %.4f)",
                    fp, in, fp / in, res.fp32().latencyMs().p90(), res.candidate().latencyMs().p90()));
            r.put(kk + "_fp32_p50_ms", fp);
            r.put(kk + "_int8_p50_ms", in);
            r.put(kk + "_speedup", String.format(Locale.ROOT, "%.3f", fp / in));
        }
        // where the time goes (ONNX Runtime's profiler, per op type, at the largest batch measured, 1 thread)
        int batch = fixed.batch() < 0 ? 8 : (int) fixed.batch();
        for (String which : List.of("fp32", "int8")) {
            Path file = which.equals("fp32") ? p.fp32File() : int8File;
            var ops = dev.quantforge.quant.bench.OpProfile.profile(file, data, p.binding(data), batch, 1, 50, p.fp32File().getParent());
            r.put(k + "_profile_b" + batch + "_" + which, ops.stream().limit(8).map(o -> String.format(Locale.ROOT, "%s %.0f µs (%.0f%%, %d)",
                    o.opType(), o.microsPerRun(), 100 * o.share(), o.nodes())).collect(java.util.stream.Collectors.joining("; ")));
        }
    }

    record OptionalFixed(long batch) {
    }
}
