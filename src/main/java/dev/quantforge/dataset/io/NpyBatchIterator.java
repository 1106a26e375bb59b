package dev.quantforge.dataset.io;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/** A pass over .npy arrays read in lockstep: each batch takes the same samples from every array. */
final class NpyBatchIterator implements SampleSource.BatchIterator {

    private final Map<String, NpyArrayStream> tensors;
    private final NpyArrayStream labels;
    private final Closeable resources;
    private final int batchSize;
    private final long end;
    private final boolean wholeDataset;
    private long next;

    /**
     * @param end          samples in this pass
     * @param wholeDataset whether the pass covers every sample, so the streams must end right after it
     */
    NpyBatchIterator(Map<String, NpyArrayStream> tensors, NpyArrayStream labels, Closeable resources, int batchSize,
                     long end, boolean wholeDataset) {
        this.tensors = tensors;
        this.labels = labels;
        this.resources = resources;
        this.batchSize = batchSize;
        this.end = end;
        this.wholeDataset = wholeDataset;
    }

    @Override
    public boolean hasNext() {
        return next < end;
    }

    @Override
    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        int count = (int) Math.min(batchSize, end - next);
        try {
            Map<String, NdArray> arrays = new LinkedHashMap<>();
            for (Map.Entry<String, NpyArrayStream> e : tensors.entrySet()) {
                arrays.put(e.getKey(), e.getValue().read(count));
            }
            long[] labelValues = labels == null ? null : labels.read(count).toLongArray();
            Batch batch = new Batch(next, count, arrays, labelValues);
            next += count;
            if (next == end && wholeDataset) {
                for (NpyArrayStream s : tensors.values()) {
                    s.verifyAtEnd();
                }
                if (labels != null) {
                    labels.verifyAtEnd();
                }
            }
            return batch;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        resources.close();
    }

    static void checkArguments(int batchSize, long maxSamples) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        if (maxSamples < 0) {
            throw new IllegalArgumentException("maxSamples must be >= 0, got " + maxSamples);
        }
    }
}
