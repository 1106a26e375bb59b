package dev.quantforge.worker.tasks;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.springframework.stereotype.Component;

import ai.onnxruntime.OrtSession;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.platform.ApiException;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.EvaluationResult;
import dev.quantforge.quant.eval.Evaluator;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/** {@code evaluate}: top-1 of the FP32 model against the evaluation dataset's labels. */
@Component
public class EvaluateHandler implements JobHandler {

    static final ConfigSchema SCHEMA = ConfigSchema.object()
            .section("evaluation", s -> s
                    .intField("maxSamples", null, 1, Integer.MAX_VALUE)
                    .intField("batchSize", 32L, 1, 4096)
                    .intField("threads", 0L, 0, 256));

    @Override
    public String type() {
        return "evaluate";
    }

    @Override
    public Set<String> requirements() {
        return Set.of("onnxruntime");
    }

    @Override
    public Set<DatasetRole> requiredDatasets() {
        return Set.of(DatasetRole.EVALUATION);
    }

    @Override
    public Set<DatasetRole> labelledDatasets() {
        return Set.of(DatasetRole.EVALUATION);
    }

    @Override
    public JsonNode validateConfig(JsonNode config, List<ApiException.FieldError> errors) {
        return SCHEMA.apply("config", config, errors);
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        JsonNode ev = exec.config().path("evaluation");
        int batchSize = ev.path("batchSize").asInt(32);
        int threads = ev.path("threads").asInt(0);
        long maxSamples = ev.has("maxSamples") ? ev.get("maxSamples").asLong() : Long.MAX_VALUE;
        JobExecution.DatasetInput data = exec.dataset(DatasetRole.EVALUATION).orElseThrow();
        Map<String, String> binding = InputBinding.bind(exec.modelInputs(), data.tensors());
        exec.progress().update(0, "prepare", "loading the model in ONNX Runtime");
        EvaluationResult r;
        SampleSource source = data.open();
        try (OrtModel model = OrtModel.load(exec.modelFile(), threads, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            exec.log("evaluating top-1 on " + data.name() + " (batch " + (model.hasDynamicBatch() ? batchSize : "fixed") + ")");
            r = new Evaluator().evaluateTop1(model, source, binding, batchSize, maxSamples, exec.progress());
        }
        exec.log(String.format("top-1 %.4f on %d samples", r.top1(), r.samples()));
        ObjectNode result = JsonNodeFactory.instance.objectNode();
        result.put("top1", r.top1());
        result.put("samples", r.samples());
        result.put("correct", r.correct());
        ObjectNode metrics = JsonNodeFactory.instance.objectNode();
        metrics.put("top1", r.top1());
        metrics.put("top1Fp32", r.top1());
        metrics.put("samples", r.samples());
        metrics.put("modelSizeBytes", java.nio.file.Files.size(exec.modelFile()));
        ObjectNode runtime = RuntimeInfoJson.of(LatencyBenchmark.runtimeInfo(threads));
        return new JobOutcome(result,
                List.of(new JobOutcome.ReportDraft(RuntimeInfoJson.fp32Config(), metrics, runtime, JsonNodeFactory.instance.arrayNode(), "reportId")),
                List.of());
    }
}
