package dev.quantforge.quant.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Name, element type and shape of a tensor: a model input/output or a dataset array.
 * Shape entries are {@link Long} for fixed dimensions, {@link String} for symbolic ones
 * ("batch") and {@code null} when unknown. For datasets the first axis is the sample count.
 */
public record TensorInfo(String name, ElementType elementType, List<Object> shape) {

    /** Normalizes numeric dimensions to Long (JSON round trips give Integer). */
    public TensorInfo {
        if (shape != null) {
            List<Object> normalized = new ArrayList<>(shape.size());
            for (Object d : shape) {
                normalized.add(d instanceof Number n ? (Object) n.longValue() : d);
            }
            shape = Collections.unmodifiableList(normalized);
        }
    }
}
