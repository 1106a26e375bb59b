package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.progress.Progress;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The training samples in memory, decoded once, so that every epoch can visit them in a fresh random order.
 * Shuffling matters: an image_folder dataset lists its images class by class, and SGD on class-sorted batches
 * forgets the earlier classes. Sized up front; a set larger than the limit is refused with what to do instead.
 */
final class TrainingSet {

    private final Map<String, float[]> tensors = new LinkedHashMap<>();
    private final Map<String, long[]> sampleShapes = new LinkedHashMap<>();
    private final long[] labels;
    private final int size;

    private TrainingSet(int size, long[] labels) {
        this.size = size;
        this.labels = labels;
    }

    /** Reads the first {@code maxSamples} samples (≤ 0: all) of the model inputs' tensors; refuses more than {@code maxBytes}. */
    static TrainingSet load(SampleSource source, Iterable<String> tensorNames, long maxSamples, long maxBytes, Progress progress)
            throws IOException {
        long n = maxSamples > 0 ? Math.min(maxSamples, source.sampleCount()) : source.sampleCount();
        long perSample = 0;
        for (var t : source.tensors()) {
            long elements = 1;
            for (int d = 1; d < t.shape().size(); d++) {
                Object dim = t.shape().get(d);
                elements *= dim instanceof Number num ? num.longValue() : 1;
            }
            perSample += elements * Float.BYTES;
        }
        if (n * perSample > maxBytes || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(String.format("the training set needs %d MiB in memory (%d samples × %d bytes), more than"
                    + " the %d MiB QAT may use; set training.maxSamples lower or give the worker more heap", n * perSample >> 20, n,
                    perSample, maxBytes >> 20));
        }
        TrainingSet set = new TrainingSet((int) n, source.hasLabels() ? new long[(int) n] : null);
        int filled = 0;
        try (SampleSource.BatchIterator it = source.batches(256, n)) {
            while (it.hasNext()) {
                Batch b = it.next();
                for (String name : tensorNames) {
                    NdArray a = b.tensors().get(name);
                    if (a == null) {
                        throw new IllegalArgumentException("the training set has no tensor '" + name + "'");
                    }
                    float[] values = a.toFloatArray();
                    int per = values.length / b.size();
                    float[] all = set.tensors.computeIfAbsent(name, k -> new float[Math.toIntExact((long) per * set.size)]);
                    set.sampleShapes.putIfAbsent(name, java.util.Arrays.copyOfRange(a.shape(), 1, a.shape().length));
                    System.arraycopy(values, 0, all, filled * per, values.length);
                }
                if (set.labels != null) {
                    System.arraycopy(b.labels(), 0, set.labels, filled, b.size());
                }
                filled += b.size();
                progress.update(filled / (double) n, "load", "training set: " + filled + "/" + n + " samples decoded");
            }
        }
        if (filled != n) {
            throw new IllegalStateException("the training set gave " + filled + " samples, expected " + n);
        }
        return set;
    }

    int size() {
        return size;
    }

    boolean hasLabels() {
        return labels != null;
    }

    /** A random order of all samples for one epoch; the same epoch always gets the same order (a resumed job repeats it). */
    int[] order(long seed, int epoch) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        Random r = new Random(seed * 1_000_003L + epoch);
        for (int i = size - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** The samples {@code order[from, from + count)} of tensor {@code name} as an array of {@code manager}. */
    NDArray gather(NDManager manager, String name, int[] order, int from, int count) {
        float[] all = tensors.get(name);
        long[] shape = sampleShapes.get(name);
        int per = all.length / size;
        float[] out = new float[per * count];
        for (int i = 0; i < count; i++) {
            System.arraycopy(all, order[from + i] * per, out, i * per, per);
        }
        long[] full = new long[shape.length + 1];
        full[0] = count;
        System.arraycopy(shape, 0, full, 1, shape.length);
        return manager.create(out, new Shape(full));
    }

    long[] labels(int[] order, int from, int count) {
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = labels[order[from + i]];
        }
        return out;
    }

    List<String> tensorNames() {
        return List.copyOf(tensors.keySet());
    }
}
