package dev.quantforge.quant.calib;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The histograms of one calibration pass (the {@code histograms} artifact): tensor name →
 * {@link TensorHistogram}, the bin count and the number of samples they were collected over. A
 * later job reads it back and runs any {@link Calibrators calibrator} without a new pass.
 *
 * <p>Binary format, big-endian ({@link DataOutputStream}): int magic {@code "QFHS"}, int format
 * version (1), int bins, long samples, int tensor count, then per tensor (in insertion order):
 * the name as modified UTF-8 ({@code writeUTF}), int length, and that many bytes of
 * {@link TensorHistogram#toBytes()}.
 */
public record HistogramSet(int bins, long samples, Map<String, TensorHistogram> histograms) {

    private static final int MAGIC = 0x51464853; // "QFHS"
    private static final int FORMAT_VERSION = 1;
    /** One histogram is 3·bins varints of at most 10 bytes plus its header. */
    private static final long MAX_HISTOGRAM_BYTES = 30L * TensorHistogram.MAX_BINS + 1024;

    public HistogramSet {
        if (samples < 0) {
            throw new IllegalArgumentException("samples must be >= 0");
        }
        for (Map.Entry<String, TensorHistogram> e : histograms.entrySet()) {
            if (e.getValue().bins() != bins) {
                throw new IllegalArgumentException("histogram of '" + e.getKey() + "' has " + e.getValue().bins()
                        + " bins, the set has " + bins);
            }
        }
        histograms = Collections.unmodifiableMap(new LinkedHashMap<>(histograms));
    }

    public void write(OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(stream);
        out.writeInt(MAGIC);
        out.writeInt(FORMAT_VERSION);
        out.writeInt(bins);
        out.writeLong(samples);
        out.writeInt(histograms.size());
        for (Map.Entry<String, TensorHistogram> e : histograms.entrySet()) {
            out.writeUTF(e.getKey());
            byte[] bytes = e.getValue().toBytes();
            out.writeInt(bytes.length);
            out.write(bytes);
        }
        out.flush();
    }

    /** @throws IOException when the stream is not a histogram set of a supported version, or is truncated */
    public static HistogramSet read(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        try {
            if (in.readInt() != MAGIC) {
                throw new IOException("not a histogram set (bad magic)");
            }
            int version = in.readInt();
            if (version != FORMAT_VERSION) {
                throw new IOException("unsupported histogram set format version " + version);
            }
            int bins = in.readInt();
            long samples = in.readLong();
            int n = in.readInt();
            if (n < 0) {
                throw new IOException("corrupt histogram set: negative tensor count");
            }
            Map<String, TensorHistogram> map = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                int length = in.readInt();
                if (length < 0 || length > MAX_HISTOGRAM_BYTES) {
                    throw new IOException("corrupt histogram set: histogram of '" + name + "' has length " + length);
                }
                byte[] bytes = in.readNBytes(length);
                if (bytes.length != length) {
                    throw new EOFException();
                }
                try {
                    map.put(name, TensorHistogram.fromBytes(bytes));
                } catch (IllegalArgumentException e) {
                    throw new IOException("corrupt histogram of '" + name + "': " + e.getMessage(), e);
                }
            }
            try {
                return new HistogramSet(bins, samples, map);
            } catch (IllegalArgumentException e) {
                throw new IOException("corrupt histogram set: " + e.getMessage(), e);
            }
        } catch (EOFException e) {
            throw new IOException("truncated histogram set", e);
        }
    }
}
