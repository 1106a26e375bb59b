package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.Graphs;

/** Conversions between ONNX {@code TensorProto}s and DJL {@code NDArray}s (float32, int64, int32). */
public final class QatTensors {

    private QatTensors() {
    }

    /** Whether {@link #toNDArray} can convert a tensor of this ONNX element type. */
    public static boolean supported(int onnxDataType) {
        return onnxDataType == OnnxMl.TensorProto.DataType.FLOAT_VALUE
                || onnxDataType == OnnxMl.TensorProto.DataType.INT64_VALUE
                || onnxDataType == OnnxMl.TensorProto.DataType.INT32_VALUE;
    }

    public static NDArray toNDArray(NDManager manager, OnnxMl.TensorProto tensor) {
        Shape shape = new Shape(tensor.getDimsList().stream().mapToLong(Long::longValue).toArray());
        int type = tensor.getDataType();
        if (type == OnnxMl.TensorProto.DataType.FLOAT_VALUE) {
            return manager.create(Graphs.floats(tensor), shape);
        }
        if (type == OnnxMl.TensorProto.DataType.INT64_VALUE) {
            return manager.create(Graphs.longs(tensor), shape);
        }
        if (type == OnnxMl.TensorProto.DataType.INT32_VALUE) {
            long[] longs = Graphs.longs(tensor);
            int[] ints = new int[longs.length];
            for (int i = 0; i < ints.length; i++) {
                ints[i] = Math.toIntExact(longs[i]);
            }
            return manager.create(ints, shape);
        }
        throw new UnsupportedOperationException("tensor '" + tensor.getName() + "' has element type "
                + OnnxMl.TensorProto.DataType.forNumber(type) + "; QAT supports FLOAT, INT64 and INT32");
    }

    /** The values of an array as float32, C order. */
    public static float[] floats(NDArray array) {
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray();
        }
        try (NDArray converted = array.toType(DataType.FLOAT32, true)) {
            return converted.toFloatArray();
        }
    }

    /** The values of an integer (or float) array as longs. */
    public static long[] longs(NDArray array) {
        if (array.getDataType() == DataType.INT64) {
            return array.toLongArray();
        }
        try (NDArray converted = array.toType(DataType.INT64, true)) {
            return converted.toLongArray();
        }
    }
}
