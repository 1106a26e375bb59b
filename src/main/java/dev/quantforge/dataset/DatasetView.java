package dev.quantforge.dataset;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.quantforge.quant.data.TensorInfo;

/**
 * A dataset as the API shows it (docs/API.md "Dataset").
 *
 * @param text a text dataset's options and what its upload found (DatasetService.textView), else null
 */
public record DatasetView(UUID id, String name, String sha256, String format, long sizeBytes, long sampleCount,
                          List<TensorView> tensors, boolean hasLabels, List<String> classNames,
                          Map<String, Object> preprocessing, Map<String, Object> text, Instant createdAt) {

    /** A tensor with its element type by API name ("float32"). */
    public record TensorView(String name, String elementType, List<Object> shape) {
        static TensorView of(TensorInfo t) {
            return new TensorView(t.name(), t.elementType().apiName(), t.shape());
        }
    }
}
