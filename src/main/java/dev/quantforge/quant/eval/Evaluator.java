package dev.quantforge.quant.eval;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Top-1 accuracy of a classifier against dataset labels, optionally with argmax agreement to a
 * reference model (e.g. the FP32 model when evaluating its quantized version). The prediction is
 * the argmax of the model's first output row; ties go to the lowest class index.
 */
public final class Evaluator {

    public EvaluationResult evaluateTop1(OrtModel model, SampleSource data, Map<String, String> binding,
                                         int batchSize, long maxSamples, Progress progress) {
        return evaluateTop1(model, null, data, binding, batchSize, maxSamples, progress);
    }

    /**
     * @param referenceOrNull a model fed the same inputs (same binding) whose predictions the agreement
     *                        is measured against; null for none
     * @param batchSize       samples per run when the model (and the reference) take a dynamic batch;
     *                        fixed-batch models read as many samples per batch as their fixed batch
     * @param maxSamples      evaluate at most this many samples from the start of the dataset
     * @throws InvalidInputException when the dataset has no labels
     * @throws dev.quantforge.quant.progress.CancelledException when {@code progress} says stop
     */
    public EvaluationResult evaluateTop1(OrtModel model, OrtModel referenceOrNull, SampleSource data,
                                         Map<String, String> binding, int batchSize, long maxSamples,
                                         Progress progress) {
        if (!data.hasLabels()) {
            throw new InvalidInputException("evaluation needs labels: the dataset has none "
                    + "(add an int array 'labels' to the npz, or use an image folder with class sub-folders)");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
        long total = Math.min(maxSamples, data.sampleCount());
        int effectiveBatch = effectiveBatchSize(model, batchSize);
        if (referenceOrNull != null) {
            effectiveBatch = Math.min(effectiveBatch, effectiveBatchSize(referenceOrNull, batchSize));
        }

        long samples = 0;
        long correct = 0;
        long agreeing = 0;
        try (SampleSource.BatchIterator batches = data.batches(effectiveBatch, total)) {
            while (batches.hasNext()) {
                Batch batch = batches.next();
                float[][] outputs = model.run(batch, binding);
                float[][] referenceOutputs = referenceOrNull == null ? null : referenceOrNull.run(batch, binding);
                for (int i = 0; i < batch.size(); i++) {
                    int predicted = argmax(outputs[i]);
                    if (predicted == batch.labels()[i]) {
                        correct++;
                    }
                    if (referenceOutputs != null && predicted == argmax(referenceOutputs[i])) {
                        agreeing++;
                    }
                }
                samples += batch.size();
                progress.update(total == 0 ? 1.0 : (double) samples / total, "evaluate", samples + "/" + total + " samples");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the evaluation dataset", e);
        }
        double top1 = samples == 0 ? 0.0 : (double) correct / samples;
        Double agreement = referenceOrNull == null ? null : samples == 0 ? 0.0 : (double) agreeing / samples;
        return new EvaluationResult(top1, samples, correct, agreement);
    }

    /** Batch 1 (or the model's fixed batch) unless the model takes a dynamic batch. */
    private static int effectiveBatchSize(OrtModel model, int requested) {
        return model.hasDynamicBatch() ? requested : Math.toIntExact(model.fixedBatchSize().orElse(1));
    }

    /** Index of the largest value; the first one on ties, NaN never wins. */
    public static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best] || Float.isNaN(values[best])) {
                best = i;
            }
        }
        return best;
    }
}
