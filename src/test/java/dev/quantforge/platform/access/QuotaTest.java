package dev.quantforge.platform.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.Projects;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** Per-project quotas: concurrent jobs (429) and storage bytes (413), problem+json naming the limit. */
@TestPropertySource(properties = "qf.api-token=" + Projects.ROOT_TOKEN)
class QuotaTest extends ServiceTest {

    @Test
    void aProjectPastItsLimitsGets429And413NamingTheLimit() throws Exception {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        long modelBytes = Files.size(SharedData.file("mnist/mnist-8.onnx"));
        String project = Projects.create(root, "quota", 0L, modelBytes + 1000);
        Api as = new Api(port).withToken(Projects.key(root, project, "admin"));

        Api.Res model = as.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        assertThat(model.status()).isEqualTo(201);
        Api.Res again = as.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        assertThat(again.status()).as("the same bytes again store nothing new").isEqualTo(200);
        Api.Res tooMuch = as.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of());
        assertThat(tooMuch.status()).isEqualTo(413);
        assertThat(tooMuch.contentType()).startsWith("application/problem+json");
        assertThat(tooMuch.json().path("title").asString()).contains("maxStorageBytes");
        assertThat(tooMuch.detail()).contains("maxStorageBytes is " + (modelBytes + 1000));
        assertThat(as.get("/api/v1/datasets").json().path("total").asLong()).isZero();

        Map<String, Object> job = Map.of("type", "benchmark", "modelId", model.json().path("id").asString(),
                "config", Map.of("benchmark", Map.of("iterations", 5)));
        Api.Res refused = as.postJson("/api/v1/jobs", job);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.detail()).contains("maxConcurrentJobs is 0");

        // the default project's admin raises the limits; the project's own admin may not
        Map<String, Object> raise = new HashMap<>();
        raise.put("maxConcurrentJobs", 1);
        raise.put("maxStorageBytes", null);
        assertThat(as.patchJson("/api/v1/projects/" + project, raise).status()).isEqualTo(403);
        Api.Res raised = root.patchJson("/api/v1/projects/" + project, raise);
        assertThat(raised.status()).as(raised.body()).isEqualTo(200);
        assertThat(raised.json().path("maxConcurrentJobs").asLong()).isEqualTo(1);
        assertThat(raised.json().path("maxStorageBytes").isNull()).isTrue();
        assertThat(raised.json().path("usage").path("storageBytes").asLong()).isEqualTo(modelBytes);
        assertThat(as.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of()).status()).isEqualTo(201);

        // one slot: a job held in the queue (a requirement no worker has) fills it
        Api.Res first = as.postJson("/api/v1/jobs", job);
        assertThat(first.status()).isEqualTo(201);
        String firstId = first.json().path("id").asString();
        jdbc.sql("update job set state = 'queued', lease_owner = null, lease_expires_at = null, finished_at = null, "
                + "requirements = array_append(requirements, 'no-such-worker') where id = cast(:id as uuid)").param("id", firstId).update();
        Api.Res full = as.postJson("/api/v1/jobs", job);
        assertThat(full.status()).isEqualTo(429);
        assertThat(full.detail()).contains("1 queued or running jobs").contains("maxConcurrentJobs is 1");
        assertThat(as.postJson("/api/v1/jobs/" + firstId + "/cancel", Map.of()).status()).isEqualTo(200);
        Api.Res free = as.postJson("/api/v1/jobs", job);
        assertThat(free.status()).as("a cancelled job frees its slot").isEqualTo(201);
        Api.Res bad = root.patchJson("/api/v1/projects/" + project, Map.of("maxConcurrentJobs", -1));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.detail()).contains("maxConcurrentJobs");
    }
}
