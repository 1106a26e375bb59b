package dev.quantforge.compile;

import java.util.List;

/**
 * A tensor entering or leaving an engine layer, as the layer info describes it.
 *
 * @param name       TensorRT's tensor name: the ONNX tensor name where the tensor exists in the model,
 *                   else a TensorRT-made one ("Reformatted Input Tensor 0 to GlobalAveragePool_747")
 * @param dimensions as built (empty when the layer info does not say)
 * @param format     the raw {@code Format/Datatype} text
 * @param precision  the data type named in {@code format}
 */
public record EngineTensor(String name, List<Long> dimensions, String format, EnginePrecision precision) {

    public EngineTensor {
        dimensions = dimensions == null ? List.of() : List.copyOf(dimensions);
    }
}
