package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.springframework.stereotype.Component;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.platform.ApiException.FieldError;
import dev.quantforge.qat.EpochStats;
import dev.quantforge.qat.QatEngine;
import dev.quantforge.qat.QatRecipe;
import dev.quantforge.qat.QatSpec;
import dev.quantforge.qat.QuantizationAwareTraining;
import dev.quantforge.qat.TrainableGraph;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.qdq.OrtFusionCheck;
import dev.quantforge.quant.search.AccuracyBudgetSearch;
import dev.quantforge.report.ReportMetrics;
import dev.quantforge.worker.AttemptRunner;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code qat}: the engine's {@link QuantizationAwareTraining} from a calibrated PTQ start (a {@code fromJobId}'s
 * histograms, or a calibration pass), checkpointed in the worker cache per epoch (a restarted or retried job
 * resumes), stored as a report whose config carries a {@code qat} section and the trained QDQ model.
 */
@Component
public class QatHandler implements JobHandler {

    static final JobTypeSpec SPEC = JobTypeSpec.of("qat", schema())
            .requires("onnxruntime", "qat").needs(DatasetRole.TRAINING).accepts(DatasetRole.CALIBRATION, DatasetRole.EVALUATION)
            .labelled(DatasetRole.EVALUATION).quantizes().checkConfig(QatHandler::check).checkModel(QatHandler::checkModel).build();

    private static dev.quantforge.job.ConfigSchema schema() {
        QatSpec d = QatSpec.DEFAULTS;
        return QuantizationConfig.schema()
                .stringField("fromJobId", null, 64)
                .intField("epochs", null, 1, 1000)
                .section("baseRecipe", s -> s
                        .intField("epochs", (long) d.baseRecipe().epochs(), 1, 100_000)
                        .numberField("lr", d.baseRecipe().lr(), 0, 100)
                        .intField("batchSize", (long) d.baseRecipe().batchSize(), 1, 65_536)
                        .intField("warmupEpochs", (long) d.baseRecipe().warmupEpochs(), 0, 100_000)
                        .numberField("weightDecay", d.baseRecipe().weightDecay(), 0, 1))
                .section("recipeModification", s -> s
                        .intField("batchSizeDivisor", (long) d.recipeModification().batchSizeDivisor(), 1, 1024)
                        .intField("maxEpochsDivisor", (long) d.recipeModification().maxEpochsDivisor(), 1, 10_000)
                        .numberField("lrDecayFactor", d.recipeModification().lrDecayFactor(), 0, 1)
                        .intField("warmupEpochsDivisor", (long) d.recipeModification().warmupEpochsDivisor(), 1, 10_000)
                        .numberField("cosineFinalLrRatio", d.recipeModification().cosineFinalLrRatio(), 0, 1))
                .enumField("optimizer", d.optimizer(), QatSpec.Optimizer.class)
                .numberField("momentum", d.momentum(), 0, 0.999)
                .enumField("loss", d.loss(), QatSpec.Loss.class)
                .numberField("temperature", d.temperature(), 0, 1e6)
                .boolField("learnRanges", d.learnRanges())
                .enumField("batchNorm", d.batchNorm(), QatSpec.BatchNormMode.class)
                .section("training", s -> s
                        .intField("maxSamples", d.training().maxSamples(), 0, Integer.MAX_VALUE)
                        .intField("maxSamplesPerEpoch", d.training().maxSamplesPerEpoch(), 0, Integer.MAX_VALUE)
                        .intField("seed", d.training().seed(), 0, Integer.MAX_VALUE));
    }

    private static void check(tools.jackson.databind.node.ObjectNode c, List<FieldError> errors) {
        QuantizationConfig.check(c, errors);
        if (c.path("learnRanges").asBoolean(false)) {
            errors.add(new FieldError("config.learnRanges", "learned (LSQ) activation ranges are not available in this"
                    + " version: on the CIFAR net the learned scales diverged at the recipe's LR and did nothing at 1/10 of it;"
                    + " QAT trains with the calibrated ranges — leave learnRanges false"));
        }
        QuantizationConfig.checkJobId(c.path("fromJobId"), "config.fromJobId", "an earlier ptq job of this model", errors);
        String from = c.path("fromJobId").asString(null);
        String inner = c.path("calibration").path("fromJobId").asString(null);
        if (from != null && inner != null && !inner.equals(from)) {
            errors.add(new FieldError("config.fromJobId", "differs from config.calibration.fromJobId; give one"));
        }
    }

    private static void checkModel(dev.quantforge.quant.inspect.ModelSummary summary, List<FieldError> errors) {
        List<String> unsupported = new ArrayList<>();
        for (String op : summary.opTypes().keySet()) {
            if (!TrainableGraph.SUPPORTED_OPS.contains(op)) {
                unsupported.add(op);
            }
        }
        if (!unsupported.isEmpty()) {
            errors.add(new FieldError("modelId", "QAT cannot train this model: unsupported op(s) " + String.join(", ", unsupported)
                    + "; QAT supports " + String.join(", ", TrainableGraph.SUPPORTED_OPS)
                    + " (use ptq, sensitivity or auto_quantize for this model)"));
        }
    }

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    record QatResultView(Side before, Side after, Fp32 fp32, Double top1Change, String evaluatedOn, String loss, Recipe recipe,
                         String batchNorm, String calibrator, String fromJobId, List<Epoch> epochs, double trainingImagesPerSecond,
                         double trainingSeconds, double speedupP50, int quantizedNodes) {
    }

    record Side(Double top1, double agreement, double sqnrDb, double cosine, double kl, long samples, String measuredWith,
                Results.LatencyMs latencyMs) {
        static Side of(ModelComparison.Result r, BenchmarkResult latency) {
            return new Side(r.top1Candidate(), r.agreement(), r.sqnrDb(), r.cosine(), r.klDivergence(), r.samples(), "onnxruntime",
                    latency == null ? null : new Results.LatencyMs(latency.latencyMs().p50(), latency.latencyMs().p90(),
                            latency.latencyMs().p99(), null));
        }
    }

    record Fp32(Double top1, Results.LatencyMs latencyMs) {
    }

    record Recipe(int epochs, double lr, int batchSize, int warmupEpochs, double weightDecay, double momentum, double cosineFinalLrRatio,
                  String optimizer) {
        static Recipe of(QatRecipe r) {
            return new Recipe(r.epochs(), r.lr(), r.batchSize(), r.warmupEpochs(), r.weightDecay(), r.momentum(), r.cosineFinalLrRatio(), "sgd");
        }
    }

    record Epoch(int epoch, double loss, Double runningTop1, double lr, long samples, double seconds, double imagesPerSecond) {
    }

    /** The report's config: the PTQ layer configuration plus what makes it QAT (its hash differs from the PTQ start's). */
    record QatConfiguration(String precision, String activations, String weights, boolean reduceRangeWeights, String calibrator,
                            java.util.Map<String, dev.quantforge.quant.search.LayerState> layers, QatSection qat) {
    }

    record QatSection(String loss, Recipe recipe, String batchNorm, String trainingDatasetId, String sourceJobId) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        JsonNode cfg = exec.config();
        QatSpec spec = exec.config(QatSpec.class);
        Optional<UUID> from = Optional.ofNullable(cfg.path("fromJobId").asString(null)).map(UUID::fromString)
                .or(() -> QuantizationConfig.histogramsFrom(cfg));
        JobExecution.DatasetInput trainSet = exec.dataset(DatasetRole.TRAINING).orElseThrow();
        Path checkpoints = exec.cacheDir().resolve("qat-checkpoints").resolve(exec.jobId().toString());
        try (QuantizationPipeline p = QuantizationConfig.open(exec, QuantizationConfig.spec(cfg), from, exec.progress().scaled(0, 0.08))) {
            QuantizationAwareTraining.Outcome o = QuantizationAwareTraining.run(p, spec, trainSet.open(), trainSet.name(),
                    QuantizationConfig.compareOn(exec).open(), QatEngine.start(exec.cacheDir().resolve("djl")), checkpoints,
                    exec.progress().scaled(0.08, 0.99));
            JobOutcome outcome = outcome(exec, p, spec, from, trainSet, o);
            AttemptRunner.deleteTree(checkpoints); // done: a later retry starts over
            return outcome;
        }
    }

    private static JobOutcome outcome(JobExecution exec, QuantizationPipeline p, QatSpec spec, Optional<UUID> from,
                                      JobExecution.DatasetInput trainSet, QuantizationAwareTraining.Outcome o) throws Exception {
        BenchmarkResult fpLat = o.latency().fp32();
        BenchmarkResult qLat = o.latency().candidate();
        String batchNorm = o.keptBatchNorm() ? (o.options().batchNormFrozen() ? "frozen" : "train") : "folded";
        AccuracyBudgetSearch.TrialConfiguration ptq = AccuracyBudgetSearch.configuration(p, Set.of());
        QatConfiguration config = new QatConfiguration(ptq.precision(), ptq.activations(), ptq.weights(), ptq.reduceRangeWeights(),
                ptq.calibrator(), ptq.layers(), new QatSection(o.loss(), Recipe.of(o.recipe()), batchNorm, trainSet.id().toString(),
                exec.jobId().toString()));
        ReportMetrics metrics = ReportMetrics.builder().fullComparison(o.after()).qat(o.trained().epochs().size(),
                        o.before().top1Candidate(), o.before().agreement())
                .latency(qLat).versusFp32(fpLat, o.latency().speedupP50()).fusedInt8Kernels(OrtFusionCheck.fusedInt8Count(o.runtimeOps()))
                .modelSizeBytes(Files.size(o.model().file())).build();

        List<Epoch> epochs = o.trained().epochs().stream().map(e -> new Epoch(e.epoch(), e.meanLoss(), e.runningTop1(), e.lr(), e.samples(),
                e.seconds(), e.imagesPerSecond())).toList();
        double samples = o.trained().epochs().stream().mapToDouble(EpochStats::samples).sum();
        double epochSeconds = o.trained().epochs().stream().mapToDouble(EpochStats::seconds).sum();
        Double change = o.before().top1Candidate() != null && o.after().top1Candidate() != null
                ? o.after().top1Candidate() - o.before().top1Candidate() : null;
        QatResultView result = new QatResultView(Side.of(o.before(), null), Side.of(o.after(), qLat),
                new Fp32(o.after().top1Reference(), Results.LatencyMs.p50(fpLat.latencyMs().p50())), change,
                exec.dataset(DatasetRole.EVALUATION).isPresent() ? "evaluation" : "calibration", o.loss(), Recipe.of(o.recipe()), batchNorm,
                p.spec().activations().calibrator().apiName(), exec.config().path("fromJobId").asString(null), epochs,
                epochSeconds > 0 ? samples / epochSeconds : 0, o.trainingSeconds(), o.latency().speedupP50(), p.plan().quantizedNodes().size());
        return JobOutcome.of(result,
                List.of(JobOutcome.ReportDraft.of(config, metrics, qLat.runtime(),
                        Results.layers(AccuracyBudgetSearch.decisions(p, Set.of(), java.util.Map.of())), "reportId")),
                List.of(new JobOutcome.ArtifactDraft("quantized_model", "model.qat.int8.onnx", o.model().file(), "quantizedModelArtifactId")));
    }
}
