package dev.quantforge.quant.data;

import java.util.List;

/**
 * Name, element type and shape of a tensor: a model input/output or a dataset array.
 * Shape entries are {@link Long} for fixed dimensions, {@link String} for symbolic ones
 * ("batch") and {@code null} when unknown. For datasets the first axis is the sample count.
 */
public record TensorInfo(String name, ElementType elementType, List<Object> shape) {
}
