package dev.quantforge.quant.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.quantforge.dataset.io.DatasetFormat;
import dev.quantforge.dataset.io.DatasetReaders;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.testsupport.SharedData;

/**
 * Post-training quantization through the engine's front door alone — no Spring, no job, no database: the
 * way a library user (or a benchmark) drives it. Shared by the engine test and the ptq job test, which
 * checks that the job gets exactly these numbers.
 */
public final class EnginePtq {

    private EnginePtq() {
    }

    /** The CIFAR net's preprocessing (cifar10-mlperftiny-ic/SOURCES.md). */
    public static final Preprocessing CIFAR = new Preprocessing(null, 1 / 255.0, new double[]{0.485, 0.456, 0.406},
            new double[]{0.229, 0.224, 0.225}, Preprocessing.NCHW, Preprocessing.RGB, false);

    /** mnist-8: calibrate on mnist8-calib.npz (1,000 samples), compare on mnist8-eval.npz, the ptq job test's settings. */
    public static PostTrainingQuantization.Outcome mnist8(Path workDir) throws IOException {
        QuantizationSpec spec = QuantizationSpec.DEFAULTS
                .withCalibration(new QuantizationSpec.Calibration(1000, 32, false))
                .withBenchmark(new BenchmarkSettings(50, 20, 1, 1));
        return run(SharedData.file("mnist/mnist-8.onnx"), npz("mnist/mnist8-calib.npz"), npz("mnist/mnist8-eval.npz"), spec, workDir);
    }

    /** The CIFAR net: calibrate on images 0900–0999 of each class, compare on 0000–0199, every calibrator. */
    public static PostTrainingQuantization.Outcome cifar(Path workDir) throws IOException {
        QuantizationSpec spec = QuantizationSpec.DEFAULTS
                .withCalibration(new QuantizationSpec.Calibration(1000, 32, true))
                .withBenchmark(new BenchmarkSettings(30, 20, 8, 1));
        return run(SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), cifarImages(workDir, 900, 1000), cifarImages(workDir, 0, 200),
                spec, workDir);
    }

    public static PostTrainingQuantization.Outcome run(Path model, SampleSource calibration, SampleSource evaluation, QuantizationSpec spec,
                                                       Path workDir) throws IOException {
        try (QuantizationPipeline p = QuantizationPipeline.prepare(model, spec, workDir, EngineLog.NONE, Progress.NONE)) {
            p.calibrate(calibration, "calibration", Progress.NONE);
            return PostTrainingQuantization.run(p, evaluation, Progress.NONE);
        }
    }

    static SampleSource npz(String shared) throws IOException {
        return DatasetReaders.open(SharedData.file(shared), DatasetFormat.NPZ, Preprocessing.DEFAULT);
    }

    static SampleSource cifarImages(Path dir, int from, int to) throws IOException {
        Path zip = dir.resolve("cifar-" + from + "-" + to + ".zip");
        Files.write(zip, SharedData.cifarZip(from, to));
        return DatasetReaders.open(zip, DatasetFormat.IMAGE_FOLDER, CIFAR);
    }
}
