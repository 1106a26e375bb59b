package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.util.List;
import java.util.Optional;

import org.springframework.stereotype.Component;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.report.ReportMetrics;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/** {@code benchmark}: ONNX Runtime latency percentiles and throughput of the FP32 model. */
@Component
public class BenchmarkHandler implements JobHandler {

    record BenchmarkConfig(BenchmarkSettings benchmark) {
    }

    /** Real input data for the timed runs when given; random inputs of the model's shape otherwise. */
    static final JobTypeSpec SPEC = JobTypeSpec.of("benchmark", ConfigSchema.object().section("benchmark", QuantizationConfig.BENCHMARK_SECTION))
            .accepts(DatasetRole.EVALUATION, DatasetRole.CALIBRATION)
            .checkSubmission((c, s, e) -> QuantizationConfig.checkBenchmarkBatch(c, s, e)).build();

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    record BenchmarkView(BenchmarkResult.LatencyMs latencyMs, double throughputPerSecond, int batchSize, int threads, int iterations) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        BenchmarkSettings settings = exec.config(BenchmarkConfig.class).benchmark();
        Optional<JobExecution.DatasetInput> data = exec.dataset(DatasetRole.EVALUATION).or(() -> exec.dataset(DatasetRole.CALIBRATION));
        exec.log("benchmark: " + settings.iterations() + " iterations after " + settings.warmup() + " warm-up, batch "
                + settings.batchSize() + ", " + settings.threads() + " thread(s), input " + data.map(d -> "from " + d.name()).orElse("random"));
        BenchmarkResult r = new LatencyBenchmark().run(exec.modelFile(), settings, data.isPresent() ? data.get().open() : null, exec.progress());
        exec.log(String.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, %.1f samples/s", r.latencyMs().p50(), r.latencyMs().p90(),
                r.latencyMs().p99(), r.throughputPerSecond()));
        ReportMetrics metrics = ReportMetrics.builder().latency(r).modelSizeBytes(Files.size(exec.modelFile())).build();
        return JobOutcome.of(new BenchmarkView(r.latencyMs(), r.throughputPerSecond(), r.batchSize(), r.threads(), r.iterations()),
                List.of(JobOutcome.ReportDraft.of(Results.Fp32Configuration.INSTANCE, metrics, r.runtime(), List.of(), "reportId")),
                List.of());
    }
}
