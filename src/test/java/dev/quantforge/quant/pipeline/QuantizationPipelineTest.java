package dev.quantforge.quant.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.testsupport.SharedData;

/** The engine's front door on its own: real models, real ONNX Runtime sessions, no service around it. */
class QuantizationPipelineTest {

    @Test
    void mnist8QuantizesWithinAThirdOfAPointAndFuses(@TempDir Path dir) throws Exception {
        PostTrainingQuantization.Outcome o = EnginePtq.mnist8(dir);
        assertThat(o.best().comparison().top1Reference()).isEqualTo(0.9805);
        assertThat(o.best().comparison().top1Candidate()).isGreaterThanOrEqualTo(0.9805 - 0.003);
        assertThat(o.best().method()).isEqualTo(CalibrationMethod.MSE);
        assertThat(o.fusedInt8Kernels()).isGreaterThanOrEqualTo(3);
        assertThat(o.runtimeOps()).containsKey("QLinearConv");
        assertThat(o.layerSqnr()).isNotEmpty();
        assertThat(o.latency().speedupP50()).isPositive();
    }

    @Test
    void cifarNetWithEveryCalibratorFromOnePass(@TempDir Path dir) throws Exception {
        PostTrainingQuantization.Outcome o = EnginePtq.cifar(dir);
        double fp32 = o.best().comparison().top1Reference();
        assertThat(fp32).isBetween(0.77, 0.81);
        assertThat(o.candidates()).extracting(PostTrainingQuantization.Candidate::method)
                .containsExactlyElementsOf(PostTrainingQuantization.ALL_CALIBRATORS);
        assertThat(o.best().comparison().top1Candidate()).isGreaterThanOrEqualTo(fp32 - 0.015);
        assertThat(o.best().build().plan().quantizedNodes()).hasSizeGreaterThanOrEqualTo(27);
    }

    @Test
    void nodesKeptFloatAreNotQuantizedAndHistogramsMustCoverThePlan(@TempDir Path dir) throws Exception {
        try (QuantizationPipeline p = QuantizationPipeline.prepare(SharedData.file("mnist/mnist-8.onnx"), QuantizationSpec.DEFAULTS, dir,
                EngineLog.NONE, Progress.NONE)) {
            var calib = EnginePtq.npz("mnist/mnist8-calib.npz");
            var histograms = p.calibrate(calib, "calib", Progress.NONE);
            String first = p.quantizedNodes().get(0);
            QdqBuild build = p.build(Set.of(first));
            assertThat(build.plan().node(first).quantized()).isFalse();
            assertThat(build.plan().quantizedNodes()).hasSize(p.quantizedNodes().size() - 1);
            assertThat(Files.size(build.file())).isPositive();

            var partial = new dev.quantforge.quant.calib.HistogramSet(histograms.bins(), histograms.samples(), java.util.Map.of());
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> p.useHistograms(partial, "an empty set", Progress.NONE))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("lack");
        }
    }
}
