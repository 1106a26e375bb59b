package dev.quantforge.quant.qdq;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Reading and writing initializer data (raw_data little-endian or the typed fields). */
final class Tensors {

    static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT_VALUE;
    static final int UINT8 = OnnxMl.TensorProto.DataType.UINT8_VALUE;
    static final int INT8 = OnnxMl.TensorProto.DataType.INT8_VALUE;
    static final int INT32 = OnnxMl.TensorProto.DataType.INT32_VALUE;
    static final int INT64 = OnnxMl.TensorProto.DataType.INT64_VALUE;

    private Tensors() {
    }

    static long count(OnnxMl.TensorProto t) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= d;
        }
        return n;
    }

    static float[] floats(OnnxMl.TensorProto t) {
        if (t.getDataType() != FLOAT) {
            throw new IllegalArgumentException("initializer '" + t.getName() + "' is not float32 (type " + t.getDataType() + ")");
        }
        if (t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalArgumentException("initializer '" + t.getName() + "' has external data");
        }
        if (!t.getRawData().isEmpty()) {
            float[] out = new float[t.getRawData().size() / 4];
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
        float[] out = new float[t.getFloatDataCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.getFloatData(i);
        }
        return out;
    }

    static long[] longs(OnnxMl.TensorProto t) {
        if (!t.getRawData().isEmpty()) {
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (t.getDataType() == INT64) {
                long[] out = new long[b.remaining() / 8];
                b.asLongBuffer().get(out);
                return out;
            }
            int[] ints = new int[b.remaining() / 4];
            b.asIntBuffer().get(ints);
            return java.util.Arrays.stream(ints).asLongStream().toArray();
        }
        if (t.getDataType() == INT64) {
            return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
        }
        return t.getInt32DataList().stream().mapToLong(Integer::longValue).toArray();
    }

    static OnnxMl.TensorProto floatTensor(String name, long[] dims, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return tensor(name, FLOAT, dims, b.array());
    }

    static OnnxMl.TensorProto int32Tensor(String name, long[] dims, int[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return tensor(name, INT32, dims, b.array());
    }

    static OnnxMl.TensorProto int64Tensor(String name, long[] dims, long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return tensor(name, INT64, dims, b.array());
    }

    /** int8 or uint8 data (the low byte of each value). */
    static OnnxMl.TensorProto byteTensor(String name, int dataType, long[] dims, int[] values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return tensor(name, dataType, dims, bytes);
    }

    private static OnnxMl.TensorProto tensor(String name, int dataType, long[] dims, byte[] raw) {
        OnnxMl.TensorProto.Builder b = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(dataType)
                .setRawData(ByteString.copyFrom(raw));
        for (long d : dims) {
            b.addDims(d);
        }
        return b.build();
    }
}
