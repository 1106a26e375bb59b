package dev.quantforge.quant.qdq;

import static dev.quantforge.quant.testdata.Models.DATASETS;
import static dev.quantforge.quant.testdata.Models.MNIST8;
import static dev.quantforge.quant.testdata.Models.MNIST8_EVAL;
import static dev.quantforge.quant.testdata.Models.TRIBUO_CNN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.onnxruntime.OrtSession;

import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.EvaluationResult;
import dev.quantforge.quant.eval.Evaluator;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.pipeline.QuantizationSpec.ActivationDtype;
import dev.quantforge.quant.pipeline.QuantizationSpec.ReduceRange;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.quant.testdata.TestNpz;

/**
 * Real models, real calibration through the engine's pipeline (max calibrator over the 1000 images of
 * mnist8-calib.npz), evaluated on the 2000 labelled images of mnist8-eval.npz, in both activation modes:
 * the QDQ models ONNX Runtime fuses keep the FP32 accuracy.
 */
class QdqEndToEndTest {

    private static final double FP32_MNIST8 = 0.9805;
    private static TestNpz calib;
    private static TestNpz calibRaw;
    private static TestNpz eval;
    private static TestNpz evalRaw;

    @BeforeAll
    static void data() throws IOException {
        calib = TestNpz.read(DATASETS.resolve("mnist/mnist8-calib.npz"));
        calibRaw = calib.scaled("Input3", "input_image", 255f);
        eval = TestNpz.read(MNIST8_EVAL);
        evalRaw = eval.scaled("Input3", "input_image", 255f);
    }

    private record Outcome(QdqBuild build, Map<String, Integer> fused, EvaluationResult fp32, EvaluationResult int8) {
    }

    private static Outcome run(String label, Path model, SampleSource calibration, SampleSource data, int batch, ActivationDtype dtype,
                               ReduceRange reduceRange) throws IOException {
        QuantizationSpec spec = QuantizationSpec.DEFAULTS
                .withWeights(new QuantizationSpec.Weights(QuantizationSpec.WeightGranularity.PER_CHANNEL, reduceRange))
                .withActivations(new QuantizationSpec.Activations(dtype, CalibrationMethod.MAX, 99.99, 2048))
                .withCalibration(new QuantizationSpec.Calibration(1000, batch, false));
        Path dir = Files.createTempDirectory("qf-qdq-");
        try (QuantizationPipeline p = QuantizationPipeline.prepare(model, spec, dir, EngineLog.NONE, Progress.NONE)) {
            p.calibrate(calibration, "mnist8-calib", Progress.NONE);
            QdqBuild build = p.build(Set.of());
            Map<String, Integer> fused = p.runtimeOps(build.file());
            try (OrtModel fp32 = OrtModel.load(p.fp32File(), 1, OrtSession.SessionOptions.OptLevel.ALL_OPT);
                 OrtModel int8 = OrtModel.load(build.file(), 1, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
                var binding = InputBinding.bind(fp32.inputs(), data.tensors());
                EvaluationResult reference = new Evaluator().evaluateTop1(fp32, fp32, data, binding, batch, Long.MAX_VALUE, Progress.NONE);
                EvaluationResult result = new Evaluator().evaluateTop1(int8, fp32, data, binding, batch, Long.MAX_VALUE, Progress.NONE);
                System.out.printf("[qdq] %s %s%s: fp32 top1=%.4f int8 top1=%.4f agreement=%.4f fused=%s%n", label, dtype,
                        p.settings().reduceRangeWeights() ? " reduce-range" : "", reference.top1(), result.top1(), result.agreement(), fused);
                return new Outcome(build, fused, reference, result);
            }
        }
    }

    private static void assertAccuracy(Outcome o) {
        assertEquals(2000, o.int8().samples());
        assertTrue(o.int8().top1() >= o.fp32().top1() - 0.003, "int8 " + o.int8().top1() + " vs fp32 " + o.fp32().top1());
        assertTrue(o.int8().agreement() >= 0.99, "agreement " + o.int8().agreement());
    }

    @Test
    void mnist8Uint8FusesBothConvsAndTheMatMul() throws IOException {
        Outcome o = run("mnist-8", MNIST8, calib, eval, 1, ActivationDtype.UINT8, ReduceRange.FALSE);
        assertEquals(FP32_MNIST8, o.fp32().top1(), 1e-12);
        assertEquals(2, o.fused().getOrDefault("QLinearConv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("Conv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("MatMul", 0), o.fused().toString());
        assertTrue(OrtFusionCheck.fusedInt8Count(o.fused()) >= 3, o.fused().toString());
        assertAccuracy(o);
    }

    @Test
    void mnist8Int8SymmetricLoadsAndRuns() throws IOException {
        assertAccuracy(run("mnist-8", MNIST8, calib, eval, 1, ActivationDtype.INT8, ReduceRange.FALSE));
    }

    @Test
    void tribuoCnnUint8FusesBothConvsAndTheGemms() throws IOException {
        Outcome o = run("tribuo-cnn", TRIBUO_CNN, calibRaw, evalRaw, 100, ActivationDtype.UINT8, ReduceRange.FALSE);
        assertEquals(0.983, o.fp32().top1(), 1e-12);
        assertEquals(2, o.fused().getOrDefault("QLinearConv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("Conv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("Gemm", 0) + o.fused().getOrDefault("FusedGemm", 0), o.fused().toString());
        assertTrue(OrtFusionCheck.fusedInt8Count(o.fused()) >= 4, o.fused().toString());
        // Full-range int8 weights: the fake-quant (BASIC_OPT) model scores 0.982, ORT's fused u8s8 kernels 0.979 on
        // an AVX2 (no VNNI) host: VPMADDUBSW saturates. With reduced-range weights it is 0.982 (test below).
        assertTrue(o.int8().top1() >= o.fp32().top1() - 0.006, "int8 " + o.int8().top1());
        assertTrue(o.int8().agreement() >= 0.99, "agreement " + o.int8().agreement());
    }

    @Test
    void tribuoCnnInt8SymmetricLoadsAndRuns() throws IOException {
        assertAccuracy(run("tribuo-cnn", TRIBUO_CNN, calibRaw, evalRaw, 100, ActivationDtype.INT8, ReduceRange.FALSE));
    }

    @Test
    void reducedRangeWeightsForOrtOnAvx2() throws IOException {
        Outcome t = run("tribuo-cnn", TRIBUO_CNN, calibRaw, evalRaw, 100, ActivationDtype.UINT8, ReduceRange.TRUE);
        Outcome m = run("mnist-8", MNIST8, calib, eval, 1, ActivationDtype.UINT8, ReduceRange.TRUE);
        assertEquals(2, t.fused().getOrDefault("QLinearConv", 0));
        assertEquals(2, m.fused().getOrDefault("QLinearConv", 0));
        assertAccuracy(t);
        assertAccuracy(m);
    }
}
