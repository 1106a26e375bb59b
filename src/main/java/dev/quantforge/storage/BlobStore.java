package dev.quantforge.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

import org.springframework.stereotype.Component;

import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.platform.UploadTooLargeException;

/**
 * Content-addressed blob store on the filesystem: {@code <dataDir>/blobs/ab/cd/<sha256>}.
 * Writes stream through a fixed buffer into a temp file of the instance's scratch folder (hashing on the way) and are renamed into
 * place atomically, so a crash never leaves a half-written blob under its final name and the heap
 * does not grow with the upload.
 */
@Component
public class BlobStore {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Path root;
    private final InstanceDirectory scratch;

    public BlobStore(QfProperties props, InstanceDirectory scratch) {
        this.root = props.dataDir().resolve("blobs");
        this.scratch = scratch;
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create blob directories under " + this.root, e);
        }
    }

    /** A blob written to a temp file, hashed, not yet visible under its address. */
    public final class Staged implements AutoCloseable {
        private final Path file;
        private final String sha256;
        private final long size;
        private boolean committed;

        private Staged(Path file, String sha256, long size) {
            this.file = file;
            this.sha256 = sha256;
            this.size = size;
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

        /** Moves the staged file to its content address (a no-op when that blob exists already). */
        public Path commit() throws IOException {
            Path target = pathOf(sha256);
            Files.createDirectories(target.getParent());
            if (Files.exists(target)) {
                Files.deleteIfExists(file);
            } else {
                try {
                    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(file, target);
                } catch (FileAlreadyExistsException e) {
                    Files.deleteIfExists(file);
                }
            }
            committed = true;
            scratch.release(file);
            return target;
        }

        @Override
        public void close() throws IOException {
            try {
                if (!committed) {
                    Files.deleteIfExists(file);
                }
            } finally {
                scratch.release(file);
            }
        }
    }

    /**
     * Streams {@code in} to a temp file, computing sha256 on the way. Fails with
     * {@link UploadTooLargeException} (and deletes the temp file) after {@code maxBytes}.
     */
    public Staged stage(InputStream in, long maxBytes) throws IOException {
        Path file = scratch.newFile("upload-", ".part");
        MessageDigest digest = sha256Digest();
        long total = 0;
        boolean ok = false;
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), digest)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > maxBytes) {
                    throw new UploadTooLargeException("the upload is larger than the limit of " + maxBytes
                            + " bytes (QF_UPLOAD_MAX_BYTES); upload a smaller file or raise the limit");
                }
                out.write(buf, 0, n);
            }
            ok = true;
        } finally {
            if (!ok) {
                Files.deleteIfExists(file);
                scratch.release(file);
            }
        }
        return new Staged(file, HexFormat.of().formatHex(digest.digest()), total);
    }

    /**
     * Stages a multipart upload that the servlet container already wrote to disk: the part file is
     * moved (renamed when on the same filesystem) rather than copied, then hashed in one read.
     */
    public Staged stage(org.springframework.web.multipart.MultipartFile part, long maxBytes) throws IOException {
        if (part.getSize() > maxBytes) {
            throw new UploadTooLargeException("the upload is larger than the limit of " + maxBytes
                    + " bytes (QF_UPLOAD_MAX_BYTES); upload a smaller file or raise the limit");
        }
        Path file = scratch.newFile("upload-", ".part");
        boolean ok = false;
        try {
            Files.delete(file);
            part.transferTo(file.toFile());
            MessageDigest digest = sha256Digest();
            long total = 0;
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    digest.update(buf, 0, n);
                    total += n;
                }
            }
            ok = true;
            return new Staged(file, HexFormat.of().formatHex(digest.digest()), total);
        } finally {
            if (!ok) {
                Files.deleteIfExists(file);
                scratch.release(file);
            }
        }
    }

    /** Stores a file produced by the service itself (an artifact); returns its sha256. */
    public String putFile(Path source) throws IOException {
        try (InputStream in = Files.newInputStream(source); Staged staged = stage(in, Long.MAX_VALUE)) {
            staged.commit();
            return staged.sha256();
        }
    }

    public boolean exists(String sha256) {
        return Files.isRegularFile(pathOf(sha256));
    }

    public Path pathOf(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a sha256: " + sha256);
        }
        return root.resolve(sha256.substring(0, 2)).resolve(sha256.substring(2, 4)).resolve(sha256);
    }

    /** Removes a blob no record refers to any more. */
    public void delete(String sha256) throws IOException {
        Files.deleteIfExists(pathOf(sha256));
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
