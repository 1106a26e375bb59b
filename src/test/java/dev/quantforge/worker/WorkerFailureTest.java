package dev.quantforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobRepository;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** Workers that die, and workers on other machines (the remote protocol), against the real service. */
class WorkerFailureTest extends ServiceTest {

    @Autowired
    JobRepository jobs;

    private String upload(String path, String rel) {
        return api().upload(path, SharedData.file(rel), Map.of()).json().path("id").asString();
    }

    private UUID insertEvaluateJob(String model, String dataset, List<String> requirements) {
        UUID id = UUID.randomUUID();
        jobs.insert(new JobRepository.NewJob(id, "evaluate", UUID.fromString(model), null, UUID.fromString(dataset), null,
                "{\"evaluation\":{\"batchSize\":32,\"threads\":0,\"maxSamples\":500}}", 0, requirements, 3, null));
        return id;
    }

    @Test
    void aJobWhoseWorkerDiesCompletesOnALaterAttempt() {
        String model = upload("/api/v1/models", "mnist/mnist-8.onnx");
        String data = upload("/api/v1/datasets", "mnist/mnist8-eval.npz");
        String pool = "pool-" + UUID.randomUUID();
        UUID id = insertEvaluateJob(model, data, List.of("onnxruntime", pool));
        // a worker of that pool claims it with a 1 s lease, then dies (never heartbeats)
        assertThat(jobs.claim("worker-that-dies", List.of("onnxruntime", pool), 1)).isPresent();
        api().await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("queued") && j.path("attempts").asInt() == 1,
                Duration.ofSeconds(20));
        // the pool restriction is lifted so the in-process workers can take over
        jdbc.sql("update job set requirements = '{onnxruntime}' where id = :id").param("id", id).update();
        JsonNode done = api().awaitJob(id.toString(), Duration.ofMinutes(1));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("attempts").asInt()).isEqualTo(2);
        assertThat(done.path("result").path("samples").asLong()).isEqualTo(500);
        assertThat(api().get("/api/v1/jobs/" + id + "/logs").body()).contains("stopped responding");
        assertThat(done.path("reportIds").size()).as("one set of reports").isEqualTo(1);
    }

    @Test
    void aRemoteWorkerLeasesDownloadsRunsAndCompletes() throws Exception {
        String model = upload("/api/v1/models", "mnist/mnist-8.onnx");
        String data = upload("/api/v1/datasets", "mnist/mnist8-eval.npz");
        String pool = "remote-" + UUID.randomUUID();
        UUID id = insertEvaluateJob(model, data, List.of("onnxruntime", pool));
        List<JobHandler> handlers;
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
        Path workerDir = Files.createTempDirectory("qf-remote-worker-");
        try (RemoteWorkerAgent agent = new RemoteWorkerAgent("http://127.0.0.1:" + port, workerDir, "test-remote", handlers, List.of(pool))) {
            UUID workerId = agent.register();
            JsonNode listed = api().get("/api/v1/workers").json();
            assertThat(listed.toString()).contains(workerId.toString()).contains(pool);
            assertThat(agent.runOne(5)).isTrue();
            JsonNode done = api().awaitJob(id.toString(), Duration.ofSeconds(30));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.path("workerId").asString()).isEqualTo(workerId.toString());
            assertThat(done.path("result").path("reportId").asString()).isNotBlank();
            assertThat(api().get("/api/v1/jobs/" + id + "/logs").body()).contains("leased by remote worker test-remote")
                    .contains("top-1 0.97");
            // the same job run in-process gives the same numbers
            JsonNode local = api().postJson("/api/v1/jobs", Map.of("type", "evaluate", "modelId", model, "evaluationDatasetId", data,
                    "config", Map.of("evaluation", Map.of("maxSamples", 500)))).json();
            JsonNode localDone = api().awaitJob(local.path("id").asString(), Duration.ofMinutes(1));
            assertThat(done.path("result").path("correct").asLong()).isEqualTo(localDone.path("result").path("correct").asLong());
            assertThat(done.path("result").path("top1").asDouble()).isEqualTo(localDone.path("result").path("top1").asDouble());
            // nothing more for it: the lease answers 204 after the wait
            assertThat(agent.runOne(1)).isFalse();
        }
    }

    @Test
    void remoteProtocolRefusesWritesFromAWorkerThatDoesNotHoldTheJob() {
        Map<String, Object> reg = Map.of("name", "intruder", "capabilities", Map.of("cpu", true));
        JsonNode w = api().postJson("/api/v1/workers", reg).json();
        String model = upload("/api/v1/models", "mnist/mnist-8.onnx");
        String data = upload("/api/v1/datasets", "mnist/mnist8-eval.npz");
        UUID id = insertEvaluateJob(model, data, List.of("onnxruntime", "pool-nobody-has"));
        JsonNode hb = api().postJson("/api/v1/workers/" + w.path("id").asString() + "/jobs/" + id + "/heartbeat",
                Map.of("progress", Map.of("fraction", 0.5))).json();
        assertThat(hb.path("leaseLost").asBoolean()).isTrue();
        assertThat(hb.path("cancelRequested").asBoolean()).isTrue();
        assertThat(api().postJson("/api/v1/workers/" + w.path("id").asString() + "/jobs/" + id + "/fail",
                Map.of("code", "x", "message", "y")).status()).isEqualTo(409);
        assertThat(api().postJson("/api/v1/workers/" + UUID.randomUUID() + "/lease", Map.of("waitSeconds", 0)).status()).isEqualTo(404);
        assertThat(api().postJson("/api/v1/workers/" + w.path("id").asString() + "/lease", Map.of("waitSeconds", 0)).status())
                .as("a cpu-only worker gets no onnxruntime job").isEqualTo(204);
        jobs.requestCancel(id);
    }
}
