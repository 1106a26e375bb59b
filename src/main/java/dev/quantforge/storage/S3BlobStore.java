package dev.quantforge.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.InputStreamResource;
import org.springframework.core.io.Resource;
import org.springframework.web.multipart.MultipartFile;

import dev.quantforge.platform.DependencyUnavailableException;
import dev.quantforge.platform.InstanceDirectory;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Blobs in an S3-compatible object store: {@code s3://<bucket>/<prefix>blobs/ab/cd/<sha256>}, so several API
 * replicas share them. An upload is spooled to a local temp file while hashed (the heap stays flat), validated
 * there, and only then put under its address — in one request up to the part size, as a multipart upload above it
 * (an interrupted multipart upload is not an object: nothing is listed; {@link #cleanInterruptedWrites} aborts it).
 * Reads that need a file (inspection, in-process jobs) use a local cache under {@code <dataDir>/cache/blobs},
 * filled by a download whose sha256 is checked; downloads to clients stream from the bucket.
 */
public class S3BlobStore implements BlobStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(S3BlobStore.class);

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final long partSize;
    private final Path cache;
    private final InstanceDirectory scratch;
    private final String description;

    public S3BlobStore(StorageProperties.S3 config, Path dataDir, InstanceDirectory scratch) {
        if (config.bucket() == null) {
            throw new IllegalStateException("QF_STORAGE=s3 needs QF_S3_BUCKET (qf.storage.s3.bucket): the bucket that holds the blobs");
        }
        var builder = S3Client.builder()
                .region(Region.of(config.region()))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .forcePathStyle(config.pathStyle())
                // S3-compatible servers (MinIO, Ceph, s3proxy) do not all take the SDK's default CRC trailers
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (config.endpoint() != null) {
            builder.endpointOverride(java.net.URI.create(config.endpoint()));
        }
        this.s3 = builder.build();
        this.bucket = config.bucket();
        this.prefix = config.prefix();
        this.partSize = config.partSizeMb() * 1024L * 1024L;
        this.cache = dataDir.resolve("cache").resolve("blobs");
        this.scratch = scratch;
        this.description = "s3 bucket " + bucket + (prefix.isEmpty() ? "" : " prefix " + prefix)
                + (config.endpoint() == null ? " (region " + config.region() + ")" : " at " + config.endpoint());
        try {
            s3.headBucket(b -> b.bucket(bucket));
            Files.createDirectories(cache);
        } catch (SdkException | IOException e) {
            s3.close();
            throw new IllegalStateException("cannot use " + description + ": " + e.getMessage()
                    + " (check QF_S3_ENDPOINT, QF_S3_BUCKET, QF_S3_REGION, QF_S3_PATH_STYLE and the AWS credentials)", e);
        }
    }

    String key(String sha256) {
        BlobStore.requireSha256(sha256);
        return prefix + "blobs/" + sha256.substring(0, 2) + "/" + sha256.substring(2, 4) + "/" + sha256;
    }

    private Path cachePath(String sha256) {
        BlobStore.requireSha256(sha256);
        return cache.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    @Override
    public Staged stage(InputStream in, long maxBytes) throws IOException {
        return FileSystemBlobStore.stageStream(this, scratch, in, maxBytes);
    }

    @Override
    public Staged stage(MultipartFile part, long maxBytes) throws IOException {
        return FileSystemBlobStore.stagePart(this, scratch, part, maxBytes);
    }

    @Override
    public void publish(Staged staged) throws IOException {
        String key = key(staged.sha256());
        try {
            if (!exists(staged.sha256())) {
                if (staged.size() <= partSize) {
                    s3.putObject(p -> p.bucket(bucket).key(key).contentLength(staged.size()), RequestBody.fromFile(staged.file()));
                } else {
                    putMultipart(key, staged.file(), staged.size());
                }
            }
        } catch (SdkException e) {
            throw failure("cannot store blob " + staged.sha256() + " in " + description, e);
        }
        // the validated file becomes this replica's cached copy (no download when a local job reads it)
        moveIntoCache(staged.file(), staged.sha256());
    }

    private void putMultipart(String key, Path file, long size) throws IOException {
        String uploadId = s3.createMultipartUpload(c -> c.bucket(bucket).key(key)).uploadId();
        boolean done = false;
        try {
            List<CompletedPart> parts = new ArrayList<>();
            int number = 1;
            for (long offset = 0; offset < size; offset += partSize, number++) {
                long length = Math.min(partSize, size - offset);
                long from = offset;
                int n = number;
                RequestBody body = RequestBody.fromContentProvider(() -> slice(file, from, length), length, "application/octet-stream");
                String etag = s3.uploadPart(u -> u.bucket(bucket).key(key).uploadId(uploadId).partNumber(n).contentLength(length), body).eTag();
                parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
            }
            s3.completeMultipartUpload(c -> c.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            done = true;
        } finally {
            if (!done) {
                try {
                    s3.abortMultipartUpload(a -> a.bucket(bucket).key(key).uploadId(uploadId));
                } catch (SdkException e) {
                    log.warn("cannot abort multipart upload {} of {}: {} (cleaned later)", uploadId, key, e.getMessage());
                }
            }
        }
    }

    /** {@code length} bytes of {@code file} from {@code offset}, re-openable (the SDK re-reads a part on retry). */
    private static InputStream slice(Path file, long offset, long length) {
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            ch.position(offset);
            return new FilterInputStream(Channels.newInputStream(ch)) {
                private long left = length;

                @Override
                public int read() throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int b = super.read();
                    if (b >= 0) {
                        left--;
                    }
                    return b;
                }

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = super.read(buf, off, (int) Math.min(len, left));
                    if (n > 0) {
                        left -= n;
                    }
                    return n;
                }
            };
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void moveIntoCache(Path file, String sha256) throws IOException {
        Path target = cachePath(sha256);
        Files.createDirectories(target.getParent());
        if (Files.exists(target)) {
            Files.deleteIfExists(file);
            return;
        }
        try {
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(file, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The IOException for a failed S3 call: when the store cannot be reached or answers 5xx (down, restarting,
     * throttling), a {@link DependencyUnavailableException} (the API answers 503 with Retry-After).
     */
    private IOException failure(String what, SdkException e) {
        String message = what + ": " + e.getMessage();
        boolean unavailable = e instanceof SdkClientException || e instanceof S3Exception s && s.statusCode() >= 500;
        return unavailable ? new DependencyUnavailableException("the object store", message, e) : new IOException(message, e);
    }

    @Override
    public boolean exists(String sha256) throws IOException {
        try {
            s3.headObject(h -> h.bucket(bucket).key(key(sha256)));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw failure("cannot reach " + description, e);
        } catch (SdkException e) {
            throw failure("cannot reach " + description, e);
        }
    }

    @Override
    public Path localFile(String sha256) throws IOException {
        Path cached = cachePath(sha256);
        if (Files.isRegularFile(cached)) {
            return cached;
        }
        Path tmp = scratch.newFile("download-", ".part");
        try {
            MessageDigest digest = BlobStore.sha256Digest();
            try (InputStream in = s3.getObject(g -> g.bucket(bucket).key(key(sha256)));
                 OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), digest)) {
                in.transferTo(out);
            } catch (SdkException e) {
                throw failure("cannot read blob " + sha256 + " from " + description, e);
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(sha256)) {
                throw new IOException("blob " + sha256 + " in " + description + " has other bytes (sha256 " + actual + ")");
            }
            moveIntoCache(tmp, sha256);
            return cached;
        } finally {
            Files.deleteIfExists(tmp);
            scratch.release(tmp);
        }
    }

    @Override
    public Resource download(String sha256) throws IOException {
        Path cached = cachePath(sha256);
        String key = key(sha256);
        return opened(sha256, () -> {
            try {
                return Files.newInputStream(cached);
            } catch (java.nio.file.NoSuchFileException notCached) {
                try {
                    return s3.getObject(g -> g.bucket(bucket).key(key));
                } catch (NoSuchKeyException e) {
                    throw new java.nio.file.NoSuchFileException(key);
                } catch (SdkException e) {
                    throw failure("cannot read blob " + sha256 + " from " + description, e);
                }
            }
        });
    }

    interface Opener {
        InputStream open() throws IOException;
    }

    /** A download body over a stream opened now; a blob that is gone (deleted meanwhile) is a 404. */
    static Resource opened(String sha256, Opener opener) throws IOException {
        InputStream in;
        try {
            in = opener.open();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new dev.quantforge.platform.ApiException(org.springframework.http.HttpStatus.NOT_FOUND, "Not found",
                    "the content " + sha256 + " was deleted meanwhile", null);
        }
        // read once, never asked for its length (Downloads sends the Content-Length the row records)
        return new InputStreamResource(in, "blob " + sha256);
    }

    @Override
    public void delete(String sha256) throws IOException {
        try {
            s3.deleteObject(d -> d.bucket(bucket).key(key(sha256)));
        } catch (SdkException e) {
            throw failure("cannot delete blob " + sha256 + " from " + description, e);
        }
        Files.deleteIfExists(cachePath(sha256));
    }

    @Override
    public void list(Consumer<StoredBlob> each) throws IOException {
        try {
            for (S3Object o : s3.listObjectsV2Paginator(l -> l.bucket(bucket).prefix(prefix + "blobs/")).contents()) {
                String name = o.key().substring(o.key().lastIndexOf('/') + 1);
                if (SHA256.matcher(name).matches()) {
                    each.accept(new StoredBlob(name, o.lastModified()));
                }
            }
        } catch (SdkException e) {
            throw failure("cannot list " + description, e);
        }
    }

    @Override
    public int cleanInterruptedWrites(Instant before) throws IOException {
        int aborted = 0;
        try {
            for (MultipartUpload u : s3.listMultipartUploadsPaginator(l -> l.bucket(bucket).prefix(prefix + "blobs/")).uploads()) {
                if (u.initiated() != null && u.initiated().isBefore(before)) {
                    s3.abortMultipartUpload(a -> a.bucket(bucket).key(u.key()).uploadId(u.uploadId()));
                    aborted++;
                }
            }
        } catch (S3Exception e) {
            if (e.statusCode() == 501) {
                log.debug("{} does not list multipart uploads: {}", description, e.getMessage());
                return 0; // a server that does not list uploads
            }
            throw failure("cannot list the multipart uploads of " + description, e);
        } catch (SdkException e) {
            throw failure("cannot list the multipart uploads of " + description, e);
        }
        return aborted;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        s3.close();
    }
}
