package dev.quantforge.quant.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.quantforge.dataset.io.TextDataset;
import dev.quantforge.dataset.io.TextOptions;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.eval.Task;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.DjlNatives;
import dev.quantforge.testsupport.TextModels;

/**
 * The calibration-free modes on a real BERT encoder (tinybert, shared/datasets), through the front door: the artifacts
 * load in ONNX Runtime and its optimized graph holds the fused integer kernels each mode is for, no calibration pass is
 * made, and the comparison of an embedding model on unlabelled text reports pooled cosine and nearest-neighbour
 * agreement, never a top-1.
 */
class CalibrationFreeModesTest {

    private static TextDataset sentences;

    @BeforeAll
    static void text(@TempDir Path dir) throws Exception {
        DjlNatives.useCacheDir(Path.of("target", "djl"));
        Path file = Files.write(dir.resolve("snli-64.txt"), Files.readAllLines(TextModels.snliSentences()).subList(0, 64));
        TextOptions options = new TextOptions(32, null);
        TextDataset.TextSummary s = TextDataset.scan(file, "snli-64.txt", TextModels.tinybertTokenizer(), options, Long.MAX_VALUE);
        sentences = new TextDataset(file, TextModels.tinybertTokenizer(), options, s.layout(), s.sentences(), s.hasLabels());
    }

    private static QuantizationPipeline pipeline(QuantizationSpec.Mode mode, Path dir) throws java.io.IOException {
        return QuantizationPipeline.prepare(TextModels.tinybert(), QuantizationSpec.DEFAULTS.withMode(mode), dir, EngineLog.NONE, Progress.NONE);
    }

    @Test
    void dynamicInt8FusesEveryMatMulIntoOnnxRuntimesDynamicKernels(@TempDir Path dir) throws Exception {
        try (QuantizationPipeline p = pipeline(QuantizationSpec.Mode.DYNAMIC, dir)) {
            assertThat(p.spec().needsCalibration()).isFalse();
            QdqBuild b = p.buildCalibrationFree(Set.of(), QuantizationSpec.Mode.DYNAMIC);
            assertThat(b.method()).as("no calibrator").isNull();
            Map<String, Integer> ops = p.runtimeOps(b.file());
            int fused = ops.getOrDefault("DynamicQuantizeMatMul", 0) + ops.getOrDefault("MatMulIntegerToFloat", 0);
            assertThat(fused).as("optimized graph %s", ops).isGreaterThanOrEqualTo(6);
            assertThat(ops).as("nothing left as a bare MatMulInteger").doesNotContainKey("MatMulInteger");

            ModelComparison.Result r = p.compare(b.file(), sentences, Progress.NONE);
            assertThat(r.task()).isEqualTo(Task.EMBEDDING);
            assertThat(r.top1Candidate()).as("no labels: no top-1").isNull();
            assertThat(r.top1Reference()).isNull();
            assertThat(r.agreement()).as("argmax agreement means nothing for embeddings").isNull();
            assertThat(r.pooledCosine()).isGreaterThan(0.98);
            assertThat(r.nearestNeighbourAgreement()).isBetween(0.0, 1.0);
            assertThat(r.outputs()).extracting(ModelComparison.OutputScore::name).containsExactly("output_0", "output_1");
        }
    }

    @Test
    void weightOnlyInt4BecomesMatMulNBitsAndShrinksTheMatMulWeights(@TempDir Path dir) throws Exception {
        try (QuantizationPipeline p = pipeline(QuantizationSpec.Mode.WEIGHT_ONLY, dir)) {
            QdqBuild b = p.buildCalibrationFree(Set.of(), QuantizationSpec.Mode.WEIGHT_ONLY);
            Map<String, Integer> ops = p.runtimeOps(b.file());
            assertThat(ops.getOrDefault("MatMulNBits", 0)).as("optimized graph %s", ops).isGreaterThanOrEqualTo(6);
            assertThat(Files.size(b.file())).isLessThan(Files.size(p.fp32File()));
            ModelComparison.Result r = p.compare(b.file(), sentences, Progress.NONE);
            assertThat(r.pooledCosine()).isGreaterThan(0.9);
            assertThat(r.top1Candidate()).isNull();
        }
    }

    @Test
    void aNodeKeptFloatStaysAFloatMatMul(@TempDir Path dir) throws Exception {
        try (QuantizationPipeline p = pipeline(QuantizationSpec.Mode.DYNAMIC, dir)) {
            String ffn = p.plan().quantizedNodes().stream().filter(n -> n.opType().equals("MatMul") && n.weight() != null)
                    .map(dev.quantforge.quant.qdq.QdqPlan.PlannedNode::name).findFirst().orElseThrow();
            QdqBuild all = p.buildCalibrationFree(Set.of(), QuantizationSpec.Mode.DYNAMIC);
            QdqBuild lessOne = p.buildCalibrationFree(Set.of(ffn), QuantizationSpec.Mode.DYNAMIC);
            int fusedAll = fused(p.runtimeOps(all.file()));
            int fusedLessOne = fused(p.runtimeOps(lessOne.file()));
            assertThat(fusedLessOne).isEqualTo(fusedAll - 1);
        }
    }

    private static int fused(Map<String, Integer> ops) {
        return ops.getOrDefault("DynamicQuantizeMatMul", 0) + ops.getOrDefault("MatMulIntegerToFloat", 0);
    }
}
