package dev.quantforge.quant.data;

import java.io.IOException;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Reads the next batch on a thread of its own while the caller works on the current one (decoding JPEGs or reading npy
 * takes as long as a small model's inference). One batch ahead at most; the wrapped iterator is used by that thread only.
 */
public final class PrefetchingBatchIterator implements SampleSource.BatchIterator {

    private final SampleSource.BatchIterator inner;
    private final ExecutorService reader;
    private Future<Optional<Batch>> ahead;

    public PrefetchingBatchIterator(SampleSource.BatchIterator inner) {
        this.inner = inner;
        this.reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "qf-batch-reader");
            t.setDaemon(true);
            return t;
        });
        this.ahead = reader.submit(this::read);
    }

    private Optional<Batch> read() {
        return inner.hasNext() ? Optional.of(inner.next()) : Optional.empty();
    }

    private Optional<Batch> peek() {
        try {
            return ahead.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading a batch", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public boolean hasNext() {
        return peek().isPresent();
    }

    @Override
    public Batch next() {
        Batch batch = peek().orElseThrow(NoSuchElementException::new);
        ahead = reader.submit(this::read);
        return batch;
    }

    @Override
    public void close() throws IOException {
        reader.shutdownNow();
        try {
            // the reader may be inside inner.next(): let it finish before the files close under it
            reader.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        inner.close();
    }
}
