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
import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.springframework.core.io.Resource;
import org.springframework.web.multipart.MultipartFile;

import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.platform.UploadTooLargeException;

/**
 * Content-addressed blob store on the filesystem (the default): {@code <dataDir>/blobs/ab/cd/<sha256>}.
 * Writes stream through a fixed buffer into a temp file of the instance's scratch folder (hashing on the way) and are
 * renamed into place atomically, so a crash never leaves a half-written blob under its final name and the heap
 * does not grow with the upload. Several API replicas can share it only on a ReadWriteMany volume.
 */
public class FileSystemBlobStore implements BlobStore {

    private final Path root;
    private final InstanceDirectory scratch;

    public FileSystemBlobStore(Path dataDir, InstanceDirectory scratch) {
        this.root = dataDir.resolve("blobs");
        this.scratch = scratch;
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create blob directories under " + this.root, e);
        }
    }

    static UploadTooLargeException tooLarge(long maxBytes) {
        return new UploadTooLargeException("the upload is larger than the limit of " + maxBytes
                + " bytes (QF_UPLOAD_MAX_BYTES); upload a smaller file or raise the limit");
    }

    /** Streams {@code in} to a temp file of the scratch folder, hashing on the way (shared by both stores). */
    static Staged stageStream(BlobStore store, InstanceDirectory scratch, InputStream in, long maxBytes) throws IOException {
        Path file = scratch.newFile("upload-", ".part");
        MessageDigest digest = BlobStore.sha256Digest();
        long total = 0;
        boolean ok = false;
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), digest)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > maxBytes) {
                    throw tooLarge(maxBytes);
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
        return new Staged(store, file, HexFormat.of().formatHex(digest.digest()), total, scratch::release);
    }

    /** Moves a multipart part (already on disk) into the scratch folder and hashes it in one read (shared by both stores). */
    static Staged stagePart(BlobStore store, InstanceDirectory scratch, MultipartFile part, long maxBytes) throws IOException {
        if (part.getSize() > maxBytes) {
            throw tooLarge(maxBytes);
        }
        Path file = scratch.newFile("upload-", ".part");
        boolean ok = false;
        try {
            Files.delete(file);
            part.transferTo(file.toFile());
            MessageDigest digest = BlobStore.sha256Digest();
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
            return new Staged(store, file, HexFormat.of().formatHex(digest.digest()), total, scratch::release);
        } finally {
            if (!ok) {
                Files.deleteIfExists(file);
                scratch.release(file);
            }
        }
    }

    @Override
    public Staged stage(InputStream in, long maxBytes) throws IOException {
        return stageStream(this, scratch, in, maxBytes);
    }

    @Override
    public Staged stage(MultipartFile part, long maxBytes) throws IOException {
        return stagePart(this, scratch, part, maxBytes);
    }

    @Override
    public void publish(Staged staged) throws IOException {
        Path target = pathOf(staged.sha256());
        Files.createDirectories(target.getParent());
        if (Files.exists(target)) {
            Files.deleteIfExists(staged.file());
            return;
        }
        try {
            Files.move(staged.file(), target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staged.file(), target);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(staged.file());
        }
    }

    @Override
    public boolean exists(String sha256) {
        return Files.isRegularFile(pathOf(sha256));
    }

    @Override
    public Path localFile(String sha256) {
        return pathOf(sha256);
    }

    @Override
    public Resource download(String sha256) throws IOException {
        return S3BlobStore.opened(sha256, () -> Files.newInputStream(pathOf(sha256)));
    }

    Path pathOf(String sha256) {
        BlobStore.requireSha256(sha256);
        return root.resolve(sha256.substring(0, 2)).resolve(sha256.substring(2, 4)).resolve(sha256);
    }

    @Override
    public void delete(String sha256) throws IOException {
        Files.deleteIfExists(pathOf(sha256));
    }

    @Override
    public void list(Consumer<StoredBlob> each) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (SHA256.matcher(name).matches() && Files.isRegularFile(f)) {
                    try {
                        each.accept(new StoredBlob(name, Files.getLastModifiedTime(f).toInstant()));
                    } catch (java.nio.file.NoSuchFileException gone) {
                        // deleted meanwhile
                    }
                }
            }
        }
    }

    @Override
    public String describe() {
        return "filesystem " + root;
    }
}
