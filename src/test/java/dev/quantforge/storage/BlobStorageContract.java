package dev.quantforge.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.dataset.io.NpyWriter;
import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceProcess;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;

/**
 * The blob store's contract, run against each store ({@link FileSystemStorageTest}, {@link S3StorageTest} on a real
 * s3proxy): a whole service on a database of its own, used over HTTP, with the store's contents checked directly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BlobStorageContract {

    protected Path dataDir;
    protected ConfigurableApplicationContext service;
    protected Api api;

    /** Extra service arguments choosing the store. */
    protected abstract List<String> storeArgs();

    /** The sha256 of every blob in the store, read from the store itself. */
    protected abstract Set<String> storedShas() throws IOException;

    /** Puts bytes straight into the store under {@code sha256}, as an orphan no row references. */
    protected abstract void putOrphan(String sha256, byte[] bytes) throws IOException;

    @BeforeAll
    void startService() throws IOException {
        TestDatabase.assumeAvailable();
        dataDir = Files.createTempDirectory("qf-storage-");
        service = ServiceProcess.start(TestDatabase.newDatabase(), dataDir, 1, storeArgs());
        api = ServiceProcess.api(service);
    }

    @AfterAll
    void stopService() {
        if (service != null) {
            service.close();
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** A float32 npy of {@code rows} x 784 values, different for every seed. */
    static byte[] npy(long seed, int rows) {
        Random r = new Random(seed);
        ByteBuffer b = ByteBuffer.allocate(rows * 784 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * 784; i++) {
            b.putFloat(r.nextFloat());
        }
        return NpyWriter.npy("<f4", new long[]{rows, 1, 28, 28}, b.array());
    }

    /** Files left in this process's scratch folder (uploads being received, staged blobs). */
    List<Path> scratchFiles() throws IOException {
        Path scratch = service.getBean(InstanceDirectory.class).scratch();
        try (Stream<Path> s = Files.list(scratch)) {
            return s.toList();
        }
    }

    @Test
    void uploadIsStoredUnderItsHashDownloadedAndDeduplicated() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
        Api.Res first = api.upload("/api/v1/models", "mnist-8.onnx", model, Map.of());
        assertThat(first.status()).as(first.body()).isIn(200, 201);
        String id = first.json().path("id").asString();
        assertThat(first.json().path("sha256").asString()).isEqualTo(sha256(model));
        assertThat(storedShas()).contains(sha256(model));
        assertThat(api.getBytes("/api/v1/models/" + id + "/content")).isEqualTo(model);

        Api.Res again = api.upload("/api/v1/models", "again.onnx", model, Map.of());
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("id").asString()).isEqualTo(id);
        assertThat(scratchFiles()).as("no temp files after uploads").isEmpty();
    }

    @Test
    void largeUploadStreamsThroughAndReadsBack() throws Exception {
        byte[] big = npy(7, 4000); // 12.5 MB: several parts with S3's 5 MiB part size in the tests
        Api.Res r = api.upload("/api/v1/datasets", "big.npy", big, Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().path("sampleCount").asLong()).isEqualTo(4000);
        assertThat(storedShas()).contains(sha256(big));
        assertThat(api.getBytes("/api/v1/datasets/" + r.json().path("id").asString() + "/content")).isEqualTo(big);
    }

    @Test
    void invalidUploadsLeaveNoBlobAndNoTempFile() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
        byte[] truncatedModel = java.util.Arrays.copyOf(model, model.length / 2);
        byte[] npz = Files.readAllBytes(SharedData.file("mnist/mnist8-calib.npz"));
        byte[] truncatedNpz = java.util.Arrays.copyOf(npz, npz.length - 100);
        Set<String> before = storedShas();

        Api.Res m = api.upload("/api/v1/models", "half.onnx", truncatedModel, Map.of());
        assertThat(m.status()).as(m.body()).isEqualTo(400);
        assertThat(m.contentType()).startsWith("application/problem+json");
        Api.Res d = api.upload("/api/v1/datasets", "cut.npz", truncatedNpz, Map.of());
        assertThat(d.status()).as(d.body()).isEqualTo(400);
        Api.Res raw = api.postRaw("/api/v1/models?name=x", truncatedModel);
        assertThat(raw.status()).as(raw.body()).isEqualTo(400);

        Set<String> after = storedShas();
        assertThat(after).doesNotContain(sha256(truncatedModel), sha256(truncatedNpz));
        assertThat(after).isEqualTo(before);
        assertThat(scratchFiles()).as("no temp files after refused uploads").isEmpty();
    }

    @Test
    void deleteRemovesTheBlobOnlyWithItsLastReference() throws Exception {
        byte[] bytes = npy(11, 20);
        String sha = sha256(bytes);
        // the same bytes as two datasets (another preprocessing is another dataset)
        Api.Res a = api.upload("/api/v1/datasets", "a.npy", bytes, Map.of());
        Api.Res b = api.upload("/api/v1/datasets", "b.npy", bytes, Map.of("preprocessing", "{\"scale\":0.5}"));
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        assertThat(b.status()).as(b.body()).isEqualTo(201);
        String idA = a.json().path("id").asString();
        String idB = b.json().path("id").asString();
        assertThat(idA).isNotEqualTo(idB);

        assertThat(api.delete("/api/v1/datasets/" + idA).status()).isEqualTo(204);
        assertThat(storedShas()).as("still referenced by the other dataset").contains(sha);
        assertThat(api.getBytes("/api/v1/datasets/" + idB + "/content")).isEqualTo(bytes);
        assertThat(api.get("/api/v1/datasets/" + idA + "/content").status()).isEqualTo(404);

        assertThat(api.delete("/api/v1/datasets/" + idB).status()).isEqualTo(204);
        assertThat(storedShas()).as("the last reference went").doesNotContain(sha);
        assertThat(api.get("/api/v1/datasets/" + idB).status()).isEqualTo(404);

        // uploading the same bytes again stores them again
        Api.Res c = api.upload("/api/v1/datasets", "c.npy", bytes, Map.of());
        assertThat(c.status()).isEqualTo(201);
        assertThat(storedShas()).contains(sha);
        assertThat(api.getBytes("/api/v1/datasets/" + c.json().path("id").asString() + "/content")).isEqualTo(bytes);
    }

    @Test
    void concurrentUploadsAndDeletesOfTheSameContentNeverLoseALiveBlob() throws Exception {
        byte[] bytes = npy(23, 10);
        String sha = sha256(bytes);
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                runs.add(pool.submit(() -> {
                    for (int round = 0; round < 12; round++) {
                        Api.Res up = api.upload("/api/v1/datasets", "same.npy", bytes, Map.of());
                        if (up.status() != 200 && up.status() != 201) {
                            problems.add("upload " + up.status() + " " + up.body());
                            continue;
                        }
                        String id = up.json().path("id").asString();
                        Api.Res content = api.get("/api/v1/datasets/" + id + "/content");
                        if (content.status() != 200 && content.status() != 404) {
                            problems.add("content of live " + id + ": " + content.status() + " " + content.body());
                        }
                        Api.Res del = api.delete("/api/v1/datasets/" + id);
                        if (del.status() != 204 && del.status() != 404) {
                            problems.add("delete " + del.status() + " " + del.body());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(problems).isEmpty();
        // whatever is live now has its bytes; once nothing is, the blob is gone
        Api.Res last = api.upload("/api/v1/datasets", "same.npy", bytes, Map.of());
        String id = last.json().path("id").asString();
        assertThat(api.getBytes("/api/v1/datasets/" + id + "/content")).isEqualTo(bytes);
        assertThat(storedShas()).contains(sha);
        assertThat(api.delete("/api/v1/datasets/" + id).status()).isEqualTo(204);
        assertThat(storedShas()).doesNotContain(sha);
    }

    @Test
    void garbageCollectionRemovesOrphansAndKeepsReferencedBlobs() throws Exception {
        byte[] kept = npy(31, 5);
        Api.Res r = api.upload("/api/v1/datasets", "kept.npy", kept, Map.of());
        assertThat(r.status()).isIn(200, 201);
        byte[] orphan = ("an orphan " + System.nanoTime()).getBytes();
        putOrphan(sha256(orphan), orphan);
        assertThat(storedShas()).contains(sha256(orphan));

        BlobReferences.Collected c = service.getBean(BlobReferences.class).collectGarbage(Duration.ZERO);
        assertThat(c.removed()).isGreaterThanOrEqualTo(1);
        assertThat(storedShas()).doesNotContain(sha256(orphan)).contains(sha256(kept));
        assertThat(api.getBytes("/api/v1/datasets/" + r.json().path("id").asString() + "/content")).isEqualTo(kept);
    }

    /** Called before the job: the S3 store drops its local cache, so the in-process worker reads from the bucket. */
    protected void beforeJob() throws IOException {
    }

    @Test
    void jobReadsItsInputsFromTheStoreAndStoresItsArtifacts() throws Exception {
        String model = api.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        String calib = api.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of()).json().path("id").asString();
        beforeJob();
        Api.Res submitted = api.postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib,
                "config", Map.of("mode", "static", "calibration", Map.of("maxSamples", 32), "evaluation", Map.of("maxSamples", 32),
                        "benchmark", Map.of("iterations", 3, "warmup", 1))));
        assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
        JsonNode job = api.awaitJob(submitted.json().path("id").asString(), Duration.ofMinutes(4));
        assertThat(job.path("state").asString()).as(job.toString()).isEqualTo("succeeded");
        String artifact = job.path("result").path("quantizedModelArtifactId").asString();
        JsonNode meta = api.get("/api/v1/artifacts/" + artifact).json();
        byte[] content = api.getBytes("/api/v1/artifacts/" + artifact + "/content");
        assertThat(sha256(content)).isEqualTo(meta.path("sha256").asString());
        assertThat(storedShas()).contains(meta.path("sha256").asString());
        for (JsonNode a : job.path("artifacts")) {
            assertThat(storedShas()).as("artifact " + a).contains(a.path("sha256").asString());
        }
    }
}
