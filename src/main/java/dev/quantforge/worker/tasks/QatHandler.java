package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.springframework.stereotype.Component;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.qat.EpochStats;
import dev.quantforge.qat.QatEngine;
import dev.quantforge.qat.QatRecipe;
import dev.quantforge.qat.QatSpec;
import dev.quantforge.qat.StepStats;
import dev.quantforge.qat.QuantizationAwareTraining;
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

    static final JobTypeSpec SPEC = JobTypeSpec.of("qat", QatConfig.schema())
            .requires("onnxruntime", "qat").needs(DatasetRole.TRAINING).accepts(DatasetRole.CALIBRATION, DatasetRole.EVALUATION)
            .quantizes().checkConfig(QatConfig::check).checkSubmission(QatConfig::checkSubmission).build();

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    record QatResultView(Side before, Side after, Fp32 fp32, Double top1Change, String evaluatedOn, String loss, Recipe recipe,
                         String batchNorm, String calibrator, String fromJobId, List<Epoch> epochs, List<StepStats> steps,
                         double trainingImagesPerSecond,
                         double trainingSeconds, double speedupP50, int quantizedNodes) {
    }

    record Side(Double top1, Double agreement, double sqnrDb, double cosine, Double kl, long samples, String measuredWith,
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
            JobOutcome outcome = outcome(exec, p, trainSet, o);
            AttemptRunner.deleteTree(checkpoints); // done: a later retry starts over
            return outcome;
        }
    }

    private static JobOutcome outcome(JobExecution exec, QuantizationPipeline p, JobExecution.DatasetInput trainSet,
                                      QuantizationAwareTraining.Outcome o) throws Exception {
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
                o.trained().steps(), // the training curve, at most QatTrainer.STEP_SAMPLES_PER_EPOCH samples per epoch
                epochSeconds > 0 ? samples / epochSeconds : 0, o.trainingSeconds(), o.latency().speedupP50(), p.plan().quantizedNodes().size());
        return JobOutcome.of(result,
                List.of(JobOutcome.ReportDraft.of(config, metrics, qLat.runtime(),
                        Results.layers(AccuracyBudgetSearch.decisions(p, Set.of(), java.util.Map.of())), "reportId")),
                List.of(new JobOutcome.ArtifactDraft("quantized_model", "model.qat.int8.onnx", o.model().file(), "quantizedModelArtifactId")));
    }
}
