package dev.quantforge.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import org.springframework.core.io.Resource;
import org.springframework.web.multipart.MultipartFile;

/**
 * Content-addressed blob storage: bytes live under their sha256. Two implementations, chosen by
 * {@code QF_STORAGE} ({@link StorageProperties}): {@link FileSystemBlobStore} (the default, under the data dir) and
 * {@link S3BlobStore} (an S3-compatible object store shared by several API replicas).
 *
 * <p>Writes always go through a {@link Staged} blob: the bytes are streamed to a local temp file while hashed,
 * validated there by the caller, and only {@link Staged#commit() committed} (made visible under their address)
 * once valid, inside {@link BlobReferences#publish} so that a concurrent garbage collection of the same content
 * cannot remove them before the row that references them is committed.
 */
public interface BlobStore {

    Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** What {@link #list} yields: a stored blob and when it was written. */
    record StoredBlob(String sha256, Instant lastModified) {
    }

    /** Streams {@code in} to a temp file, hashing on the way; {@link dev.quantforge.platform.UploadTooLargeException} past {@code maxBytes}. */
    Staged stage(InputStream in, long maxBytes) throws IOException;

    /** Stages a multipart part the servlet container already wrote to disk (moved, not copied, then hashed). */
    Staged stage(MultipartFile part, long maxBytes) throws IOException;

    /** Stages a copy of a file the service produced (an artifact). */
    default Staged stageCopy(Path source) throws IOException {
        try (InputStream in = Files.newInputStream(source)) {
            return stage(in, Long.MAX_VALUE);
        }
    }

    boolean exists(String sha256) throws IOException;

    /**
     * A local, readable file with the blob's bytes (for inspection and in-process jobs, which need random access):
     * the blob itself on the filesystem store, a verified cached copy with S3.
     */
    Path localFile(String sha256) throws IOException;

    /**
     * The bytes as a streamed download body, opened now: a delete racing the download either comes first (a 404
     * saying the blob is gone) or does not disturb the bytes already opened.
     */
    Resource download(String sha256) throws IOException;

    /** Removes a blob (no record refers to it any more; {@link BlobReferences} decides). */
    void delete(String sha256) throws IOException;

    /** Every stored blob (for the garbage collection of orphans). */
    void list(Consumer<StoredBlob> each) throws IOException;

    /** Deletes what interrupted writes left in the store itself (S3: multipart uploads started before {@code before}). */
    default int cleanInterruptedWrites(Instant before) throws IOException {
        return 0;
    }

    /** Where the blobs are, for the start-up log (no credentials). */
    String describe();

    /** Makes a staged blob visible under its address; a no-op when that content is stored already. */
    void publish(Staged staged) throws IOException;

    static String requireSha256(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a sha256: " + sha256);
        }
        return sha256;
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A blob written to a local temp file and hashed, not yet visible under its address. */
    final class Staged implements AutoCloseable {
        private final BlobStore store;
        private final Path file;
        private final String sha256;
        private final long size;
        private final Consumer<Path> release;
        private boolean committed;

        Staged(BlobStore store, Path file, String sha256, long size, Consumer<Path> release) {
            this.store = store;
            this.file = file;
            this.sha256 = sha256;
            this.size = size;
            this.release = release;
        }

        public Path file() {
            return file;
        }

        public String sha256() {
            return sha256;
        }

        public long size() {
            return size;
        }

        public boolean committed() {
            return committed;
        }

        /**
         * Makes the blob visible under its address. Call it through {@link BlobReferences#publish}, which holds the
         * content's lock until the referencing row is committed.
         */
        public void commit() throws IOException {
            if (!committed) {
                store.publish(this);
                committed = true;
            }
        }

        @Override
        public void close() throws IOException {
            try {
                Files.deleteIfExists(file);
            } finally {
                release.accept(file);
            }
        }
    }
}
