package dev.quantforge.qat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import ai.onnx.proto.OnnxMl;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.pipeline.LatencyPair;
import dev.quantforge.quant.pipeline.PostTrainingQuantization;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.progress.Progress;

/**
 * Quantization-aware training of the uploaded ONNX graph itself, on a calibrated {@link QuantizationPipeline}:
 * the PTQ model of the same plan and ranges is the start, measured with ONNX Runtime ({@code before}); the
 * graph is fine-tuned with fake quantization at exactly the QDQ writer's places ({@link QatTrainer}),
 * BatchNorm kept apart while training when it was folded, exported as the same QDQ format and measured with
 * ONNX Runtime again ({@code after}) — the runtime that will serve it, not the training engine.
 */
public final class QuantizationAwareTraining {

    private QuantizationAwareTraining() {
    }

    /**
     * @param loss           the loss used (auto resolved)
     * @param keptBatchNorm  BatchNorm was kept apart while training (and folded after)
     * @param model          the trained QDQ model
     */
    public record Outcome(ModelComparison.Result before, ModelComparison.Result after, QatResult trained, String loss, QatRecipe recipe,
                          QatOptions options, boolean keptBatchNorm, double trainingSeconds, QdqBuild model, Map<String, Integer> runtimeOps,
                          LatencyPair latency) {
    }

    /**
     * @param train       the training set
     * @param compareOn   the data before/after are measured on
     * @param checkpoints where each epoch's checkpoint goes (a later run with the same dir resumes after it)
     */
    public static Outcome run(QuantizationPipeline pipeline, QatSpec spec, SampleSource train, String trainName, SampleSource compareOn,
                              QatEngine engine, Path checkpoints, Progress progress) throws IOException {
        if (spec.learnRanges()) {
            throw new InvalidInputException("learned (LSQ) activation ranges are not available; leave learnRanges false");
        }
        boolean labelled = train.hasLabels();
        String loss = switch (spec.loss()) {
            case AUTO -> labelled ? QatOptions.CROSS_ENTROPY : QatOptions.DISTILLATION;
            case CROSS_ENTROPY -> QatOptions.CROSS_ENTROPY;
            case DISTILLATION -> QatOptions.DISTILLATION;
        };
        if (QatOptions.CROSS_ENTROPY.equals(loss) && !labelled) {
            throw new InvalidInputException("loss cross_entropy needs labels, and training dataset " + trainName
                    + " has none; use loss distillation (KL to the FP32 model, no labels needed)");
        }
        pipeline.log().log("QAT loss: " + loss + (labelled ? "" : " (the training set has no labels)"));

        // the PTQ start, measured with ONNX Runtime
        QdqBuild start = pipeline.build(Set.of());
        ModelComparison.Result before = pipeline.compare(start.file(), compareOn, progress.scaled(0, 0.05));
        pipeline.log().log("PTQ start (" + pipeline.spec().activations().calibrator().apiName() + " calibrator): "
                + PostTrainingQuantization.describe(before));
        Map<String, TensorRange> ranges = new LinkedHashMap<>();
        for (String t : start.plan().activationTensors()) {
            ranges.put(t, start.ranges().get(t).range());
        }

        // the graph that trains: BatchNorm kept apart (frozen by default) when PTQ folded it and weights are per channel
        boolean keepBatchNorm = pipeline.foldedBatchNorm() && pipeline.settings().weightsPerChannel();
        OnnxMl.ModelProto trainable = keepBatchNorm ? pipeline.fp32WithBatchNorm() : pipeline.fp32();
        QatRecipe recipe = spec.recipe();
        QatOptions options = spec.options(loss);
        pipeline.log().log(String.format("recipe: %d epoch(s), lr %.3g (warm-up %d epoch(s), cosine to ×%.3g), batch %d, SGD momentum %.2f,"
                        + " weight decay %.3g; %s", recipe.epochs(), recipe.lr(), recipe.warmupEpochs(), recipe.cosineFinalLrRatio(),
                recipe.batchSize(), recipe.momentum(), recipe.weightDecay(),
                keepBatchNorm ? "BatchNorm kept apart (" + (options.batchNormFrozen() ? "frozen" : "training") + "), folded after training"
                        : "no BatchNorm to keep apart"));
        if (Files.exists(checkpoints.resolve(QatTrainer.CHECKPOINT))) {
            pipeline.log().log("resuming from the checkpoint of an earlier attempt");
        }
        progress.update(0.05, "train", "starting the training engine");
        long t0 = System.nanoTime();
        QatResult trained;
        try {
            trained = new QatTrainer(engine).train(trainable, pipeline.fp32(), start.plan(), ranges, pipeline.settings(), train,
                    pipeline.binding(train), options, checkpoints, progress.scaled(0.05, 0.85));
        } catch (QatTrainer.DivergedException | UnsupportedModelException | IllegalArgumentException e) {
            throw new InvalidInputException(e.getMessage(), e);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (EpochStats e : trained.epochs()) {
            pipeline.log().log(String.format("epoch %d: loss %.5g%s, %d samples, %.1f images/s", e.epoch(), e.meanLoss(),
                    e.runningTop1() == null ? "" : String.format(", running top-1 %.4f", e.runningTop1()), e.samples(), e.imagesPerSecond()));
        }

        // export: the same QDQ format as ptq, measured with ONNX Runtime against the original FP32 model
        progress.update(0.86, "evaluate", "measuring the trained INT8 model with ONNX Runtime");
        QdqBuild model = pipeline.buildFrom(trained.trainedFp32(), start.plan(), trained.ranges(), "model.qat.int8.onnx");
        ModelComparison.Result after = pipeline.compare(model.file(), compareOn, progress.scaled(0.86, 0.93));
        pipeline.log().log("after QAT (PTQ start top-1 " + PostTrainingQuantization.fmt(before.top1Candidate()) + "): "
                + PostTrainingQuantization.describe(after));
        Map<String, Integer> ops = pipeline.runtimeOps(model.file());
        LatencyPair latency = pipeline.latency(model.file(), compareOn, progress.scaled(0.93, 1));
        return new Outcome(before, after, trained, loss, recipe, options, keepBatchNorm, seconds, model, ops, latency);
    }
}
