package dev.quantforge.worker.tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.springframework.stereotype.Component;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.platform.ApiException;
import dev.quantforge.qat.EpochStats;
import dev.quantforge.qat.QatEngine;
import dev.quantforge.qat.QatOptions;
import dev.quantforge.qat.QatRecipe;
import dev.quantforge.qat.QatResult;
import dev.quantforge.qat.QatTrainer;
import dev.quantforge.qat.StepStats;
import dev.quantforge.qat.TrainableGraph;
import dev.quantforge.qat.UnsupportedModelException;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.inspect.ModelSummary;
import dev.quantforge.quant.onnx.PrepareOptions;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.OrtFusionCheck;
import dev.quantforge.quant.qdq.QdqModel;
import dev.quantforge.quant.qdq.QdqPreparation;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code qat}: quantization-aware training of the uploaded ONNX graph itself. Start from calibrated PTQ (a
 * {@code fromJobId}'s histograms, or a calibration pass), measure that start with ONNX Runtime ({@code before}),
 * fine-tune with fake quantization at exactly the PTQ engine's Q/DQ places (the recipe: SuperGradients'
 * modification of a base schedule — ~10 % of the epochs, 1 % of the LR, warm-up, cosine, SGD with momentum),
 * export the same QDQ format as {@code ptq} and measure it with ONNX Runtime ({@code after}) — the runtime that
 * will serve it, not the training engine. A checkpoint each epoch: a restarted or retried job resumes.
 */
@Component
public class QatHandler implements JobHandler {

    static final Set<String> LOSSES = Set.of("auto", QatOptions.CROSS_ENTROPY, QatOptions.DISTILLATION);

    @Override
    public String type() {
        return "qat";
    }

    @Override
    public Set<String> requirements() {
        return Set.of("onnxruntime", "qat");
    }

    @Override
    public Set<DatasetRole> requiredDatasets() {
        return Set.of(DatasetRole.TRAINING);
    }

    @Override
    public Set<DatasetRole> optionalDatasets() {
        return Set.of(DatasetRole.CALIBRATION, DatasetRole.EVALUATION);
    }

    @Override
    public Set<DatasetRole> labelledDatasets() {
        return Set.of(DatasetRole.EVALUATION);
    }

    @Override
    public boolean needsQuantizableNodes() {
        return true;
    }

    @Override
    public void validateModel(ModelSummary summary, List<ApiException.FieldError> errors) {
        List<String> unsupported = new ArrayList<>();
        for (String op : summary.opTypes().keySet()) {
            if (!TrainableGraph.SUPPORTED_OPS.contains(op) && !unsupported.contains(op)) {
                unsupported.add(op);
            }
        }
        if (!unsupported.isEmpty()) {
            errors.add(new ApiException.FieldError("modelId", "QAT cannot train this model: unsupported op(s) "
                    + String.join(", ", unsupported) + "; QAT supports " + String.join(", ", TrainableGraph.SUPPORTED_OPS)
                    + " (use ptq, sensitivity or auto_quantize for this model)"));
        }
    }

    @Override
    public JsonNode validateConfig(JsonNode config, List<ApiException.FieldError> errors) {
        ObjectNode c = PtqHandler.checkQuantizationConfig(PtqHandler.schema()
                .stringField("fromJobId", null, 64)
                .intField("epochs", null, 1, 1000)
                .section("baseRecipe", s -> s
                        .intField("epochs", 100L, 1, 100_000)
                        .numberField("lr", 0.1, 0, 100)
                        .intField("batchSize", 64L, 1, 65_536)
                        .intField("warmupEpochs", 5L, 0, 100_000)
                        .numberField("weightDecay", 1e-4, 0, 1))
                .section("recipeModification", s -> s
                        .intField("batchSizeDivisor", 2L, 1, 1024)
                        .intField("maxEpochsDivisor", 10L, 1, 10_000)
                        .numberField("lrDecayFactor", 0.01, 0, 1)
                        .intField("warmupEpochsDivisor", 10L, 1, 10_000)
                        .numberField("cosineFinalLrRatio", 0.01, 0, 1))
                .enumField("optimizer", "sgd", Set.of("sgd"))
                .numberField("momentum", 0.9, 0, 0.999)
                .enumField("loss", "auto", LOSSES)
                .numberField("temperature", 0.0, 0, 1e6)
                .boolField("learnRanges", false)
                .enumField("batchNorm", "frozen", Set.of("frozen", "train"))
                .section("training", s -> s
                        .intField("maxSamples", 0L, 0, Integer.MAX_VALUE)
                        .intField("maxSamplesPerEpoch", 0L, 0, Integer.MAX_VALUE)
                        .intField("seed", 0L, 0, Integer.MAX_VALUE))
                .apply("config", config, errors), errors);
        if (c.path("learnRanges").asBoolean(false)) {
            errors.add(new ApiException.FieldError("config.learnRanges", "learned (LSQ) activation ranges are not available in this"
                    + " version: on the CIFAR net the learned scales diverged at the recipe's LR and did nothing at 1/10 of it;"
                    + " QAT trains with the calibrated ranges — leave learnRanges false"));
        }
        String from = c.path("fromJobId").asString(null);
        if (from != null) {
            try {
                java.util.UUID.fromString(from);
            } catch (IllegalArgumentException e) {
                errors.add(new ApiException.FieldError("config.fromJobId", "must be the UUID of an earlier ptq job of this model"));
            }
            String inner = c.path("calibration").path("fromJobId").asString(null);
            if (inner != null && !inner.equals(from)) {
                errors.add(new ApiException.FieldError("config.fromJobId", "differs from config.calibration.fromJobId; give one"));
            }
        }
        return c;
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        JsonNode cfg = exec.config();
        ObjectNode effective = (ObjectNode) cfg.deepCopy();
        String from = cfg.path("fromJobId").asString(null);
        if (from != null) {
            ((ObjectNode) effective.path("calibration")).put("fromJobId", from);
        }
        Progress progress = exec.progress();
        JobExecution.DatasetInput trainSet = exec.dataset(DatasetRole.TRAINING).orElseThrow();
        String loss = cfg.path("loss").asString("auto");
        boolean labelled = trainSet.open().hasLabels();
        if ("auto".equals(loss)) {
            loss = labelled ? QatOptions.CROSS_ENTROPY : QatOptions.DISTILLATION;
        } else if (QatOptions.CROSS_ENTROPY.equals(loss) && !labelled) {
            throw new InvalidInputException("loss cross_entropy needs labels, and training dataset " + trainSet.name()
                    + " has none; use loss distillation (KL to the FP32 model, no labels needed)");
        }
        exec.log("QAT loss: " + loss + (labelled ? "" : " (the training set has no labels)"));

        // the PTQ start: prepared, calibrated (or an earlier job's histograms), and measured with ONNX Runtime
        try (QuantizationSession s = new QuantizationSession(exec, effective, progress.scaled(0.0, 0.08))) {
            QuantizationSession.Trial start = s.measure(Set.of(), progress.scaled(0.08, 0.12));
            ModelComparison.Result before = start.comparison();
            exec.log(String.format("PTQ start (%s calibrator): INT8 top-1 %s (FP32 %s), agreement %.4f, output SQNR %.1f dB",
                    s.cfg.path("activations").path("calibrator").asString("entropy"), PtqHandler.fmt(before.top1Candidate()),
                    PtqHandler.fmt(before.top1Reference()), before.agreement(), before.sqnrDb()));
            Map<String, TensorRange> ranges = new LinkedHashMap<>();
            for (String t : start.plan().activationTensors()) {
                ranges.put(t, s.ranges.get(t).range());
            }

            // the graph that trains: BatchNorm kept apart (frozen by default) when PTQ folded it and weights are per channel
            boolean bnFolded = s.prepared.steps().stream().anyMatch(step -> step.startsWith("folded "));
            boolean keepBatchNorm = bnFolded && s.settings.weightsPerChannel();
            OnnxMl.ModelProto trainable = s.fp32;
            if (keepBatchNorm) {
                trainable = QdqPreparation.apply(new GraphPreparer()
                        .prepare(Graphs.parse(exec.modelFile()), new PrepareOptions(false)).model());
            }
            QatRecipe recipe = recipe(cfg);
            boolean frozen = !"train".equals(cfg.path("batchNorm").asString("frozen"));
            JsonNode training = cfg.path("training");
            QatOptions options = new QatOptions(recipe, loss,
                    training.path("maxSamplesPerEpoch").asLong(0), frozen, training.path("maxSamples").asLong(0),
                    training.path("seed").asLong(0), cfg.path("temperature").asDouble(0));
            exec.log(String.format("recipe: %d epoch(s), lr %.3g (warm-up %d epoch(s), cosine to ×%.3g), batch %d, SGD momentum %.2f,"
                            + " weight decay %.3g; %s", recipe.epochs(), recipe.lr(), recipe.warmupEpochs(),
                    recipe.cosineFinalLrRatio(), recipe.batchSize(), recipe.momentum(), recipe.weightDecay(),
                    keepBatchNorm ? "BatchNorm kept apart (" + (frozen ? "frozen" : "training") + "), folded after training"
                            : "no BatchNorm to keep apart"));

            Map<String, String> trainBinding = InputBinding.bind(exec.modelInputs(), trainSet.tensors());
            Path checkpoints = exec.cacheDir().resolve("qat-checkpoints").resolve(exec.jobId().toString());
            if (Files.exists(checkpoints.resolve("qat-checkpoint.bin"))) {
                exec.log("resuming from the checkpoint of an earlier attempt");
            }
            progress.update(0.12, "train", "starting the training engine");
            QatEngine engine = QatEngine.start(exec.cacheDir().resolve("djl"));
            long t0 = System.nanoTime();
            QatResult trained;
            try {
                trained = new QatTrainer(engine).train(trainable, s.fp32, start.plan(), ranges, s.settings, trainSet.open(),
                        trainBinding, options, checkpoints, progress.scaled(0.12, 0.85));
            } catch (QatTrainer.DivergedException | UnsupportedModelException | IllegalArgumentException e) {
                throw new InvalidInputException(e.getMessage(), e);
            }
            double trainSeconds = (System.nanoTime() - t0) / 1e9;
            for (EpochStats e : trained.epochs()) {
                exec.log(String.format("epoch %d: loss %.5g%s, %d samples, %.1f images/s", e.epoch(), e.meanLoss(),
                        e.runningTop1() == null ? "" : String.format(", running top-1 %.4f", e.runningTop1()), e.samples(),
                        e.imagesPerSecond()));
            }

            // export: the same QDQ format as ptq, measured with ONNX Runtime against the original FP32 model
            progress.update(0.86, "evaluate", "measuring the trained INT8 model with ONNX Runtime");
            QdqModel qdq = QdqWriter.write(trained.trainedFp32(), start.plan(), trained.ranges(), s.settings);
            Path int8File = exec.workDir().resolve("model.qat.int8.onnx");
            Files.write(int8File, qdq.model().toByteArray());
            JsonNode ev = s.cfg.path("evaluation");
            ModelComparison.Result after;
            try (OrtModel int8 = OrtModel.load(int8File, 0, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
                after = new ModelComparison().compare(s.reference, int8, s.compareOn.open(), s.compareBinding,
                        ev.path("batchSize").asInt(32), ev.path("maxSamples").asLong(2000), progress.scaled(0.86, 0.93));
            }
            exec.log(String.format("after QAT: INT8 top-1 %s (PTQ start %s, FP32 %s), agreement %.4f, output SQNR %.1f dB",
                    PtqHandler.fmt(after.top1Candidate()), PtqHandler.fmt(before.top1Candidate()), PtqHandler.fmt(after.top1Reference()), after.agreement(),
                    after.sqnrDb()));
            Map<String, Integer> fused = OrtFusionCheck.fusedOps(int8File);
            List<BenchmarkResult> lat = s.latency(int8File, progress.scaled(0.93, 0.99));
            JobOutcome outcome = outcome(exec, s, cfg, loss, recipe, options, keepBatchNorm, before, after, trained, trainSeconds, fused,
                    lat, int8File);
            dev.quantforge.worker.AttemptRunner.deleteTree(checkpoints); // done: a later retry starts over
            return outcome;
        }
    }

    static QatRecipe recipe(JsonNode cfg) {
        JsonNode b = cfg.path("baseRecipe");
        JsonNode m = cfg.path("recipeModification");
        Integer epochs = cfg.hasNonNull("epochs") ? cfg.get("epochs").asInt() : null;
        return QatRecipe.derive(b.path("epochs").asInt(100), b.path("lr").asDouble(0.1), b.path("batchSize").asInt(64),
                b.path("warmupEpochs").asInt(5), b.path("weightDecay").asDouble(1e-4), m.path("batchSizeDivisor").asInt(2),
                m.path("maxEpochsDivisor").asInt(10), m.path("lrDecayFactor").asDouble(0.01), m.path("warmupEpochsDivisor").asInt(10),
                m.path("cosineFinalLrRatio").asDouble(0.01), cfg.path("momentum").asDouble(0.9), epochs);
    }

    private JobOutcome outcome(JobExecution exec, QuantizationSession s, JsonNode cfg, String loss, QatRecipe recipe, QatOptions options,
                               boolean keepBatchNorm, ModelComparison.Result before, ModelComparison.Result after, QatResult trained,
                               double trainSeconds, Map<String, Integer> fused, List<BenchmarkResult> lat, Path int8File) throws Exception {
        JsonNodeFactory f = JsonNodeFactory.instance;
        BenchmarkResult fpLat = lat.get(0);
        BenchmarkResult qLat = lat.get(1);
        double speedup = fpLat.latencyMs().p50() / Math.max(1e-9, qLat.latencyMs().p50());

        // the report: the PTQ layer configuration plus what makes it QAT (its hash differs from the PTQ start's)
        ObjectNode reportConfig = AutoQuantizeHandler.trialConfig(s, Set.of());
        ObjectNode qatCfg = reportConfig.putObject("qat");
        qatCfg.put("loss", loss);
        qatCfg.set("recipe", recipeJson(recipe));
        qatCfg.put("batchNorm", keepBatchNorm ? (options.batchNormFrozen() ? "frozen" : "train") : "folded");
        qatCfg.put("trainingDatasetId", exec.dataset(DatasetRole.TRAINING).orElseThrow().id().toString());
        qatCfg.put("sourceJobId", exec.jobId().toString());
        ObjectNode metrics = SensitivityHandler.metrics(after);
        if (before.top1Candidate() != null) {
            metrics.put("top1BeforeQat", before.top1Candidate());
        }
        metrics.put("agreementBeforeQat", before.agreement());
        metrics.put("latencyP50Ms", qLat.latencyMs().p50());
        metrics.put("latencyP90Ms", qLat.latencyMs().p90());
        metrics.put("latencyP99Ms", qLat.latencyMs().p99());
        metrics.put("throughputPerSecond", qLat.throughputPerSecond());
        metrics.put("latencyFp32P50Ms", fpLat.latencyMs().p50());
        metrics.put("speedupP50", speedup);
        metrics.put("fusedInt8Kernels", OrtFusionCheck.fusedInt8Count(fused));
        metrics.put("modelSizeBytes", Files.size(int8File));
        metrics.put("qatEpochs", trained.epochs().size());

        ObjectNode result = f.objectNode();
        result.set("before", side(before, null));
        result.set("after", side(after, qLat));
        ObjectNode fp = result.putObject("fp32");
        PtqHandler.putNullable(fp, "top1", after.top1Reference());
        fp.putObject("latencyMs").put("p50", fpLat.latencyMs().p50());
        if (before.top1Candidate() != null && after.top1Candidate() != null) {
            result.put("top1Change", after.top1Candidate() - before.top1Candidate());
        }
        result.put("evaluatedOn", exec.dataset(DatasetRole.EVALUATION).isPresent() ? "evaluation" : "calibration");
        result.put("loss", loss);
        result.set("recipe", recipeJson(recipe));
        result.put("batchNorm", keepBatchNorm ? (options.batchNormFrozen() ? "frozen" : "train") : "folded");
        result.put("calibrator", s.cfg.path("activations").path("calibrator").asString("entropy"));
        if (cfg.hasNonNull("fromJobId")) {
            result.put("fromJobId", cfg.get("fromJobId").asString());
        }
        ArrayNode epochs = result.putArray("epochs");
        double samples = 0;
        for (EpochStats e : trained.epochs()) {
            ObjectNode row = epochs.addObject();
            row.put("epoch", e.epoch());
            row.put("loss", e.meanLoss());
            PtqHandler.putNullable(row, "runningTop1", e.runningTop1());
            row.put("lr", e.lr());
            row.put("samples", e.samples());
            row.put("seconds", e.seconds());
            row.put("imagesPerSecond", e.imagesPerSecond());
            samples += e.samples();
        }
        ArrayNode steps = result.putArray("steps"); // the training curve, at most 100 samples per epoch
        for (StepStats st : trained.steps()) {
            ObjectNode row = steps.addObject().put("epoch", st.epoch()).put("step", st.step()).put("steps", st.steps()).put("loss", st.loss());
            PtqHandler.putNullable(row, "runningTop1", st.runningTop1());
            row.put("lr", st.lr());
        }
        double epochSeconds = trained.epochs().stream().mapToDouble(EpochStats::seconds).sum();
        result.put("trainingImagesPerSecond", epochSeconds > 0 ? samples / epochSeconds : 0);
        result.put("trainingSeconds", trainSeconds);
        result.put("speedupP50", speedup);
        result.put("quantizedNodes", s.fullPlan.quantizedNodes().size());
        return new JobOutcome(result,
                List.of(new JobOutcome.ReportDraft(reportConfig, metrics, RuntimeInfoJson.of(qLat.runtime()),
                        AutoQuantizeHandler.layersOf(s, Set.of(), Map.of()), "reportId")),
                List.of(new JobOutcome.ArtifactDraft("quantized_model", "model.qat.int8.onnx", int8File, "quantizedModelArtifactId")));
    }

    private static ObjectNode side(ModelComparison.Result r, BenchmarkResult latency) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        PtqHandler.putNullable(o, "top1", r.top1Candidate());
        o.put("agreement", r.agreement());
        o.put("sqnrDb", r.sqnrDb());
        o.put("cosine", r.cosine());
        o.put("kl", r.klDivergence());
        o.put("samples", r.samples());
        o.put("measuredWith", "onnxruntime");
        if (latency != null) {
            o.putObject("latencyMs").put("p50", latency.latencyMs().p50()).put("p90", latency.latencyMs().p90())
                    .put("p99", latency.latencyMs().p99());
        }
        return o;
    }

    private static ObjectNode recipeJson(QatRecipe r) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("epochs", r.epochs());
        o.put("lr", r.lr());
        o.put("batchSize", r.batchSize());
        o.put("warmupEpochs", r.warmupEpochs());
        o.put("weightDecay", r.weightDecay());
        o.put("momentum", r.momentum());
        o.put("cosineFinalLrRatio", r.cosineFinalLrRatio());
        o.put("optimizer", "sgd");
        return o;
    }
}
