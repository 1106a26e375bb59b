package dev.quantforge.qat;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import dev.quantforge.dataset.io.ImageFolderDataset;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.quant.calib.ActivationCollector;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationParams;
import dev.quantforge.quant.calib.Calibrators;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.onnx.PrepareOptions;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqPlanner;
import dev.quantforge.quant.qdq.QdqPreparation;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.testsupport.SharedData;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
        OnnxMl.ModelProto original = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx")));
        OnnxMl.ModelProto folded = QdqPreparation.apply(new GraphPreparer().prepare(original, new PrepareOptions(true)).model());
        OnnxMl.ModelProto unfolded = QdqPreparation.apply(new GraphPreparer().prepare(original, new PrepareOptions(false)).model());
        QuantizationSettings settings = new QuantizationSettings(true, QuantizationSettings.ActivationType.UINT8_ASYMMETRIC, true,
                java.util.Set.of(), java.util.Set.of(), List.of(), true);
        QdqPlan plan = QdqPlanner.plan(folded, settings);
        ImageFolderDataset train = cifar(dir, 300, 600);
        ImageFolderDataset calib = cifar(dir, 900, 1000);
        ImageFolderDataset eval = cifar(dir, 0, 200);
        String input = folded.getGraph().getInput(0).getName();
        Map<String, String> binding = Map.of(input, ImageFolderDataset.TENSOR_NAME);
        Map<String, TensorHistogram> h = new ActivationCollector().collect(folded, new ArrayList<>(plan.activationTensors()), calib,
                binding, 50, 1000, TensorHistogram.DEFAULT_BINS, Progress.NONE);
        Map<String, TensorRange> ranges = new LinkedHashMap<>();
        h.forEach((t, hist) -> ranges.put(t, Calibrators.compute(hist, CalibrationMethod.MAX, CalibrationParams.uint8Asymmetric()).range()));
        Path fp32File = dir.resolve("fp32.onnx");
        Files.write(fp32File, folded.toByteArray());
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
