package dev.quantforge.quant.qdq;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.eval.EvaluationResult;
import dev.quantforge.quant.qdq.QuantizationSettings.ActivationType;
import dev.quantforge.quant.testdata.TestNpz;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static dev.quantforge.quant.testdata.Models.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Real models, real calibration (max calibrator over the 1000 images of mnist8-calib.npz), evaluated on
 * the 2000 labelled images of mnist8-eval.npz, in both activation modes.
 */
class QdqEndToEndTest {

    private static final double FP32_MNIST8 = 0.9805;
    private static OnnxMl.ModelProto mnist8;
    private static OnnxMl.ModelProto tribuo;
    private static Map<String, TensorRange> mnist8Ranges;
    private static Map<String, TensorRange> tribuoRanges;
    private static TestNpz eval;
    private static TestNpz evalRaw;

    @BeforeAll
    static void prepareAndCalibrate() throws IOException {
        TestNpz calib = TestNpz.read(DATASETS.resolve("mnist/mnist8-calib.npz"));
        eval = TestNpz.read(MNIST8_EVAL);
        evalRaw = eval.scaled("Input3", "input_image", 255f);
        mnist8 = QdqTestSupport.prepare(MNIST8);
        tribuo = QdqTestSupport.prepare(TRIBUO_CNN);
        mnist8Ranges = QdqTestSupport.calibrate(mnist8, calib, 1, 1000);
        tribuoRanges = QdqTestSupport.calibrate(tribuo, calib.scaled("Input3", "input_image", 255f), 100, 1000);
    }

    private record Outcome(QdqModel qdq, Map<String, Integer> fused, EvaluationResult fp32, EvaluationResult int8) {
    }

    private static Outcome run(String label, OnnxMl.ModelProto fp32, Map<String, TensorRange> ranges, TestNpz data,
                               int batch, ActivationType type) {
        return run(label, fp32, ranges, data, batch, QuantizationSettings.defaults(type));
    }

    private static Outcome run(String label, OnnxMl.ModelProto fp32, Map<String, TensorRange> ranges, TestNpz data,
                               int batch, QuantizationSettings settings) {
        ActivationType type = settings.activationType();
        QdqPlan plan = QdqPlanner.plan(fp32, settings);
        QdqModel qdq = QdqWriter.write(fp32, plan, ranges, settings);
        Map<String, Integer> fused = OrtFusionCheck.fusedOps(qdq.model());
        // Diagnostic (-DargLine=-Dqdq.basic=true): the same QDQ model without ORT fusion (fake-quant in float).
        if (Boolean.getBoolean("qdq.basic")) {
            try (var m = dev.quantforge.quant.runtime.OrtModel.load(QdqTestSupport.save(qdq.model(), "b"), 1, ai.onnxruntime.OrtSession.SessionOptions.OptLevel.BASIC_OPT)) {
                System.out.println("[qdq] BASIC " + label + " " + type + " " + new dev.quantforge.quant.eval.Evaluator().evaluateTop1(m, data, dev.quantforge.quant.data.InputBinding.bind(m.inputs(), data.tensors()), batch, Long.MAX_VALUE, dev.quantforge.quant.progress.Progress.NONE));
            }
        }
        EvaluationResult reference = QdqTestSupport.evaluate(fp32, fp32, data, batch);
        EvaluationResult result = QdqTestSupport.evaluate(qdq.model(), fp32, data, batch);
        System.out.printf("[qdq] %s %s%s: fp32 top1=%.4f int8 top1=%.4f agreement=%.4f fused=%s (int8 kernels %d)%n  layers=%s%n",
                label, type, settings.reduceRangeWeights() ? " reduce-range" : "", reference.top1(), result.top1(), result.agreement(), fused, OrtFusionCheck.fusedInt8Count(fused),
                qdq.layers());
        return new Outcome(qdq, fused, reference, result);
    }

    private static void assertAccuracy(Outcome o) {
        assertEquals(2000, o.int8().samples());
        assertTrue(o.int8().top1() >= o.fp32().top1() - 0.003, "int8 " + o.int8().top1() + " vs fp32 " + o.fp32().top1());
        assertTrue(o.int8().agreement() >= 0.99, "agreement " + o.int8().agreement());
    }

    @Test
    void mnist8Uint8FusesBothConvsAndTheMatMul() {
        Outcome o = run("mnist-8", mnist8, mnist8Ranges, eval, 1, ActivationType.UINT8_ASYMMETRIC);
        assertEquals(FP32_MNIST8, o.fp32().top1(), 1e-12);
        assertEquals(2, o.fused().getOrDefault("QLinearConv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("Conv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("MatMul", 0), o.fused().toString());
        assertTrue(OrtFusionCheck.fusedInt8Count(o.fused()) >= 3, o.fused().toString());
        assertAccuracy(o);
    }

    @Test
    void mnist8Int8SymmetricLoadsAndRuns() {
        Outcome o = run("mnist-8", mnist8, mnist8Ranges, eval, 1, ActivationType.INT8_SYMMETRIC);
        assertAccuracy(o);
    }

    @Test
    void tribuoCnnUint8FusesBothConvsAndTheGemms() {
        Outcome o = run("tribuo-cnn", tribuo, tribuoRanges, evalRaw, 100, ActivationType.UINT8_ASYMMETRIC);
        assertEquals(0.983, o.fp32().top1(), 1e-12);
        assertEquals(2, o.fused().getOrDefault("QLinearConv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("Conv", 0), o.fused().toString());
        assertEquals(0, o.fused().getOrDefault("Gemm", 0) + o.fused().getOrDefault("FusedGemm", 0), o.fused().toString());
        assertTrue(OrtFusionCheck.fusedInt8Count(o.fused()) >= 4, o.fused().toString());
        // Full-range int8 weights: the fake-quant (BASIC_OPT) model scores 0.982, ORT's fused u8s8 kernels 0.979 on
        // this AVX2 (no VNNI) host: VPMADDUBSW saturates. With reduceRangeWeights it is 0.982 (test below).
        assertTrue(o.int8().top1() >= o.fp32().top1() - 0.006, "int8 " + o.int8().top1());
        assertTrue(o.int8().agreement() >= 0.99, "agreement " + o.int8().agreement());
    }

    @Test
    void tribuoCnnInt8SymmetricLoadsAndRuns() {
        Outcome o = run("tribuo-cnn", tribuo, tribuoRanges, evalRaw, 100, ActivationType.INT8_SYMMETRIC);
        assertAccuracy(o);
    }

    @Test
    void reducedRangeWeightsForOrtOnAvx2() {
        QuantizationSettings settings = QuantizationSettings.defaults(ActivationType.UINT8_ASYMMETRIC).withReduceRangeWeights(true);
        Outcome t = run("tribuo-cnn", tribuo, tribuoRanges, evalRaw, 100, settings);
        Outcome m = run("mnist-8", mnist8, mnist8Ranges, eval, 1, settings);
        assertEquals(2, t.fused().getOrDefault("QLinearConv", 0));
        assertEquals(2, m.fused().getOrDefault("QLinearConv", 0));
        assertAccuracy(t);
        assertAccuracy(m);
    }
}
