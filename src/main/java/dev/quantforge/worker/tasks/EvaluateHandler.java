package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.util.List;

import org.springframework.stereotype.Component;

import ai.onnxruntime.OrtSession;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.eval.EvaluationResult;
import dev.quantforge.quant.eval.Evaluator;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.report.ReportMetrics;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/** {@code evaluate}: top-1 of the FP32 model against the evaluation dataset's labels. */
@Component
public class EvaluateHandler implements JobHandler {

    /** @param maxSamples null: every sample; @param threads 0: ONNX Runtime's default */
    record Evaluation(Long maxSamples, int batchSize, int threads) {
        static final Evaluation DEFAULTS = new Evaluation(null, 32, 0);
    }

    record EvaluateConfig(Evaluation evaluation) {
    }

    static final JobTypeSpec SPEC = JobTypeSpec.of("evaluate", ConfigSchema.object()
                    .section("evaluation", s -> s
                            .intField("maxSamples", Evaluation.DEFAULTS.maxSamples(), 1, Integer.MAX_VALUE)
                            .intField("batchSize", (long) Evaluation.DEFAULTS.batchSize(), 1, 4096)
                            .intField("threads", (long) Evaluation.DEFAULTS.threads(), 0, 256)))
            .needs(DatasetRole.EVALUATION).labelled(DatasetRole.EVALUATION).build();

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    record EvaluateResult(double top1, long samples, long correct) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        Evaluation ev = exec.config(EvaluateConfig.class).evaluation();
        JobExecution.DatasetInput data = exec.dataset(DatasetRole.EVALUATION).orElseThrow();
        exec.progress().update(0, "prepare", "loading the model in ONNX Runtime");
        EvaluationResult r;
        try (OrtModel model = OrtModel.load(exec.modelFile(), ev.threads(), OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            exec.log("evaluating top-1 on " + data.name() + " (batch " + (model.hasDynamicBatch() ? ev.batchSize() : "fixed") + ")");
            r = new Evaluator().evaluateTop1(model, data.open(), InputBinding.bind(model.inputs(), data.tensors()), ev.batchSize(),
                    ev.maxSamples() == null ? Long.MAX_VALUE : ev.maxSamples(), exec.progress());
        }
        exec.log(String.format("top-1 %.4f on %d samples", r.top1(), r.samples()));
        ReportMetrics metrics = ReportMetrics.builder().top1(r.top1()).top1Fp32(r.top1()).samples(r.samples())
                .modelSizeBytes(Files.size(exec.modelFile())).build();
        return JobOutcome.of(new EvaluateResult(r.top1(), r.samples(), r.correct()),
                List.of(JobOutcome.ReportDraft.of(Results.Fp32Configuration.INSTANCE, metrics, LatencyBenchmark.runtimeInfo(ev.threads()),
                        List.of(), "reportId")), List.of());
    }
}
