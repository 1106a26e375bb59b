package dev.quantforge.platform.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.Projects;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * A key of project A sees nothing of project B: every endpoint family answers 404 for B's objects (the same answer as
 * an unknown id), lists do not show them, and the same requests with B's own key succeed — so the 404s are isolation,
 * not broken URLs. Content-addressed storage stays shared: one blob for the model both projects uploaded.
 */
@TestPropertySource(properties = "qf.api-token=" + Projects.ROOT_TOKEN)
class ProjectIsolationTest extends ServiceTest {

    @Test
    void aKeyOfOneProjectGets404ForEveryObjectOfAnother() throws Exception {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String a = Projects.create(root, "iso-a", null, null);
        String b = Projects.create(root, "iso-b", null, null);
        String keyA = Projects.key(root, a, "admin");
        Api asA = new Api(port).withToken(keyA);
        Api asB = new Api(port).withToken(Projects.key(root, b, "admin"));

        // B's objects: a model, datasets, a finished ptq job with its report, artifacts and log
        String model = asB.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        String calib = asB.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of()).json().path("id").asString();
        String eval = asB.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of()).json().path("id").asString();
        Api.Res submitted = asB.postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib,
                "evaluationDatasetId", eval, "config", Map.of("calibration", Map.of("maxSamples", 200), "benchmark", Map.of("iterations", 5))),
                "Idempotency-Key", "iso-same-key");
        assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
        String job = submitted.json().path("id").asString();
        JsonNode done = asB.awaitJob(job, Duration.ofMinutes(5));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        String report = done.path("reportIds").get(0).asString();
        String artifact = done.path("result").path("quantizedModelArtifactId").asString();
        String histograms = done.path("result").path("histogramsArtifactId").asString();
        assertThat(artifact).isNotEmpty();
        assertThat(histograms).isNotEmpty();

        String[] reads = {
                "/api/v1/models/" + model, "/api/v1/models/" + model + "/content", "/api/v1/models/" + model + "/reports",
                "/api/v1/datasets/" + eval, "/api/v1/datasets/" + eval + "/content", "/api/v1/datasets/" + eval + "/samples/0/preview.png",
                "/api/v1/jobs/" + job, "/api/v1/jobs/" + job + "/logs", "/api/v1/jobs/" + job + "/reports",
                "/api/v1/reports/" + report, "/api/v1/reports/compare?ids=" + report + "," + report,
                "/api/v1/artifacts/" + artifact, "/api/v1/artifacts/" + artifact + "/content",
                "/api/v1/artifacts/" + histograms + "/histograms", "/api/v1/projects/" + b, "/api/v1/projects/" + b + "/keys"};
        List<String> leaks = new ArrayList<>();
        for (String path : reads) {
            Api.Res other = asA.get(path);
            if (other.status() != 404 || !other.contentType().startsWith("application/problem+json")) {
                leaks.add("GET " + path + " → " + other.status() + " " + other.body().substring(0, Math.min(100, other.body().length())));
            }
            assertThat(asB.get(path).status()).as("B's own key reads " + path).isEqualTo(200);
        }
        // the server-sent events of B's job
        HttpResponse<Void> events = asA.client().send(HttpRequest.newBuilder(asA.uri("/api/v1/jobs/" + job + "/events"))
                .header("Authorization", "Bearer " + keyA).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.discarding());
        if (events.statusCode() != 404) {
            leaks.add("GET /api/v1/jobs/" + job + "/events → " + events.statusCode());
        }
        // writes: cancel, retry, delete, and a job on B's inputs
        for (String path : List.of("/api/v1/jobs/" + job + "/cancel", "/api/v1/jobs/" + job + "/retry")) {
            Api.Res r = asA.postJson(path, Map.of());
            if (r.status() != 404) {
                leaks.add("POST " + path + " → " + r.status());
            }
        }
        Api.Res onB = asA.postJson("/api/v1/jobs", Map.of("type", "evaluate", "modelId", model, "evaluationDatasetId", eval));
        if (onB.status() != 404) {
            leaks.add("POST /api/v1/jobs on B's model → " + onB.status() + " " + onB.body());
        }
        for (String path : List.of("/api/v1/datasets/" + calib, "/api/v1/models/" + model)) {
            Api.Res r = asA.delete(path);
            if (r.status() != 404) {
                leaks.add("DELETE " + path + " → " + r.status());
            }
        }
        assertThat(leaks).as("requests of project A that reached project B's objects").isEmpty();
        assertThat(asB.get("/api/v1/models/" + model).status()).as("B's model survived A's delete").isEqualTo(200);

        // lists show one's own project only
        assertThat(asA.get("/api/v1/models").body()).doesNotContain(model);
        assertThat(asA.get("/api/v1/datasets").body()).doesNotContain(eval);
        assertThat(asA.get("/api/v1/jobs").body()).doesNotContain(job);
        assertThat(asB.get("/api/v1/jobs").body()).contains(job);
        assertThat(asA.get("/api/v1/projects").json().findValuesAsString("id")).containsExactly(a);

        // an Idempotency-Key is a project's own: A's first use of B's key makes A a new job
        Api.Res aModel = asA.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        assertThat(aModel.status()).as("the same bytes are a new model of A").isEqualTo(201);
        assertThat(aModel.json().path("id").asString()).isNotEqualTo(model);
        assertThat(aModel.json().path("sha256").asString()).isEqualTo(asB.get("/api/v1/models/" + model).json().path("sha256").asString());
        Api.Res aJob = asA.postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", aModel.json().path("id").asString(),
                "config", Map.of("benchmark", Map.of("iterations", 5))), "Idempotency-Key", "iso-same-key");
        assertThat(aJob.status()).as(aJob.body()).isEqualTo(201);
        assertThat(aJob.json().path("id").asString()).isNotEqualTo(job);

        // one blob underneath: A deletes its copy, B's model still downloads
        assertThat(asA.awaitJob(aJob.json().path("id").asString(), Duration.ofMinutes(2)).path("state").asString()).isEqualTo("succeeded");
        assertThat(asA.delete("/api/v1/models/" + aModel.json().path("id").asString()).status()).isEqualTo(204);
        assertThat(asB.getBytes("/api/v1/models/" + model + "/content")).hasSize((int) SharedData.file("mnist/mnist-8.onnx").toFile().length());

        // the service token is the shared fleet's worker key too: it reads any project's object by id, lists its own
        assertThat(root.get("/api/v1/models/" + model).status()).isEqualTo(200);
        assertThat(root.get("/api/v1/models").body()).doesNotContain(model);
    }
}
