package dev.quantforge.quant.data;

import java.io.IOException;
import java.util.Iterator;
import java.util.List;

/**
 * A dataset read from storage in batches, never all in memory. Implementations live in the
 * dataset package (npz, npy, image folder); the engine only sees this interface.
 */
public interface SampleSource {

    /** The dataset's tensors (not the labels); the first shape entry is the sample count. */
    List<TensorInfo> tensors();

    long sampleCount();

    boolean hasLabels();

    /**
     * Opens a pass over the first {@code min(maxSamples, sampleCount())} samples in order,
     * {@code batchSize} at a time (the last batch may be smaller). Each call starts a new pass.
     */
    BatchIterator batches(int batchSize, long maxSamples) throws IOException;

    /** An open pass over a dataset; close it to release files. */
    interface BatchIterator extends Iterator<Batch>, AutoCloseable {
        @Override
        void close() throws IOException;
    }
}
