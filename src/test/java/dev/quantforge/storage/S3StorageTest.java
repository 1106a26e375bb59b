package dev.quantforge.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.testsupport.S3Proxy;
import software.amazon.awssdk.core.sync.RequestBody;

/** The blob store contract on an S3-compatible store: a real s3proxy in its own JVM, a bucket per run, a key prefix. */
class S3StorageTest extends BlobStorageContract {

    private static final String PREFIX = "team-a/qf/";
    private String bucket;

    @Override
    protected List<String> storeArgs() {
        S3Proxy s3 = S3Proxy.get();
        bucket = s3.newBucket();
        return s3.serviceArgs(bucket, PREFIX);
    }

    @Override
    protected Set<String> storedShas() {
        // s3proxy's filesystem backend lists its directories as keys ending in '/'
        List<String> keys = S3Proxy.get().keys(bucket, "").stream().filter(k -> !k.endsWith("/")).toList();
        assertThat(keys).as("every object under the prefix's blobs/").allMatch(k -> k.startsWith(PREFIX + "blobs/"));
        return keys.stream().map(k -> k.substring(k.lastIndexOf('/') + 1)).collect(Collectors.toSet());
    }

    @Override
    protected void putOrphan(String sha256, byte[] bytes) {
        String key = PREFIX + "blobs/" + sha256.substring(0, 2) + "/" + sha256.substring(2, 4) + "/" + sha256;
        S3Proxy.get().client().putObject(p -> p.bucket(bucket).key(key), RequestBody.fromBytes(bytes));
    }

    @Override
    protected void beforeJob() throws IOException {
        InstanceDirectory.deleteTree(dataDir.resolve("cache").resolve("blobs"));
    }

    @Test
    void garbageCollectionAbortsInterruptedMultipartUploads() throws Exception {
        // what a service killed in the middle of a multipart upload leaves: parts, no object
        var s3 = S3Proxy.get().client();
        String key = PREFIX + "blobs/ab/cd/" + "ab".repeat(32);
        String uploadId = s3.createMultipartUpload(c -> c.bucket(bucket).key(key)).uploadId();
        s3.uploadPart(u -> u.bucket(bucket).key(key).uploadId(uploadId).partNumber(1), RequestBody.fromBytes(new byte[1024]));
        assertThat(S3Proxy.get().keys(bucket, PREFIX + "blobs/")).as("an unfinished upload is no object").doesNotContain(key);
        assertThat(s3.listMultipartUploads(l -> l.bucket(bucket)).uploads()).isNotEmpty();

        // s3proxy's filesystem backend reports the time of the listing as an upload's initiation, so ask for those
        // started before a minute from now (the age rule itself is QF_TEMP_MAX_AGE_MINUTES against real S3's times)
        BlobStore store = service.getBean(BlobStore.class);
        assertThat(store.cleanInterruptedWrites(java.time.Instant.now().minusSeconds(3600))).as("too young to abort").isZero();
        assertThat(store.cleanInterruptedWrites(java.time.Instant.now().plusSeconds(60))).isGreaterThanOrEqualTo(1);
        assertThat(s3.listMultipartUploads(l -> l.bucket(bucket)).uploads()).isEmpty();
        assertThat(storedShas()).as("nothing of it left (s3proxy keeps its multipart parts as hidden objects)").doesNotContain("ab".repeat(32));
    }

    @Test
    void blobsLiveInTheBucketNotUnderTheDataDir() {
        assertThat(dataDir.resolve("blobs")).doesNotExist();
        assertThat(service.getBean(BlobStore.class)).isInstanceOf(S3BlobStore.class);
    }
}
