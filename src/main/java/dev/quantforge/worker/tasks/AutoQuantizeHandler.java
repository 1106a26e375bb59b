package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.search.AccuracyBudgetSearch;
import dev.quantforge.quant.search.AccuracyBudgetSearch.Trial;
import dev.quantforge.quant.search.BudgetSpec;
import dev.quantforge.report.ReportMetrics;
import dev.quantforge.report.SvgCharts;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code auto_quantize}: the engine's {@link AccuracyBudgetSearch}, every trial stored as a report as soon as
 * it is measured (a restarted job resumes without repeating it), the best configuration's model, the
 * Pareto set and an SVG chart.
 */
@Component
public class AutoQuantizeHandler implements JobHandler {

    static final JobTypeSpec SPEC = JobTypeSpec.of("auto_quantize", QuantizationConfig.schema()
                    .numberField("maxAccuracyDrop", BudgetSpec.DEFAULTS.maxAccuracyDrop(), 0, 1)
                    .numberField("maxCosineDrop", null, 0, 2)
                    .enumListField("modes", dev.quantforge.quant.pipeline.QuantizationSpec.Mode.class)
                    .enumField("dropType", BudgetSpec.DEFAULTS.dropType(), BudgetSpec.DropType.class)
                    .intField("timeBudgetSeconds", BudgetSpec.DEFAULTS.timeBudgetSeconds(), 10, 7 * 24 * 3600)
                    .intField("maxTrials", (long) BudgetSpec.DEFAULTS.maxTrials(), 1, 10_000))
            .needs(JobTypeSpec.DatasetRole.EVALUATION).accepts(JobTypeSpec.DatasetRole.CALIBRATION)
            .quantizes().checkConfig(QuantizationConfig::check).checkDatasets(QuantizationConfig::checkDatasets)
            .checkSubmission(AutoQuantizeHandler::checkSubmission).build();

    /** {@code modes} names concrete modes; trying static means calibrating, so it makes the job's mode static. */
    static void checkSubmission(tools.jackson.databind.node.ObjectNode c, JobTypeSpec.Submission s,
                                List<dev.quantforge.platform.ApiException.FieldError> errors) {
        boolean statik = false;
        for (tools.jackson.databind.JsonNode m : c.path("modes")) {
            if ("auto".equals(m.asString())) {
                errors.add(new dev.quantforge.platform.ApiException.FieldError("config.modes",
                        "lists the modes to try: static, dynamic, weight_only (auto is what mode picks when modes is absent)"));
            }
            statik |= "static".equals(m.asString());
        }
        if (statik) {
            c.put(QuantizationConfig.MODE, "static");
        }
        QuantizationConfig.checkSubmission(c, s, errors);
    }

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    /**
     * @param best          the answer: the fastest configuration within budget, FP32 itself ({@code precision: fp32}) when that is faster
     * @param bestQuantized the fastest quantized configuration within budget, else the closest (the model artifact)
     */
    record AutoQuantizeResult(double maxAccuracyDrop, Double maxCosineDrop, BudgetSpec.DropType dropType, boolean budgetMet,
                              String statement, String stoppedBecause, Best best, Best bestQuantized, Fp32 fp32, List<UUID> paretoReportIds,
                              int trials, int resumedTrials, List<UUID> trialReportIds) {
    }

    record Best(String precision, String mode, UUID reportId, Double top1, double accuracyDrop, Results.LatencyMs latencyMs,
                double speedupP50, Integer trial, Set<String> floatNodes) {
        static Best of(Trial t) {
            return new Best(t.isFp32() ? "fp32" : t.mode() == dev.quantforge.quant.pipeline.QuantizationSpec.Mode.WEIGHT_ONLY ? "int4" : "int8",
                    t.isFp32() ? null : ConfigSchema.apiName(t.mode()), t.reportId(), t.top1(), t.accuracyDrop(),
                    Results.LatencyMs.p50(t.latencyP50Ms()), t.isFp32() ? 1.0 : t.speedupP50(), t.isFp32() ? null : t.index(), t.floatNodes());
        }
    }

    record Fp32(Double top1, Results.LatencyMs latencyMs) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        BudgetSpec budget = exec.config(BudgetSpec.class);
        try (QuantizationPipeline p = QuantizationConfig.open(exec, QuantizationConfig.spec(exec.config()),
                QuantizationConfig.histogramsFrom(exec.config()), exec.progress().scaled(0.01, 0.15))) {
            AccuracyBudgetSearch.Outcome o = AccuracyBudgetSearch.run(p, budget, QuantizationConfig.compareOn(exec).open(), new Trials(new StoredReports(exec)),
                    exec.progress().scaled(0.15, 0.95));
            Trial best = o.best();
            Path chart = exec.workDir().resolve("pareto.svg");
            Files.writeString(chart, SvgCharts.paretoScatter("auto_quantize: " + budget.dropName() + " drop vs p50 latency ("
                            + o.trials().size() + " trials)",
                    o.trials().stream().map(t -> new SvgCharts.Point("trial " + t.index() + " (" + ConfigSchema.apiName(t.mode()) + ", "
                            + t.floatNodes().size() + " float)", t.latencyP50Ms(), 1 - t.accuracyDrop(), o.pareto().contains(t),
                            t == o.bestQuantized())).toList()));
            AutoQuantizeResult result = new AutoQuantizeResult(budget.maxAccuracyDrop(), budget.maxCosineDrop(), budget.dropType(),
                    o.budgetMet(), o.statement(), o.stoppedBecause(), Best.of(best), Best.of(o.bestQuantized()),
                    new Fp32(o.trials().get(0).top1Fp32(), Results.LatencyMs.p50(best.fp32LatencyP50Ms())),
                    o.pareto().stream().map(Trial::reportId).toList(), o.trials().size(), o.resumedTrials(),
                    o.trials().stream().map(Trial::reportId).toList());
            return JobOutcome.of(result, List.of(), List.of(
                    new JobOutcome.ArtifactDraft("quantized_model", "model.int8.onnx", o.bestModel(), "quantizedModelArtifactId"),
                    new JobOutcome.ArtifactDraft("profile", "pareto.svg", chart, "chartArtifactId")));
        }
    }

    /** Trials are reports of this job, found again by their configuration's hash. */
    private record Trials(StoredReports reports) implements AccuracyBudgetSearch.TrialStore {
        @Override
        public Optional<AccuracyBudgetSearch.StoredTrial> find(AccuracyBudgetSearch.TrialConfiguration configuration) {
            return reports.find(configuration).map(hit -> {
                ReportMetrics m = StoredReports.metrics(hit);
                return new AccuracyBudgetSearch.StoredTrial(UUID.fromString(hit.path("id").asString()), m.top1(), m.top1Fp32(),
                        m.accuracyDrop(), m.latencyP50Ms(), m.latencyFp32P50Ms());
            });
        }

        @Override
        public UUID save(AccuracyBudgetSearch.TrialConfiguration configuration, AccuracyBudgetSearch.MeasuredTrial t) {
            ReportMetrics metrics = ReportMetrics.builder().fullComparison(t.comparison())
                    .accuracyDrop(t.accuracyDrop(), t.dropType())
                    .latency(t.latency().candidate()).versusFp32(t.latency().fp32(), t.latency().speedupP50())
                    .trial(t.index(), t.floatNodes().size()).modelSizeBytes(t.modelSizeBytes()).build();
            return reports.save(configuration, metrics, t.latency().candidate().runtime(), Results.layers(t.layers()));
        }
    }
}
