package dev.quantforge.quant.data;

import java.util.Map;

import dev.quantforge.quant.InvalidInputException;

/**
 * What every job that runs a model on a dataset refuses, so that no job type scores nonsense: inputs
 * that are NaN or ±Inf, and labels that are no class of the model. Calibration refuses non-finite
 * inputs on its own while it collects; evaluation and comparison call these per batch.
 */
public final class BatchChecks {

    private BatchChecks() {
    }

    /** @throws InvalidInputException naming the tensor and sample of the first NaN / ±Inf input value */
    public static void requireFiniteInputs(Batch batch) {
        for (Map.Entry<String, NdArray> e : batch.tensors().entrySet()) {
            NdArray a = e.getValue();
            if (!a.elementType().isFloatingPoint()) {
                continue;
            }
            float[] values = a.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    String kind = Float.isNaN(values[i]) ? "NaN" : values[i] > 0 ? "+Inf" : "-Inf";
                    long sample = batch.firstSample() + (long) i / Math.max(1, values.length / Math.max(1, batch.size()));
                    throw new InvalidInputException("input '" + e.getKey() + "' holds " + kind + " at sample " + sample
                            + "; every value must be finite: check the data and its preprocessing");
                }
            }
        }
    }

    /**
     * @param classes the length of the model's output row (labels must be 0..classes-1)
     * @throws InvalidInputException naming the first sample whose label is not a class of the model
     */
    public static void requireLabelsBelow(Batch batch, int classes) {
        if (!batch.hasLabels()) {
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            long label = batch.labels()[i];
            if (label < 0 || label >= classes) {
                throw new InvalidInputException("sample " + (batch.firstSample() + i) + " has label " + label
                        + ", but the model's output has " + classes + " classes (labels 0.." + (classes - 1)
                        + "); check that the dataset's labels belong to this model");
            }
        }
    }
}
