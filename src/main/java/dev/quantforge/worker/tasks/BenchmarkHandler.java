package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.springframework.stereotype.Component;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.platform.ApiException;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/** {@code benchmark}: ONNX Runtime latency percentiles and throughput of the FP32 model. */
@Component
public class BenchmarkHandler implements JobHandler {

    /** The {@code benchmark} config section; ptq, sensitivity and auto_quantize time their models with the same keys. */
    static final java.util.function.Consumer<ConfigSchema> BENCHMARK_SECTION = s -> s
            .intField("iterations", 200L, 1, 1_000_000)
            .intField("warmup", 20L, 0, 100_000)
            .intField("batchSize", 1L, 1, 4096)
            .intField("threads", 1L, 1, 256);

    static final ConfigSchema SCHEMA = ConfigSchema.object().section("benchmark", BENCHMARK_SECTION);

    @Override
    public String type() {
        return "benchmark";
    }

    @Override
    public Set<String> requirements() {
        return Set.of("onnxruntime");
    }

    @Override
    public Set<DatasetRole> requiredDatasets() {
        return Set.of();
    }

    /** Real input data for the timed runs when given; random inputs of the model's shape otherwise. */
    @Override
    public Set<DatasetRole> optionalDatasets() {
        return Set.of(DatasetRole.EVALUATION, DatasetRole.CALIBRATION);
    }

    @Override
    public JsonNode validateConfig(JsonNode config, List<ApiException.FieldError> errors) {
        return SCHEMA.apply("config", config, errors);
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        JsonNode b = exec.config().path("benchmark");
        BenchmarkSettings settings = new BenchmarkSettings(b.path("iterations").asInt(200), b.path("warmup").asInt(20),
                b.path("batchSize").asInt(1), b.path("threads").asInt(1));
        Optional<JobExecution.DatasetInput> data = exec.dataset(DatasetRole.EVALUATION).or(() -> exec.dataset(DatasetRole.CALIBRATION));
        exec.log("benchmark: " + settings.iterations() + " iterations after " + settings.warmup() + " warm-up, batch "
                + settings.batchSize() + ", " + settings.threads() + " thread(s), input " + data.map(d -> "from " + d.name()).orElse("random"));
        BenchmarkResult r;
        if (data.isPresent()) {
            SampleSource source = data.get().open();
            r = new LatencyBenchmark().run(exec.modelFile(), settings, source, exec.progress());
        } else {
            r = new LatencyBenchmark().run(exec.modelFile(), settings, null, exec.progress());
        }
        exec.log(String.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, %.1f samples/s", r.latencyMs().p50(), r.latencyMs().p90(),
                r.latencyMs().p99(), r.throughputPerSecond()));
        ObjectNode result = JsonNodeFactory.instance.objectNode();
        ObjectNode lat = result.putObject("latencyMs");
        lat.put("p50", r.latencyMs().p50());
        lat.put("p90", r.latencyMs().p90());
        lat.put("p99", r.latencyMs().p99());
        lat.put("mean", r.latencyMs().mean());
        lat.put("min", r.latencyMs().min());
        lat.put("max", r.latencyMs().max());
        result.put("throughputPerSecond", r.throughputPerSecond());
        result.put("batchSize", r.batchSize());
        result.put("threads", r.threads());
        result.put("iterations", r.iterations());
        ObjectNode metrics = JsonNodeFactory.instance.objectNode();
        metrics.put("latencyP50Ms", r.latencyMs().p50());
        metrics.put("latencyP90Ms", r.latencyMs().p90());
        metrics.put("latencyP99Ms", r.latencyMs().p99());
        metrics.put("latencyMeanMs", r.latencyMs().mean());
        metrics.put("throughputPerSecond", r.throughputPerSecond());
        metrics.put("batchSize", r.batchSize());
        metrics.put("modelSizeBytes", Files.size(exec.modelFile()));
        return new JobOutcome(result,
                List.of(new JobOutcome.ReportDraft(RuntimeInfoJson.fp32Config(), metrics, RuntimeInfoJson.of(r.runtime()),
                        JsonNodeFactory.instance.arrayNode(), "reportId")),
                List.of());
    }
}
