package dev.quantforge.quant.calib;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Streaming statistics of one float tensor: count, min, max, sum, sum of squares, the number of
 * NaN / ±Inf values seen (they are counted and otherwise ignored), and two histograms that share
 * one range {@code R} and one bin width {@code w = R / bins}:
 * <ul>
 *   <li>{@link #absCounts()}: |x| over [0, R) in {@code bins} bins (what TensorRT / pytorch-quantization
 *       use for symmetric calibration); bin {@code j} covers [j·w, (j+1)·w);</li>
 *   <li>{@link #signedCounts()}: x over [-R, R) in {@code 2·bins} bins, for asymmetric ranges;
 *       bin {@code k} covers [(k - bins)·w, (k - bins + 1)·w).</li>
 * </ul>
 * The bin of a value is {@code floor(x · bins / R)} (clamped to the last bin only for rounding at
 * the very top). The range is set by the first non-zero values (their largest magnitude times
 * {@code 1 + 1/bins}, so that the maximum lies strictly inside) and grows by doubling whenever a
 * value with {@code |x| >= R} arrives. Doubling merges adjacent bins pairwise, which is exact: the
 * counts equal those of a histogram built directly at the final range, because
 * {@code floor(floor(y) / 2) == floor(y / 2)} and scaling by 2 is exact in floating point.
 *
 * <p>Memory is {@code 3 · bins} longs whatever the number of values added. Not thread-safe.
 */
public final class TensorHistogram {

    public static final int DEFAULT_BINS = 2048;
    public static final int MIN_BINS = 16;
    public static final int MAX_BINS = 1 << 20;

    private static final int MAGIC = 0x51464831; // "QFH1"
    private static final int FORMAT_VERSION = 1;

    private final int bins;
    private double range; // 0 until a non-zero finite value is seen
    private long[] abs;
    private long[] signed;
    private long count; // finite values
    private long zerosBeforeRange; // zeros seen while range == 0
    private long nanCount;
    private long infCount;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private double sum;
    private double sumSquares;

    public TensorHistogram() {
        this(DEFAULT_BINS);
    }

    /** @param bins number of |x| bins: even, between {@value #MIN_BINS} and {@value #MAX_BINS} */
    public TensorHistogram(int bins) {
        if (bins < MIN_BINS || bins > MAX_BINS || bins % 2 != 0) {
            throw new IllegalArgumentException("bins must be an even number between " + MIN_BINS + " and "
                    + MAX_BINS + ", was " + bins);
        }
        this.bins = bins;
        this.abs = new long[bins];
        this.signed = new long[2 * bins];
    }

    /**
     * A histogram whose range starts at {@code initialRange} instead of being set by the first
     * values (it still grows by doubling). Histograms started at the same range (or ranges a power
     * of two apart) merge exactly.
     */
    public TensorHistogram(int bins, double initialRange) {
        this(bins);
        if (!(initialRange > 0) || Double.isInfinite(initialRange)) {
            throw new IllegalArgumentException("initialRange must be positive and finite, was " + initialRange);
        }
        this.range = initialRange;
    }

    /** Adds the values; NaN and ±Inf are counted ({@link #nanCount()}, {@link #infCount()}) and skipped. */
    public void add(float[] values) {
        add(values, 0, values.length);
    }

    /**
     * Adds {@code values[offset, offset + length)}. Two passes over the slice, no allocation
     * (except when the range grows).
     *
     * @return the number of NaN / ±Inf values in the slice
     */
    public int add(float[] values, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > values.length) {
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + ", array " + values.length);
        }
        int end = offset + length;
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        int nonFinite = 0;
        int nan = 0;
        double s = 0;
        double sq = 0;
        for (int i = offset; i < end; i++) {
            float x = values[i];
            if (x != x) {
                nan++;
                nonFinite++;
                continue;
            }
            if (x == Float.POSITIVE_INFINITY || x == Float.NEGATIVE_INFINITY) {
                nonFinite++;
                continue;
            }
            if (x < lo) {
                lo = x;
            }
            if (x > hi) {
                hi = x;
            }
            s += x;
            sq += (double) x * x;
        }
        nanCount += nan;
        infCount += nonFinite - nan;
        int finite = length - nonFinite;
        if (finite == 0) {
            return nonFinite;
        }
        count += finite;
        sum += s;
        sumSquares += sq;
        min = Math.min(min, lo);
        max = Math.max(max, hi);
        double absMax = Math.max(-(double) lo, hi);
        if (absMax == 0 && range == 0) {
            zerosBeforeRange += finite;
            return nonFinite;
        }
        fit(absMax);

        double inv = bins / range;
        long[] a = abs;
        long[] sg = signed;
        int last = bins - 1;
        int lastSigned = 2 * bins - 1;
        if (nonFinite == 0) {
            for (int i = offset; i < end; i++) {
                double d = values[i] * inv;
                int k = (int) Math.floor(d);
                int j = k >= 0 ? k : d == k ? -k : -k - 1; // floor(-d) without a second floor
                a[j > last ? last : j]++;
                int t = k + bins;
                sg[t > lastSigned ? lastSigned : t]++;
            }
        } else {
            for (int i = offset; i < end; i++) {
                float x = values[i];
                if (x != x || x == Float.POSITIVE_INFINITY || x == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                double d = x * inv;
                int k = (int) Math.floor(d);
                int j = k >= 0 ? k : d == k ? -k : -k - 1; // floor(-d) without a second floor
                a[j > last ? last : j]++;
                int t = k + bins;
                sg[t > lastSigned ? lastSigned : t]++;
            }
        }
        return nonFinite;
    }

    /** Sets or grows the range so that {@code absMax} lies strictly inside it. */
    private void fit(double absMax) {
        if (range == 0) {
            range = absMax * (1.0 + 1.0 / bins);
            abs[0] += zerosBeforeRange;
            signed[bins] += zerosBeforeRange;
            zerosBeforeRange = 0;
            return;
        }
        while (absMax >= range) {
            grow();
        }
    }

    /** Doubles the range; adjacent bins merge pairwise. */
    private void grow() {
        long[] newAbs = new long[bins];
        for (int j = 0; j < bins; j++) {
            newAbs[j >> 1] += abs[j];
        }
        long[] newSigned = new long[2 * bins];
        int half = bins / 2;
        for (int k = 0; k < 2 * bins; k++) {
            newSigned[half + (k >> 1)] += signed[k];
        }
        abs = newAbs;
        signed = newSigned;
        range *= 2;
    }

    /**
     * Adds another histogram's statistics. Exact when the two ranges differ by a power of two
     * (always the case for histograms that started from the same first batch); otherwise each of
     * the other's bins goes, whole, into the bin of this histogram that contains its centre.
     */
    public void merge(TensorHistogram other) {
        if (other.bins != bins) {
            throw new IllegalArgumentException("cannot merge histograms with " + bins + " and " + other.bins + " bins");
        }
        count += other.count;
        nanCount += other.nanCount;
        infCount += other.infCount;
        sum += other.sum;
        sumSquares += other.sumSquares;
        min = Math.min(min, other.min);
        max = Math.max(max, other.max);
        if (other.range == 0) {
            if (range == 0) {
                zerosBeforeRange += other.zerosBeforeRange;
            } else {
                abs[0] += other.zerosBeforeRange;
                signed[bins] += other.zerosBeforeRange;
            }
            return;
        }
        if (range == 0) {
            range = other.range;
            abs = other.abs.clone();
            signed = other.signed.clone();
            abs[0] += zerosBeforeRange;
            signed[bins] += zerosBeforeRange;
            zerosBeforeRange = 0;
            return;
        }
        while (range < other.range) {
            grow();
        }
        long[] otherAbs = other.abs.clone();
        long[] otherSigned = other.signed.clone();
        double r = other.range;
        int half = bins / 2;
        while (r < range) {
            long[] na = new long[bins];
            long[] ns = new long[2 * bins];
            for (int j = 0; j < bins; j++) {
                na[j >> 1] += otherAbs[j];
            }
            for (int k = 0; k < 2 * bins; k++) {
                ns[half + (k >> 1)] += otherSigned[k];
            }
            otherAbs = na;
            otherSigned = ns;
            r *= 2;
        }
        if (r == range) {
            for (int j = 0; j < bins; j++) {
                abs[j] += otherAbs[j];
            }
            for (int k = 0; k < 2 * bins; k++) {
                signed[k] += otherSigned[k];
            }
            return;
        }
        // Not a power-of-two ratio: put each of the other's original bins where its centre falls.
        double otherWidth = other.range / bins;
        double inv = bins / range;
        for (int j = 0; j < bins; j++) {
            if (other.abs[j] != 0) {
                int t = (int) Math.floor((j + 0.5) * otherWidth * inv);
                abs[Math.min(t, bins - 1)] += other.abs[j];
            }
        }
        for (int k = 0; k < 2 * bins; k++) {
            if (other.signed[k] != 0) {
                int t = bins + (int) Math.floor((k - bins + 0.5) * otherWidth * inv);
                signed[Math.max(0, Math.min(t, 2 * bins - 1))] += other.signed[k];
            }
        }
    }

    public int bins() {
        return bins;
    }

    /** Upper end R of the |x| histogram (the signed one covers [-R, R)); 0 while only zeros were seen. */
    public double range() {
        return range;
    }

    /** R / bins; 0 while only zeros were seen. */
    public double binWidth() {
        return range / bins;
    }

    /** Finite values added. */
    public long count() {
        return count;
    }

    public long nanCount() {
        return nanCount;
    }

    public long infCount() {
        return infCount;
    }

    /** Smallest finite value (+Inf when none). */
    public double min() {
        return min;
    }

    /** Largest finite value (-Inf when none). */
    public double max() {
        return max;
    }

    /** Largest finite |x| (0 when none). */
    public double absMax() {
        return count == 0 ? 0 : Math.max(Math.abs(min), Math.abs(max));
    }

    public double sum() {
        return sum;
    }

    public double sumSquares() {
        return sumSquares;
    }

    public double mean() {
        return count == 0 ? 0 : sum / count;
    }

    /** A copy of the |x| counts ({@link #bins()} entries); zeros seen before the range was set are in bin 0. */
    public long[] absCounts() {
        long[] out = abs.clone();
        out[0] += zerosBeforeRange;
        return out;
    }

    /** A copy of the signed counts ({@code 2 · bins} entries, x over [-R, R)). */
    public long[] signedCounts() {
        long[] out = signed.clone();
        out[bins] += zerosBeforeRange;
        return out;
    }

    /**
     * Compact binary form, big-endian: int magic "QFH1", int format version (1), int bins,
     * double range, long count, long nanCount, long infCount, double min, double max, double sum,
     * double sumSquares, then the {@code bins} |x| counts and the {@code 2·bins} signed counts as
     * unsigned LEB128 varints (most bins are 0 or small, so this is a few KB).
     */
    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 3 * bins);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(FORMAT_VERSION);
            out.writeInt(bins);
            out.writeDouble(range);
            out.writeLong(count);
            out.writeLong(nanCount);
            out.writeLong(infCount);
            out.writeDouble(min);
            out.writeDouble(max);
            out.writeDouble(sum);
            out.writeDouble(sumSquares);
            for (long c : absCounts()) {
                writeVarLong(out, c);
            }
            for (long c : signedCounts()) {
                writeVarLong(out, c);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads {@link #toBytes()}'s format; throws IllegalArgumentException on anything else. */
    public static TensorHistogram fromBytes(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not a serialized tensor histogram (bad magic)");
            }
            int version = in.readInt();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unsupported tensor histogram format version " + version);
            }
            TensorHistogram h = new TensorHistogram(in.readInt());
            h.range = in.readDouble();
            h.count = in.readLong();
            h.nanCount = in.readLong();
            h.infCount = in.readLong();
            h.min = in.readDouble();
            h.max = in.readDouble();
            h.sum = in.readDouble();
            h.sumSquares = in.readDouble();
            if (!(h.range >= 0) || Double.isInfinite(h.range) || h.count < 0 || h.nanCount < 0 || h.infCount < 0) {
                throw new IllegalArgumentException("corrupt tensor histogram header");
            }
            long absTotal = 0;
            for (int j = 0; j < h.bins; j++) {
                h.abs[j] = readVarLong(in);
                absTotal += h.abs[j];
            }
            long signedTotal = 0;
            for (int k = 0; k < 2 * h.bins; k++) {
                h.signed[k] = readVarLong(in);
                signedTotal += h.signed[k];
            }
            if (absTotal != h.count || signedTotal != h.count) {
                throw new IllegalArgumentException("corrupt tensor histogram: bin counts do not add up to the count");
            }
            if (h.range == 0) {
                // only zeros so far: keep them pending so that the first non-zero value sets the range
                h.zerosBeforeRange = h.count;
                h.abs[0] = 0;
                h.signed[h.bins] = 0;
            }
            if (in.read() != -1) {
                throw new IllegalArgumentException("trailing bytes after the tensor histogram");
            }
            return h;
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated tensor histogram", e);
        }
    }

    private static void writeVarLong(DataOutputStream out, long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.writeByte((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    private static long readVarLong(DataInputStream in) throws IOException {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = in.readUnsignedByte();
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (result < 0) {
                    throw new IOException("negative bin count");
                }
                return result;
            }
        }
        throw new IOException("varint too long");
    }

    /** Same statistics and counts (for tests and reuse checks). */
    public boolean sameAs(TensorHistogram o) {
        return bins == o.bins && Double.compare(range, o.range) == 0 && count == o.count && nanCount == o.nanCount
                && infCount == o.infCount && Double.compare(min, o.min) == 0 && Double.compare(max, o.max) == 0
                && Arrays.equals(absCounts(), o.absCounts()) && Arrays.equals(signedCounts(), o.signedCounts());
    }

    @Override
    public String toString() {
        return "TensorHistogram[bins=" + bins + ", range=" + range + ", count=" + count + ", min=" + min
                + ", max=" + max + ", nan=" + nanCount + ", inf=" + infCount + "]";
    }
}
