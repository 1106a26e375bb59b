package dev.quantforge.quant.calib;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TensorHistogramTest {

    /** Batches whose scale grows 3× each time, so the range doubles several times. */
    private static float[][] growingBatches(long seed) {
        Random random = new Random(seed);
        float[][] batches = new float[6][];
        double scale = 0.01;
        for (int b = 0; b < batches.length; b++) {
            batches[b] = new float[10_000];
            for (int i = 0; i < batches[b].length; i++) {
                batches[b][i] = (float) (random.nextGaussian() * scale);
            }
            scale *= 3;
        }
        batches[2][5] = 0f;
        batches[3][7] = -0f;
        return batches;
    }

    @Test
    void growthByRebinningEqualsAHistogramBuiltAtTheFinalRange() {
        float[][] batches = growingBatches(1);
        TensorHistogram grown = new TensorHistogram(2048);
        double firstRange = 0;
        long n = 0;
        for (float[] batch : batches) {
            grown.add(batch, 0, batch.length);
            if (firstRange == 0) {
                firstRange = grown.range();
            }
            n += batch.length;
        }
        assertTrue(grown.range() >= 64 * firstRange, "the range doubled several times: " + firstRange + " → " + grown.range());

        TensorHistogram direct = new TensorHistogram(2048, grown.range());
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (float[] batch : batches) {
            direct.add(batch);
            for (float v : batch) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        assertEquals(grown.range(), direct.range(), "no growth needed at the final range");
        assertArrayEquals(direct.absCounts(), grown.absCounts());
        assertArrayEquals(direct.signedCounts(), grown.signedCounts());
        assertEquals(n, grown.count());
        assertEquals(n, sum(grown.absCounts()));
        assertEquals(n, sum(grown.signedCounts()));
        assertEquals(min, grown.min());
        assertEquals(max, grown.max());

        // cumulative counts against a brute-force count over the raw values at every 64th edge
        long[] abs = grown.absCounts();
        long cumulative = 0;
        for (int j = 0; j < abs.length; j++) {
            cumulative += abs[j];
            if (j % 64 == 63) {
                double edge = (j + 1) * grown.binWidth();
                long below = 0;
                for (float[] batch : batches) {
                    for (float v : batch) {
                        if (Math.abs((double) v) * (2048 / grown.range()) < j + 1) {
                            below++;
                        }
                    }
                }
                assertEquals(below, cumulative, "values with |x| below edge " + edge);
            }
        }
    }

    @Test
    void mergeOfHistogramsStartedAtTheSameRangeIsExact() {
        float[][] batches = growingBatches(2);
        TensorHistogram all = new TensorHistogram(1024, 0.05);
        TensorHistogram small = new TensorHistogram(1024, 0.05);
        TensorHistogram large = new TensorHistogram(1024, 0.05);
        for (int b = 0; b < batches.length; b++) {
            all.add(batches[b]);
            (b < 2 ? small : large).add(batches[b]);
        }
        assertNotEquals(small.range(), large.range());
        small.merge(large);
        assertTrue(all.sameAs(small), all + " vs " + small);
        assertEquals(all.sum(), small.sum(), 1e-9 * Math.abs(all.sum()) + 1e-9);
    }

    @Test
    void mergeOfUnrelatedRangesKeepsCountsAndExtremes() {
        float[][] batches = growingBatches(3);
        TensorHistogram a = new TensorHistogram(512);
        TensorHistogram b = new TensorHistogram(512);
        a.add(batches[1]);
        b.add(batches[4]);
        long n = a.count() + b.count();
        double max = Math.max(a.max(), b.max());
        a.merge(b);
        assertEquals(n, a.count());
        assertEquals(n, sum(a.absCounts()));
        assertEquals(n, sum(a.signedCounts()));
        assertEquals(max, a.max());
        assertTrue(a.range() > a.absMax());
    }

    @Test
    void nanAndInfAreCountedAndSkipped() {
        TensorHistogram h = new TensorHistogram(64);
        int bad = h.add(new float[]{1f, Float.NaN, -2f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f}, 0, 6);
        assertEquals(3, bad);
        assertEquals(1, h.nanCount());
        assertEquals(2, h.infCount());
        assertEquals(3, h.count());
        assertEquals(-2, h.min());
        assertEquals(1, h.max());
        assertEquals(3, sum(h.absCounts()));
    }

    @Test
    void zerosBeforeTheFirstNonZeroValueLandInTheZeroBin() {
        TensorHistogram h = new TensorHistogram(64);
        h.add(new float[]{0f, 0f, 0f});
        assertEquals(0, h.range());
        TensorHistogram copy = TensorHistogram.fromBytes(h.toBytes());
        assertTrue(h.sameAs(copy));
        h.add(new float[]{0.5f, -0.25f});
        copy.add(new float[]{0.5f, -0.25f});
        assertEquals(5, h.count());
        assertEquals(3, h.absCounts()[0]);
        assertEquals(3, h.signedCounts()[64]);
        assertTrue(h.sameAs(copy));
    }

    @Test
    void serializationRoundTrip() throws IOException {
        float[][] batches = growingBatches(4);
        TensorHistogram h = new TensorHistogram(2048);
        for (float[] batch : batches) {
            h.add(batch);
        }
        h.add(new float[]{Float.NaN});
        byte[] bytes = h.toBytes();
        TensorHistogram back = TensorHistogram.fromBytes(bytes);
        assertTrue(h.sameAs(back));
        assertEquals(h.sum(), back.sum());
        assertEquals(h.sumSquares(), back.sumSquares());
        System.out.println("serialized histogram (2048 bins, 60000 values): " + bytes.length + " bytes");
        assertTrue(bytes.length < 3 * 2048 * 3);

        Map<String, TensorHistogram> map = new LinkedHashMap<>();
        map.put("Conv_3_out", h);
        map.put("input ü", new TensorHistogram(2048));
        HistogramSet set = new HistogramSet(2048, 60_000, map);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        set.write(out);
        HistogramSet read = HistogramSet.read(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(2048, read.bins());
        assertEquals(60_000, read.samples());
        assertEquals(map.keySet().stream().toList(), read.histograms().keySet().stream().toList());
        assertTrue(h.sameAs(read.histograms().get("Conv_3_out")));

        byte[] truncated = java.util.Arrays.copyOf(out.toByteArray(), out.size() - 10);
        assertThrows(IOException.class, () -> HistogramSet.read(new ByteArrayInputStream(truncated)));
        bytes[0] = 'X';
        assertThrows(IllegalArgumentException.class, () -> TensorHistogram.fromBytes(bytes));
    }

    @Test
    void binsMustBeEvenAndInRange() {
        assertThrows(IllegalArgumentException.class, () -> new TensorHistogram(2047));
        assertThrows(IllegalArgumentException.class, () -> new TensorHistogram(8));
        assertEquals(4096, new TensorHistogram(4096).absCounts().length);
    }

    @Test
    void speedOfAddingTenMillionValues() {
        Random random = new Random(5);
        float[] values = new float[1_000_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        TensorHistogram warm = new TensorHistogram();
        for (int r = 0; r < 20; r++) {
            warm.add(values);
        }
        TensorHistogram h = new TensorHistogram();
        long start = System.nanoTime();
        for (int r = 0; r < 10; r++) {
            h.add(values, 0, values.length);
        }
        double ms = (System.nanoTime() - start) / 1e6;
        System.out.printf("TensorHistogram.add: 1e7 values in %.1f ms (%.1f M values/s)%n", ms, 1e7 / ms / 1e3);
        assertEquals(10_000_000, h.count());
    }

    private static long sum(long[] counts) {
        long s = 0;
        for (long c : counts) {
            s += c;
        }
        return s;
    }
}
