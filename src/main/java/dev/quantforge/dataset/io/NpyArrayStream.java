package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.NdArray;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads one .npy array's samples in order from a stream positioned at its data, a few at a time:
 * converts big-endian data to little-endian and applies {@code scale}. Never seeks, so it works on
 * deflated zip entries.
 */
final class NpyArrayStream {

    private final String name;
    private final NpyHeader header;
    private final InputStream in;
    private final double scale;
    private long samplesRead;

    NpyArrayStream(String name, NpyHeader header, InputStream in, double scale) {
        this.name = name;
        this.header = header;
        this.in = in;
        this.scale = scale;
    }

    /**
     * The element type of the arrays this stream yields: unchanged when scale is 1; with another
     * scale float64 stays float64 and everything else becomes float32 (scaled integers are not integers).
     */
    static ElementType outputType(ElementType stored, double scale) {
        if (scale == 1.0 || stored == ElementType.FLOAT64) {
            return stored;
        }
        return ElementType.FLOAT32;
    }

    /** Reads the next {@code count} samples. */
    NdArray read(int count) throws IOException {
        long byteCount = count * header.sampleBytes();
        if (byteCount > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a batch of " + count + " samples of '" + name + "' exceeds 2 GiB; use a smaller batch");
        }
        byte[] bytes = new byte[(int) byteCount];
        int n = in.readNBytes(bytes, 0, bytes.length);
        if (n < bytes.length) {
            long complete = samplesRead + n / Math.max(1, header.sampleBytes());
            throw new InvalidInputException("array '" + name + "' is truncated: its data ends after " + complete
                    + " of " + header.sampleCount() + " samples; upload the complete file again");
        }
        samplesRead += count;
        long[] shape = header.shape().clone();
        shape[0] = count;
        ElementType type = header.elementType();
        if (header.bigEndian() && type.byteSize() > 1) {
            swapBytes(bytes, type.byteSize());
        }
        ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        NdArray raw = new NdArray(type, shape, data);
        return scale == 1.0 ? raw : scaled(raw, shape);
    }

    /** Checks that nothing follows the last sample (a longer entry means a corrupt or mislabeled file). */
    void verifyAtEnd() throws IOException {
        if (in.read() >= 0) {
            throw new InvalidInputException("array '" + name + "' has more data bytes than its shape "
                    + header.shapeList() + " " + header.elementType().apiName() + " needs; the file is corrupt");
        }
    }

    private NdArray scaled(NdArray raw, long[] shape) {
        int n = Math.toIntExact(raw.elementCount());
        ElementType out = outputType(raw.elementType(), scale);
        ByteBuffer dst = ByteBuffer.allocate(n * out.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer src = raw.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        src.rewind();
        if (out == ElementType.FLOAT64) {
            for (int i = 0; i < n; i++) {
                dst.putDouble(src.getDouble() * scale);
            }
        } else if (raw.elementType() == ElementType.FLOAT32) {
            for (int i = 0; i < n; i++) {
                dst.putFloat((float) (src.getFloat() * scale));
            }
        } else {
            float[] values = raw.elementType() == ElementType.UINT64 ? unsigned64(src, n) : raw.toFloatArray();
            for (float v : values) {
                dst.putFloat((float) (v * scale));
            }
        }
        dst.flip();
        return new NdArray(out, shape, dst);
    }

    private static float[] unsigned64(ByteBuffer src, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            long v = src.getLong();
            out[i] = v >= 0 ? v : (float) ((v >>> 1) * 2.0 + (v & 1));
        }
        return out;
    }

    private static void swapBytes(byte[] bytes, int width) {
        for (int i = 0; i + width <= bytes.length; i += width) {
            for (int a = i, b = i + width - 1; a < b; a++, b--) {
                byte t = bytes[a];
                bytes[a] = bytes[b];
                bytes[b] = t;
            }
        }
    }
}
