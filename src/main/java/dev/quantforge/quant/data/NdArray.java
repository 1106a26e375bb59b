package dev.quantforge.quant.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense host tensor: element type, shape and little-endian bytes in C order.
 * The first axis of a batch tensor is the sample axis.
 */
public record NdArray(ElementType elementType, long[] shape, ByteBuffer data) {

    public NdArray {
        data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Values widened/narrowed to float, in C order. */
    public float[] toFloatArray() {
        int n = Math.toIntExact(elementCount());
        float[] out = new float[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.rewind();
        for (int i = 0; i < n; i++) {
            out[i] = switch (elementType) {
                case FLOAT32 -> b.getFloat();
                case FLOAT64 -> (float) b.getDouble();
                case INT8 -> b.get();
                case UINT8, BOOL -> b.get() & 0xFF;
                case INT16 -> b.getShort();
                case UINT16 -> b.getShort() & 0xFFFF;
                case INT32 -> b.getInt();
                case UINT32 -> b.getInt() & 0xFFFFFFFFL;
                case INT64, UINT64 -> b.getLong();
                case FLOAT16 -> halfToFloat(b.getShort());
                case STRING -> throw new IllegalStateException("string tensors have no numeric value");
            };
        }
        return out;
    }

    /** Values converted to long (integer types exact; floats truncated toward zero). */
    public long[] toLongArray() {
        int n = Math.toIntExact(elementCount());
        long[] out = new long[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.rewind();
        for (int i = 0; i < n; i++) {
            out[i] = switch (elementType) {
                case FLOAT32 -> (long) b.getFloat();
                case FLOAT64 -> (long) b.getDouble();
                case INT8 -> b.get();
                case UINT8, BOOL -> b.get() & 0xFF;
                case INT16 -> b.getShort();
                case UINT16 -> b.getShort() & 0xFFFF;
                case INT32 -> b.getInt();
                case UINT32 -> b.getInt() & 0xFFFFFFFFL;
                case INT64, UINT64 -> b.getLong();
                case FLOAT16 -> (long) halfToFloat(b.getShort());
                case STRING -> throw new IllegalStateException("string tensors have no numeric value");
            };
        }
        return out;
    }

    /** IEEE 754 half precision to float (Float.float16ToFloat needs Java 20). */
    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant / 1024f / 16384f; // subnormal: mant * 2^-24
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    @Override
    public String toString() {
        return "NdArray[" + elementType.apiName() + " " + Arrays.toString(shape) + "]";
    }
}
