package dev.quantforge.qat;

import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.progress.EngineLog;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.quantforge.dataset.io.NpzDataset;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.progress.CancelledException;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.testsupport.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fake-quantized forward vs the PTQ QDQ model in ONNX Runtime; distillation / cross-entropy training; checkpoint resume. */
class QatTrainerTest {

    /** PTQ start: uint8 activations, max calibrator, full-range per-channel weights. */
    static final QuantizationSpec SPEC = QuantizationSpec.DEFAULTS
            .withWeights(new QuantizationSpec.Weights(QuantizationSpec.WeightGranularity.PER_CHANNEL, QuantizationSpec.ReduceRange.FALSE))
            .withActivations(new QuantizationSpec.Activations(QuantizationSpec.ActivationDtype.UINT8, CalibrationMethod.MAX, 99.99,
                    TensorHistogram.DEFAULT_BINS))
            .withCalibration(new QuantizationSpec.Calibration(200, 50, false));
    static QuantizationSettings SETTINGS;
    static final Preprocessing X255 = Preprocessing.fromMap(Map.of("scale", 255.0));

    static OnnxMl.ModelProto fp32;
    static QdqPlan plan;
    static Map<String, TensorRange> ranges;
    static NpzDataset eval;
    static NpzDataset train;
    static String input;
    static Map<String, String> binding;

    @BeforeAll
    static void prepare() throws IOException {
        eval = new NpzDataset(SharedData.file("mnist/mnist8-eval.npz"), X255, ZipLimits.DEFAULT);
        train = new NpzDataset(SharedData.file("mnist/mnist8-calib.npz"), X255, ZipLimits.DEFAULT);
        // the PTQ start through the engine's front door, calibrated on the first 200 evaluation images
        try (QuantizationPipeline p = QuantizationPipeline.prepare(SharedData.file("mnist/tribuo-pytorch_cnn_mnist.onnx"), SPEC,
                Files.createTempDirectory("qf-qat-"), EngineLog.NONE, Progress.NONE)) {
            p.calibrate(eval, "mnist8-eval", Progress.NONE);
            QdqBuild start = p.build(java.util.Set.of());
            fp32 = p.fp32();
            plan = start.plan();
            SETTINGS = p.settings();
            ranges = new LinkedHashMap<>();
            start.ranges().forEach((t, r) -> ranges.put(t, r.range()));
        }
        input = fp32.getGraph().getInput(0).getName();
        binding = Map.of(input, eval.tensors().get(0).name());
    }

    @Test
    void recipeDerivesSuperGradientsDefaults() {
        QatRecipe r = QatRecipe.derive(100, 0.1, 128, 5, 1e-4, 2, 10, 0.01, 10, 0.01, 0.9, null);
        assertEquals(10, r.epochs());
        assertEquals(0.001, r.lr(), 1e-12);
        assertEquals(64, r.batchSize());
        assertEquals(0, r.warmupEpochs());
        assertEquals(0.9, r.momentum());
        assertEquals(3, QatRecipe.derive(100, 0.1, 128, 5, 0, 2, 10, 0.01, 10, 0.01, 0.9, 3).epochs());
        assertEquals(1, QatRecipe.derive(5, 0.1, 128, 5, 0, 2, 10, 0.01, 10, 0.01, 0.9, null).epochs());
        // no warm-up: cosine from lr to lr * ratio
        assertEquals(0.001, r.lrAt(0), 1e-12);
        assertEquals(0.001 * (0.01 + 0.99 * 0.5), r.lrAt(5), 1e-12);
        assertEquals(0.001 * 0.01, r.lrAt(10), 1e-12);
        // warm-up: linear from 0
        QatRecipe w = new QatRecipe(10, 0.1, 32, 2, 0, 0.9, 0.1);
        assertEquals(0, w.lrAt(0), 1e-12);
        assertEquals(0.05, w.lrAt(1), 1e-12);
        assertEquals(0.1, w.lrAt(2), 1e-12);
        assertEquals(0.01, w.lrAt(10), 1e-12);
        assertTrue(w.lrAt(3) < 0.1 && w.lrAt(3) > w.lrAt(4));
    }

    /** Images [n,1,28,28] from the start of a dataset (as the dataset gives them: already ×255) and labels. */
    static float[] images(NpzDataset data, int n, long[] labels) throws IOException {
        try (SampleSource.BatchIterator it = data.batches(n, n)) {
            Batch b = it.next();
            if (labels != null) {
                System.arraycopy(b.labels(), 0, labels, 0, n);
            }
            return b.tensors().values().iterator().next().toFloatArray();
        }
    }

    static long[] argmax(float[] logits, int n) {
        int c = logits.length / n;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < c; j++) {
                if (logits[i * c + j] > logits[i * c + best]) {
                    best = j;
                }
            }
            out[i] = best;
        }
        return out;
    }

    static long[] ortArgmax(OnnxMl.ModelProto model, float[] x, int n) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
            try (OrtSession s = env.createSession(model.toByteArray(), o);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, 1, 28, 28});
                 OrtSession.Result r = s.run(Map.of(input, t))) {
                FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                float[] v = new float[fb.remaining()];
                fb.get(v);
                return argmax(v, n);
            }
        }
    }

    @Test
    void fakeQuantForwardAgreesWithTheQdqModelInOnnxRuntime() throws Exception {
        int n = 200;
        float[] x = images(eval, n, null);
        long[] ort = ortArgmax(QdqWriter.write(fp32, plan, ranges, SETTINGS).model(), x, n);
        long[] fp = ortArgmax(fp32, x, n);
        FakeQuantizer fq = new FakeQuantizer(fp32, plan, ranges, SETTINGS);
        assertTrue(fq.activationInputs() > 0 && fq.weightInputs() > 0);
        try (NDManager m = QatTestEngine.get().newManager(); TrainableGraph g = TrainableGraph.of(fp32, m);
             NDManager scope = m.newSubManager()) {
            NDArray in = scope.create(x, new Shape(n, 1, 28, 28));
            NDList out = g.forward(Map.of(input, in), false, fq.pass(scope));
            long[] djl = argmax(out.get(0).toFloatArray(), n);
            int agree = 0;
            int agreeFp = 0;
            for (int i = 0; i < n; i++) {
                agree += djl[i] == ort[i] ? 1 : 0;
                agreeFp += fp[i] == ort[i] ? 1 : 0;
            }
            System.out.printf("fake-quant forward (%d activation inputs, %d weights) vs ORT QDQ (BASIC_OPT): argmax agrees on %d/%d"
                    + " (FP32 vs QDQ: %d/%d)%n", fq.activationInputs(), fq.weightInputs(), agree, n, agreeFp, n);
            assertTrue(agree >= 0.98 * n, "agreement " + agree + "/" + n);
        }
    }

    static double top1(OnnxMl.ModelProto model) throws Exception {
        int n = (int) eval.sampleCount();
        long[] labels = new long[n];
        float[] x = images(eval, n, labels);
        long[] pred = ortArgmax(model, x, n);
        int ok = 0;
        for (int i = 0; i < n; i++) {
            ok += pred[i] == labels[i] ? 1 : 0;
        }
        return ok / (double) n;
    }

    /** Mean KL(softmax(FP32 teacher) || softmax(fake-quantized student)) over the 1000 training images. */
    static double meanKl(OnnxMl.ModelProto student) throws IOException {
        float[] x = images(train, 1000, null);
        try (NDManager m = QatTestEngine.get().newManager(); TrainableGraph t = TrainableGraph.of(fp32, m);
             TrainableGraph s = TrainableGraph.of(student, m); NDManager scope = m.newSubManager()) {
            NDArray in = scope.create(x, new Shape(1000, 1, 28, 28));
            NDArray lt = t.forward(Map.of(input, in), false).get(0).logSoftmax(1);
            NDArray ls = s.forward(Map.of(input, in), false, new FakeQuantizer(student, plan, ranges, SETTINGS).pass(scope)).get(0).logSoftmax(1);
            return lt.exp().mul(lt.sub(ls)).sum(new int[]{1}).mean().getFloat();
        }
    }

    static final Pattern LOSS = Pattern.compile("step (\\d+)/\\d+ loss ([0-9.eE+-]+)");

    @Test
    void distillationLowersTheLossAndTheExportKeepsAccuracy(@TempDir Path dir) throws Exception {
        List<Double> losses = new ArrayList<>();
        Progress p = (f, phase, msg) -> {
            Matcher m = LOSS.matcher(msg);
            if (m.find()) {
                losses.add(Double.parseDouble(m.group(2)));
            }
        };
        QatOptions options = new QatOptions(new QatRecipe(1, 1e-3, 32, 0, 0, 0.9, 0.01), "distillation", 0);
        long t0 = System.nanoTime();
        QatResult r = new QatTrainer(QatTestEngine.get()).train(fp32, plan, ranges, SETTINGS, train,
                Map.of(input, train.tensors().get(0).name()), options, dir, p);
        double seconds = (System.nanoTime() - t0) / 1e9;
        EpochStats e = r.epochs().get(0);
        assertEquals(1000, e.samples());
        assertNull(e.runningTop1());
        double klBefore = meanKl(fp32);
        double klAfter = meanKl(r.trainedFp32());
        double before = top1(QdqWriter.write(fp32, plan, ranges, SETTINGS).model());
        double after = top1(QdqWriter.write(r.trainedFp32(), plan, r.ranges(), SETTINGS).model());
        double fpTop1 = top1(fp32);
        System.out.printf("QAT distillation, 1 epoch, %d steps on 1000 images: mean KL(FP32 || fake-quant) over the 1000 images %.4e → %.4e"
                        + " (epoch mean of step losses %.4e); %.1f images/s (%.1f s incl. setup); ORT top-1 FP32 %.4f, PTQ %.4f, after QAT %.4f%n",
                losses.size(), klBefore, klAfter, e.meanLoss(), e.imagesPerSecond(), seconds, fpTop1, before, after);
        assertEquals(32, losses.size());
        assertTrue(klAfter < klBefore, "KL " + klBefore + " → " + klAfter);
        assertTrue(after >= 0.97, "top-1 after QAT " + after);
    }

    @Test
    void crossEntropyRunsWithLabels() throws Exception {
        List<String> messages = new ArrayList<>();
        QatOptions options = new QatOptions(new QatRecipe(1, 0.001, 16, 0, 1e-4, 0.9, 0.01), "cross_entropy", 64);
        QatResult r = new QatTrainer(QatTestEngine.get()).train(fp32, plan, ranges, SETTINGS, eval, binding, options, null,
                (f, phase, msg) -> {
                    if (phase.equals(QatTrainer.PHASE)) {
                        messages.add(msg);
                    }
                });
        System.out.println("cross-entropy: " + messages + " → " + r.epochs());
        assertEquals(4, messages.size());
        assertTrue(messages.get(0).startsWith("epoch 1/1 step 1/4 loss "), messages.get(0));
        assertTrue(messages.get(3).contains(" acc "), messages.get(3));
        assertNotNull(r.epochs().get(0).runningTop1());
        assertTrue(r.epochs().get(0).runningTop1() > 0.5, "running top-1 " + r.epochs().get(0).runningTop1());
        // the training curve: one sample per step here (4 steps), the last one's accuracy is the epoch's
        assertEquals(List.of(1, 2, 3, 4), r.steps().stream().map(StepStats::step).toList());
        assertEquals(r.epochs().get(0).runningTop1(), r.steps().get(3).runningTop1());
        assertEquals(r.epochs().get(0).meanLoss(), r.steps().stream().mapToDouble(StepStats::loss).average().orElseThrow(), 1e-9);
        assertTrue(messages.get(3).contains(String.format("loss %.6g", r.steps().get(3).loss())), messages.get(3));
        assertThrows(IllegalArgumentException.class, () -> new QatTrainer(QatTestEngine.get()).train(fp32, plan, ranges, SETTINGS,
                train, Map.of(input, "Input3"), options, null, Progress.NONE));
    }

    @Test
    void resumesFromTheCheckpointAfterACancel(@TempDir Path dir) throws Exception {
        QatOptions options = new QatOptions(new QatRecipe(2, 0.001, 32, 0, 0, 0.9, 0.01), "distillation", 96);
        QatTrainer trainer = new QatTrainer(QatTestEngine.get());
        List<String> first = new ArrayList<>();
        assertThrows(CancelledException.class, () -> trainer.train(fp32, plan, ranges, SETTINGS, train, binding, options, dir,
                (f, phase, msg) -> {
                    if (msg.startsWith("epoch 2/")) {
                        throw new CancelledException("stop");
                    }
                    if (phase.equals(QatTrainer.PHASE)) {
                        first.add(msg);
                    }
                }));
        assertEquals(3, first.size());
        assertTrue(Files.exists(dir.resolve(QatTrainer.CHECKPOINT)));
        List<String> second = new ArrayList<>();
        QatResult r = trainer.train(fp32, plan, ranges, SETTINGS, train, binding, options, dir, (f, phase, msg) -> onlyTraining(second, phase, msg));
        System.out.println("resumed: " + second + " → " + r.epochs());
        assertTrue(second.stream().allMatch(s -> s.startsWith("epoch 2/2")), second.toString());
        assertEquals(3, second.size());
        assertEquals(List.of(1, 2), r.epochs().stream().map(EpochStats::epoch).toList());
        // done: a third run trains nothing and returns the checkpointed model
        List<String> third = new ArrayList<>();
        QatResult again = trainer.train(fp32, plan, ranges, SETTINGS, train, binding, options, dir, (f, phase, msg) -> onlyTraining(third, phase, msg));
        assertTrue(third.isEmpty());
        assertEquals(2, again.epochs().size());
    }

    private static void onlyTraining(List<String> messages, String phase, String msg) {
        if (phase.equals(QatTrainer.PHASE)) {
            messages.add(msg);
        }
    }
}
