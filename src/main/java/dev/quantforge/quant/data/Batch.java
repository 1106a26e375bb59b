package dev.quantforge.quant.data;

import java.util.Map;

/**
 * A batch of consecutive samples from a dataset: one array per dataset tensor (first axis =
 * sample) and, when the dataset has labels, one class index per sample.
 *
 * @param firstSample index of the first sample of this batch within the dataset
 */
public record Batch(long firstSample, int size, Map<String, NdArray> tensors, long[] labels) {

    public boolean hasLabels() {
        return labels != null;
    }
}
