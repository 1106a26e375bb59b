package dev.quantforge.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Whether anything still needs a blob — a live model or dataset, or a job's artifact — and the one place that makes
 * blobs visible and removes them. Content addressing lets one blob serve several rows, so a delete removes the
 * bytes only when the last one goes.
 *
 * <p>The race: a delete checks "no row references sha X" and removes X while an upload of the same bytes has just
 * put X and is about to insert its row — the new row would point at nothing. Both sides therefore take
 * PostgreSQL's transaction-scoped advisory lock of X ({@link #lock}): an upload publishes the blob and inserts its
 * row in one transaction holding it ({@link #publish}), a delete (after its own transaction committed the row's
 * deletion) checks the references and removes the blob holding it ({@link #deleteIfUnreferenced}). Whoever comes
 * second sees the other's committed outcome: the upload re-puts a blob the delete removed, the delete keeps a blob
 * the upload now references. Across replicas too, as the lock is the database's. A failure between the two leaves
 * at worst an orphan (never a row without bytes), which {@link #collectGarbage} removes.
 */
@Component
public class BlobReferences {

    private static final Logger log = LoggerFactory.getLogger(BlobReferences.class);
    /** First key of the two-int advisory lock: "QFBL", so other advisory locks of the schema never collide. */
    private static final int LOCK_SPACE = 0x5146424c;

    private final JdbcClient jdbc;
    private final BlobStore blobs;
    private final TransactionTemplate newTransaction;

    public BlobReferences(JdbcClient jdbc, BlobStore blobs, PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.blobs = blobs;
        this.newTransaction = new TransactionTemplate(transactions);
        this.newTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    }

    public boolean isReferenced(String sha256) {
        return jdbc.sql("select exists(select 1 from model where sha256 = :s and deleted_at is null) "
                        + "or exists(select 1 from dataset where (sha256 = :s or tokenizer_sha256 = :s) and deleted_at is null) "
                        + "or exists(select 1 from artifact where sha256 = :s)")
                .param("s", sha256).query(Boolean.class).single();
    }

    /** Takes the content's advisory lock until the current transaction ends (needs one). */
    public void lock(String sha256) {
        BlobStore.requireSha256(sha256);
        int key = (int) Long.parseLong(sha256.substring(0, 8), 16);
        jdbc.sql("select pg_advisory_xact_lock(:space, :key)").param("space", LOCK_SPACE).param("key", key).query().singleRow();
    }

    private void lockAll(Collection<String> shas) {
        // a fixed order: two transactions locking the same pair never wait for each other crosswise
        for (String sha : new TreeSet<>(shas)) {
            lock(sha);
        }
    }

    /**
     * Commits the staged blobs and runs {@code insertRows} (which records the rows referencing them) in one new
     * transaction holding the blobs' locks. Exceptions of {@code insertRows} roll it back and propagate.
     */
    public <T> T publish(List<BlobStore.Staged> staged, Supplier<T> insertRows) {
        return newTransaction.execute(status -> {
            lockAll(staged.stream().map(BlobStore.Staged::sha256).toList());
            for (BlobStore.Staged s : staged) {
                try {
                    s.commit();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return insertRows.get();
        });
    }

    /**
     * Removes the blob when nothing references it any more. Inside a transaction (a delete marking its row), this
     * runs after that transaction commits, so the check sees the deletion and a rollback removes nothing.
     */
    public void deleteIfUnreferenced(String sha256) {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    release(sha256);
                }
            });
        } else {
            release(sha256);
        }
    }

    /** Locks, checks, removes; returns whether the blob was removed. A failure leaves an orphan for the collector. */
    boolean release(String sha256) {
        try {
            Boolean removed = newTransaction.execute(status -> {
                lock(sha256);
                if (isReferenced(sha256)) {
                    return false;
                }
                try {
                    blobs.delete(sha256);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return true;
            });
            if (Boolean.TRUE.equals(removed)) {
                log.info("blob {} removed: nothing references it any more", sha256);
            }
            return Boolean.TRUE.equals(removed);
        } catch (RuntimeException e) {
            log.warn("blob {} not removed ({}); the garbage collection removes it later", sha256, e.getMessage());
            return false;
        }
    }

    /** The outcome of a garbage collection. */
    public record Collected(int examined, int removed, int interruptedWrites) {
    }

    /**
     * Removes every stored blob that no row references and that is older than {@code minAge} (a margin for writers
     * of an older version that did not lock), and what interrupted writes left in the store (S3 multipart uploads).
     */
    public Collected collectGarbage(Duration minAge) throws IOException {
        Instant before = Instant.now().minus(minAge);
        List<String> candidates = new ArrayList<>();
        int[] examined = {0};
        blobs.list(b -> {
            examined[0]++;
            if (b.lastModified().isBefore(before) || b.lastModified().equals(before)) {
                candidates.add(b.sha256());
            }
        });
        int removed = 0;
        for (String sha : candidates) {
            if (release(sha)) {
                removed++;
            }
        }
        int interrupted = blobs.cleanInterruptedWrites(before);
        if (removed > 0 || interrupted > 0) {
            log.info("blob garbage collection: {} blobs examined, {} orphans removed, {} interrupted uploads aborted",
                    examined[0], removed, interrupted);
        }
        return new Collected(examined[0], removed, interrupted);
    }
}
