package dev.quantforge.quant.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.quantforge.dataset.io.DatasetFormat;
import dev.quantforge.dataset.io.DatasetReaders;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.pipeline.EnginePtq;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.testsupport.SharedData;

/** With {@code floatPrecision: fp16}, the search reverts a layer to FP16 first and to FP32 only when FP16 still breaks the budget. */
class Fp16FallbackSearchTest {

    @Test
    void aRevertedLayerGoesToFp16FirstAndToFp32OnlyWhenThatStillBreaksTheBudget(@TempDir Path dir) throws Exception {
        Path zip = dir.resolve("cifar.zip");
        Files.write(zip, SharedData.cifarZip(900, 905));
        SampleSource data = DatasetReaders.open(zip, DatasetFormat.IMAGE_FOLDER, EnginePtq.CIFAR);
        QuantizationSpec spec = QuantizationSpec.DEFAULTS.withMode(QuantizationSpec.Mode.STATIC)
                .withFloatPrecision(QuantizationSpec.FloatPrecision.FP16)
                .withCalibration(new QuantizationSpec.Calibration(50, 25, false))
                .withBenchmark(new BenchmarkSettings(3, 1, 5, 1));
        // a cosine budget nothing quantized can meet: every level is tried
        BudgetSpec budget = new BudgetSpec(0.01, 1e-12, null, 600, 4, null);
        List<AccuracyBudgetSearch.TrialConfiguration> stored = new ArrayList<>();
        AccuracyBudgetSearch.TrialStore store = new AccuracyBudgetSearch.TrialStore() {
            @Override
            public Optional<AccuracyBudgetSearch.StoredTrial> find(AccuracyBudgetSearch.TrialConfiguration configuration) {
                return Optional.empty();
            }

            @Override
            public UUID save(AccuracyBudgetSearch.TrialConfiguration configuration, AccuracyBudgetSearch.MeasuredTrial trial) {
                stored.add(configuration);
                return UUID.randomUUID();
            }
        };
        try (QuantizationPipeline p = QuantizationPipeline.prepare(SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), spec, dir.resolve("w"),
                EngineLog.NONE, Progress.NONE)) {
            p.calibrate(data, "cifar", Progress.NONE);
            AccuracyBudgetSearch.Outcome o = AccuracyBudgetSearch.run(p, budget, data, store, Progress.NONE);
            assertThat(o.trials()).hasSize(4);
            assertThat(stored.get(0).fp16Layers()).isNull(); // fully quantized
            String first = o.trials().get(1).floatNodes().iterator().next();
            assertThat(stored.get(1).fp16Layers()).containsExactly(first);
            assertThat(o.trials().get(1).fp32Nodes()).isEmpty();
            // FP16 did not meet the budget: the same layer again, now FP32
            assertThat(o.trials().get(2).floatNodes()).containsExactly(first);
            assertThat(o.trials().get(2).fp32Nodes()).containsExactly(first);
            assertThat(stored.get(2).fp16Layers()).isNull();
            assertThat(stored.get(2).layers()).isEqualTo(stored.get(1).layers());
            // the next layer starts at FP16 again
            assertThat(o.trials().get(3).floatNodes()).hasSize(2).contains(first);
            assertThat(stored.get(3).fp16Layers()).hasSize(1).doesNotContain(first);
        }
    }
}
