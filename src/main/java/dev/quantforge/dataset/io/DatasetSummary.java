package dev.quantforge.dataset.io;

import dev.quantforge.quant.data.TensorInfo;
import java.util.List;

/**
 * What upload validation found in a dataset file.
 *
 * @param tensors    the dataset's tensors (labels excluded); each first shape entry is {@code sampleCount}
 * @param classNames class names by label index for image_folder datasets, else null
 * @param text       what the scan of a text dataset found, else null
 */
public record DatasetSummary(DatasetFormat format, long sampleCount, List<TensorInfo> tensors, boolean hasLabels,
                             List<String> classNames, TextDataset.TextSummary text) {

    public DatasetSummary {
        tensors = List.copyOf(tensors);
        classNames = classNames == null ? null : List.copyOf(classNames);
    }

    public DatasetSummary(DatasetFormat format, long sampleCount, List<TensorInfo> tensors, boolean hasLabels, List<String> classNames) {
        this(format, sampleCount, tensors, hasLabels, classNames, null);
    }
}
