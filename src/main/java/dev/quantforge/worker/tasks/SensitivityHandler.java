package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.search.SensitivityAnalysis;
import dev.quantforge.quant.search.SensitivitySpec;
import dev.quantforge.report.ReportMetrics;
import dev.quantforge.report.SvgCharts;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code sensitivity}: the engine's {@link SensitivityAnalysis}, every probe stored as a report the moment it
 * is measured (a restarted job resumes after it), the ranking as the result and an SVG chart.
 */
@Component
public class SensitivityHandler implements JobHandler {

    static final JobTypeSpec SPEC = JobTypeSpec.of("sensitivity", QuantizationConfig.schema(QuantizationConfig.SENSITIVITY_MODE)
                    .enumField("metric", SensitivitySpec.DEFAULTS.metric(), SensitivitySpec.Metric.class)
                    .enumField("mode", SensitivitySpec.DEFAULTS.mode(), SensitivitySpec.Mode.class)
                    .enumField("granularity", SensitivitySpec.DEFAULTS.granularity(), SensitivitySpec.Granularity.class))
            .accepts(JobTypeSpec.DatasetRole.CALIBRATION, JobTypeSpec.DatasetRole.EVALUATION).quantizes()
            .checkConfig((c, e) -> QuantizationConfig.check(c, QuantizationConfig.SENSITIVITY_MODE, e))
            .checkDatasets((c, g, e) -> QuantizationConfig.checkDatasets(c, QuantizationConfig.SENSITIVITY_MODE, g, e))
            .checkSubmission(SensitivityHandler::checkSubmission).build();

    /** The config's names and jobs (as every quantizing type), and top-1 only on a labelled comparison set. */
    static void checkSubmission(tools.jackson.databind.node.ObjectNode c, JobTypeSpec.Submission s,
                                List<dev.quantforge.platform.ApiException.FieldError> errors) {
        QuantizationConfig.checkSubmission(c, QuantizationConfig.SENSITIVITY_MODE, s, errors);
        if ("top1".equals(c.path("metric").asString())) {
            s.dataset(JobTypeSpec.DatasetRole.EVALUATION).or(() -> s.dataset(JobTypeSpec.DatasetRole.CALIBRATION))
                    .filter(d -> !d.hasLabels()).ifPresent(d -> errors.add(new dev.quantforge.platform.ApiException.FieldError("config.metric",
                            "metric top1 needs labels, and dataset " + d.id() + " (" + d.name() + "), which the layers are scored on, has none;"
                                    + " use metric auto (KL or pooled cosine to FP32, no labels needed) or give a labelled evaluationDatasetId")));
        }
    }

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    record SensitivityResult(SensitivitySpec.Metric metric, SensitivitySpec.Mode mode, SensitivitySpec.Granularity granularity,
                             List<SensitivityAnalysis.LayerScore> layers, List<UUID> reportIds, int probes, int resumedProbes,
                             Double rankCorrelationWithTop1, Double top1NoiseFloor) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        SensitivitySpec spec = exec.config(SensitivitySpec.class);
        try (QuantizationPipeline p = QuantizationConfig.open(exec, QuantizationConfig.spec(exec.config(), QuantizationConfig.SENSITIVITY_MODE),
                QuantizationConfig.histogramsFrom(exec.config()), exec.progress().scaled(0.01, 0.2))) {
            StoredReports reports = new StoredReports(exec);
            SensitivityAnalysis.Outcome o = SensitivityAnalysis.run(p, spec, QuantizationConfig.compareOn(exec).open(), new Probes(reports),
                    exec.progress().scaled(0.2, 0.95));
            List<UUID> reportIds = reports.ids();
            Path chart = exec.workDir().resolve("sensitivity.svg");
            SensitivitySpec used = o.spec();
            Files.writeString(chart, SvgCharts.rankedBars("Sensitivity (" + SensitivitySpec.apiName(used.metric()) + ", "
                            + SensitivitySpec.apiName(spec.mode()).replace('_', ' ') + ")",
                    o.layers().stream().map(SensitivityAnalysis.LayerScore::node).toList(),
                    o.layers().stream().map(SensitivityAnalysis.LayerScore::score).toList()));
            return JobOutcome.of(new SensitivityResult(used.metric(), used.mode(), used.granularity(), o.layers(), reportIds, o.probes(),
                            o.resumedProbes(), o.rankCorrelationWithTop1(), o.top1NoiseFloor()), List.of(),
                    List.of(new JobOutcome.ArtifactDraft("profile", "sensitivity.svg", chart, "chartArtifactId")));
        }
    }

    /** Probes are reports of this job, found again by their configuration's hash. */
    private record Probes(StoredReports reports) implements SensitivityAnalysis.ProbeStore {
        @Override
        public Optional<ModelComparison.Result> find(SensitivityAnalysis.ProbeConfiguration probe) {
            return reports.find(probe).map(r -> StoredReports.metrics(r).comparison());
        }

        @Override
        public void save(SensitivityAnalysis.ProbeConfiguration probe, ModelComparison.Result r) {
            reports.save(probe, ReportMetrics.builder().fullComparison(r).build(), LatencyBenchmark.runtimeInfo(0), List.of());
        }
    }
}
