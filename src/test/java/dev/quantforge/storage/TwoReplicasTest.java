package dev.quantforge.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.S3Proxy;
import dev.quantforge.testsupport.ServiceProcess;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;

/**
 * Two API processes on one PostgreSQL and one S3 store (a real s3proxy) behave as one service: what one stores the
 * other serves, a job submitted on one is cancelled through the other, an idempotency key holds across them. Each
 * has its own data dir (no shared volume); only A runs in-process workers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoReplicasTest {

    private ConfigurableApplicationContext a;
    private ConfigurableApplicationContext b;
    private Api apiA;
    private Api apiB;

    @BeforeAll
    void start() throws IOException {
        TestDatabase.assumeAvailable();
        S3Proxy s3 = S3Proxy.get();
        String bucket = s3.newBucket();
        String db = TestDatabase.newDatabase();
        a = ServiceProcess.start(db, Files.createTempDirectory("qf-replica-a-"), 1, s3.serviceArgs(bucket, ""));
        b = ServiceProcess.start(db, Files.createTempDirectory("qf-replica-b-"), 0, s3.serviceArgs(bucket, ""));
        apiA = ServiceProcess.api(a);
        apiB = ServiceProcess.api(b);
    }

    @AfterAll
    void stop() {
        for (ConfigurableApplicationContext c : new ConfigurableApplicationContext[]{b, a}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void whatOneReplicaStoresTheOtherServesAndDeletes() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
        Api.Res up = apiA.upload("/api/v1/models", "mnist-8.onnx", model, Map.of());
        assertThat(up.status()).as(up.body()).isIn(200, 201);
        String id = up.json().path("id").asString();
        assertThat(apiB.get("/api/v1/models/" + id).json().path("sha256").asString()).isEqualTo(up.json().path("sha256").asString());
        assertThat(apiB.getBytes("/api/v1/models/" + id + "/content")).isEqualTo(model);

        // a dataset stored through B, read by a job that A's worker runs (from the bucket: A never saw the upload)
        Api.Res data = apiB.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of());
        assertThat(data.status()).as(data.body()).isIn(200, 201);
        Api.Res job = apiB.postJson("/api/v1/jobs", Map.of("type", "evaluate", "modelId", id,
                "evaluationDatasetId", data.json().path("id").asString(), "config", Map.of("evaluation", Map.of("maxSamples", 200))));
        assertThat(job.status()).as(job.body()).isEqualTo(201);
        JsonNode done = apiA.awaitJob(job.json().path("id").asString(), Duration.ofMinutes(2));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("result").path("samples").asInt()).isEqualTo(200);

        // deleted through B: gone for A too
        byte[] other = BlobStorageContract.npy(41, 6);
        Api.Res d = apiA.upload("/api/v1/datasets", "x.npy", other, Map.of());
        String did = d.json().path("id").asString();
        assertThat(apiB.delete("/api/v1/datasets/" + did).status()).isEqualTo(204);
        assertThat(apiA.get("/api/v1/datasets/" + did + "/content").status()).isEqualTo(404);
        String sha = BlobStorageContract.sha256(other);
        assertThat(S3Proxy.get().keys(bucketOf(a), "").stream().filter(k -> k.endsWith(sha)).toList())
                .as("the object is gone").isEmpty();
    }

    private static String bucketOf(ConfigurableApplicationContext ctx) {
        return ctx.getEnvironment().getProperty("qf.storage.s3.bucket");
    }

    @Test
    void aJobSubmittedOnOneReplicaIsCancelledThroughTheOtherAndKeysHoldAcrossThem() throws Exception {
        String model = apiA.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        Map<String, Object> body = Map.of("type", "benchmark", "modelId", model,
                "config", Map.of("benchmark", Map.of("iterations", 1_000_000, "warmup", 0)));
        String key = "two-replicas-" + System.nanoTime();
        Api.Res first = apiA.postJson("/api/v1/jobs", body, "Idempotency-Key", key);
        assertThat(first.status()).as(first.body()).isEqualTo(201);
        Api.Res again = apiB.postJson("/api/v1/jobs", body, "Idempotency-Key", key);
        assertThat(again.status()).as("the same key through the other replica").isEqualTo(200);
        String id = first.json().path("id").asString();
        assertThat(again.json().path("id").asString()).isEqualTo(id);

        apiB.await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("running")
                && j.path("progress").path("fraction").asDouble() > 0, Duration.ofSeconds(90));
        Api.Res cancel = apiB.postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
        assertThat(cancel.status()).as(cancel.body()).isEqualTo(200);
        JsonNode onA = apiA.awaitJob(id, Duration.ofSeconds(30));
        assertThat(onA.path("state").asString()).isEqualTo("cancelled");
        // A's worker let go of it: free for the next job
        Api.Res next = apiA.postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model,
                "config", Map.of("benchmark", Map.of("iterations", 5, "warmup", 1))));
        JsonNode nextDone = apiB.awaitJob(next.json().path("id").asString(), Duration.ofSeconds(60));
        assertThat(nextDone.path("state").asString()).as(nextDone.toString()).isEqualTo("succeeded");
        assertThat(List.of(apiA.get("/actuator/health").status(), apiB.get("/actuator/health").status())).containsOnly(200);
    }
}
