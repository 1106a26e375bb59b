package dev.quantforge.qat;

import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.progress.EngineLog;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import dev.quantforge.dataset.io.ImageFolderDataset;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.testsupport.SharedData;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QAT on the CIFAR net at engine level (no service): train 0300-0599, calibrate 0900-0999 (max), evaluate 0000-0199
 * with ONNX Runtime; BatchNorm kept apart (frozen) vs folded; images/s.
 * Run: {@code ./mvnw -o -Pbench test -Dtest=QatCifarBenchmark} with optional {@code -Dqat.variants=unfolded,folded
 * -Dqat.lr=0.001 -Dqat.epochs=2 -Dqat.loss=cross_entropy|distillation}; {@code -Dqat.repeat=true} instead measures the PTQ
 * model's top-1 in four fresh ONNX Runtime sessions ({@code -Dqat.threads=1 -Dqat.opt=BASIC_OPT|ALL_OPT}).
 */
@Tag("bench")
class QatCifarBenchmark {

    static final Map<String, Object> PRE = Map.of("scale", 1 / 255.0, "mean", List.of(0.485, 0.456, 0.406),
            "std", List.of(0.229, 0.224, 0.225), "layout", "nchw", "channelOrder", "rgb");

    static ImageFolderDataset cifar(Path dir, int from, int to) throws Exception {
        Path zip = dir.resolve("cifar-" + from + "-" + to + ".zip");
        Files.write(zip, SharedData.cifarZip(from, to));
        return new ImageFolderDataset(zip, Preprocessing.fromMap(PRE), ZipLimits.DEFAULT);
    }

    @Test
    void cifarQat(@TempDir Path dir) throws Exception {
        ImageFolderDataset train = cifar(dir, 300, 600);
        ImageFolderDataset calib = cifar(dir, 900, 1000);
        ImageFolderDataset eval = cifar(dir, 0, 200);
        // the PTQ start through the engine's front door: max calibrator, uint8, 7-bit weights, residual Adds quantized
        QuantizationSpec spec = QuantizationSpec.DEFAULTS
                .withWeights(new QuantizationSpec.Weights(QuantizationSpec.WeightGranularity.PER_CHANNEL, QuantizationSpec.ReduceRange.TRUE))
                .withActivations(new QuantizationSpec.Activations(QuantizationSpec.ActivationDtype.UINT8, CalibrationMethod.MAX, 99.99,
                        TensorHistogram.DEFAULT_BINS))
                .withCalibration(new QuantizationSpec.Calibration(1000, 50, false));
        QuantizationPipeline pipeline = QuantizationPipeline.prepare(SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), spec,
                dir.resolve("pipeline"), EngineLog.NONE, Progress.NONE);
        pipeline.calibrate(calib, "cifar 0900-0999", Progress.NONE);
        QdqBuild start = pipeline.build(java.util.Set.of());
        OnnxMl.ModelProto folded = pipeline.fp32();
        OnnxMl.ModelProto unfolded = pipeline.fp32WithBatchNorm();
        QuantizationSettings settings = pipeline.settings();
        QdqPlan plan = start.plan();
        Map<String, TensorRange> ranges = new LinkedHashMap<>();
        start.ranges().forEach((t, r) -> ranges.put(t, r.range()));
        Map<String, String> binding = pipeline.binding(calib);
        Path fp32File = pipeline.fp32File();
        double before = top1(fp32File, QdqWriter.write(folded, plan, ranges, settings).model(), eval, binding, dir);
        System.out.printf("CIFAR PTQ (max) start: top-1 %.4f%n", before);
        if (Boolean.getBoolean("qat.repeat")) {
            for (int i = 0; i < 3; i++) {
                System.out.printf("CIFAR again: %.4f%n", top1(fp32File, QdqWriter.write(folded, plan, ranges, settings).model(), eval, binding, dir));
            }
            StringBuilder sb = new StringBuilder();
            ranges.entrySet().stream().limit(3).forEach(e -> sb.append(e.getKey()).append('=').append(e.getValue()).append(' '));
            System.out.println("CIFAR ranges " + sb);
            return;
        }
        String variants = System.getProperty("qat.variants", "unfolded,folded");
        double lr = Double.parseDouble(System.getProperty("qat.lr", "0.001"));
        int epochs = Integer.parseInt(System.getProperty("qat.epochs", "2"));
        String loss = System.getProperty("qat.loss", "cross_entropy");
        for (String variant : variants.split(",")) {
            OnnxMl.ModelProto trainable = variant.equals("unfolded") ? unfolded : folded;
            QatOptions options = new QatOptions(new QatRecipe(epochs, lr, 32, 0, 1e-4, 0.9, 0.01), loss, 0, true, 0, 0, 0);
            long t0 = System.nanoTime();
            QatResult r = new QatTrainer(QatTestEngine.get()).train(trainable, folded, plan, ranges, settings, train, binding, options,
                    null, Progress.NONE);
            double seconds = (System.nanoTime() - t0) / 1e9;
            double after = top1(fp32File, QdqWriter.write(r.trainedFp32(), plan, r.ranges(), settings).model(), eval, binding, dir);
            System.out.printf("CIFAR QAT %s, %s, lr %g, %d epochs: top-1 %.4f → %.4f in %.1f s; epochs %s%n", variant, loss, lr,
                    epochs, before, after, seconds, r.epochs());
        }
    }

    static double top1(Path fp32File, OnnxMl.ModelProto qdq, ImageFolderDataset eval, Map<String, String> binding, Path dir) throws Exception {
        Path q = dir.resolve("q.onnx");
        Files.write(q, qdq.toByteArray());
        try (OrtModel ref = OrtModel.load(fp32File, 0, OrtSession.SessionOptions.OptLevel.ALL_OPT);
             OrtModel cand = OrtModel.load(q, Integer.getInteger("qat.threads", 0), OrtSession.SessionOptions.OptLevel.valueOf(System.getProperty("qat.opt", "ALL_OPT")))) {
            return new ModelComparison().compare(ref, cand, eval, binding, 50, 2000, Progress.NONE).top1Candidate();
        }
    }
}
