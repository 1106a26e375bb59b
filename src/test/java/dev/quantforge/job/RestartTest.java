package dev.quantforge.job;

import static dev.quantforge.testsupport.ServiceProcess.api;
import static dev.quantforge.testsupport.ServiceProcess.start;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;

/** Stopping the service loses nothing: queued jobs, models and datasets are all there after a restart, and the jobs then run. */
class RestartTest {

    @Test
    void queuedJobsSurviveARestartAndThenRun() throws Exception {
        TestDatabase.assumeAvailable();
        String db = TestDatabase.newDatabase();
        Path dataDir = Files.createTempDirectory("qf-restart-");
        List<String> ids = new ArrayList<>();
        String modelId;
        try (ConfigurableApplicationContext first = start(db, dataDir, 0)) {
            Api api = api(first);
            modelId = api.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
            for (int i = 0; i < 5; i++) {
                Api.Res r = api.postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", modelId, "priority", i,
                        "config", Map.of("benchmark", Map.of("iterations", 5, "warmup", 1))));
                assertThat(r.status()).isEqualTo(201);
                ids.add(r.json().path("id").asString());
            }
            JsonNode queued = api.get("/api/v1/jobs?state=queued").json();
            assertThat(queued.path("total").asLong()).isEqualTo(5);
            // a job nobody can run says so instead of waiting silently
            api.await("/api/v1/jobs/" + ids.get(0), j -> j.path("progress").path("message").asString().contains("no worker"),
                    Duration.ofSeconds(10));
        }
        try (ConfigurableApplicationContext second = start(db, dataDir, 1)) {
            Api api = api(second);
            assertThat(api.get("/api/v1/models/" + modelId).status()).isEqualTo(200);
            for (String id : ids) {
                JsonNode done = api.awaitJob(id, Duration.ofMinutes(1));
                assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
                assertThat(done.path("attempts").asInt()).isEqualTo(1);
            }
            assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isEqualTo(5);
        }
    }
}
