package dev.quantforge.worker;

import static dev.quantforge.testsupport.ServiceProcess.api;
import static dev.quantforge.testsupport.ServiceProcess.start;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobRepository;
import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;

/**
 * A process that dies holding a job (kill -9: no shutdown hook, its lease still minutes from expiring)
 * and is started again: the new process adopts the dead one's identity, requeues that job at once and
 * deletes the dead process's temp files; the worker list never shows a gone worker holding a job.
 */
class CrashRecoveryTest {

    @Test
    void aRestartedProcessRequeuesItsPreviousIncarnationsJobsAtOnceAndCleansItsTempFiles() throws Exception {
        TestDatabase.assumeAvailable();
        String db = TestDatabase.newDatabase();
        Path dataDir = Files.createTempDirectory("qf-crash-");
        String jobId;
        UUID identity;
        Path scratch;
        try (ConfigurableApplicationContext first = start(db, dataDir, 0)) {
            Api api = api(first);
            String model = api.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
            Api.Res job = api.postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model,
                    "config", Map.of("benchmark", Map.of("iterations", 20, "warmup", 2))));
            assertThat(job.status()).isEqualTo(201);
            jobId = job.json().path("id").asString();
            InstanceDirectory instance = first.getBean(InstanceDirectory.class);
            identity = instance.id();
            scratch = instance.scratch();
            // the state a kill -9 leaves: this process's worker held the job under a lease 10 minutes from expiring ...
            assertThat(first.getBean(JobRepository.class).claim(identity.toString(), List.of("onnxruntime", "cpu"), 600)).isPresent();
            first.getBean(JdbcClient.class).sql("update worker set current_job_id = :j where id = :w")
                    .param("j", UUID.fromString(jobId)).param("w", identity).update();
            // ... and its scratch folder holds a half-received upload, a staged blob and the attempt's work folder
            Files.writeString(scratch.resolve("upload_7f3a_00000002.tmp"), "half of an upload");
            Files.writeString(scratch.resolve("upload-123.part"), "a staged blob");
            Files.createDirectory(scratch.resolve("job-" + jobId + "-998877"));
        }
        long t0 = System.nanoTime();
        try (ConfigurableApplicationContext second = start(db, dataDir, 1)) {
            assertThat(second.getBean(InstanceDirectory.class).id()).as("the identity survives the restart").isEqualTo(identity);
            // (the requeued job may already run again there, in a work folder of its own)
            assertThat(scratch.resolve("upload_7f3a_00000002.tmp")).doesNotExist();
            assertThat(scratch.resolve("upload-123.part")).doesNotExist();
            assertThat(scratch.resolve("job-" + jobId + "-998877")).doesNotExist();
            Api api = api(second);
            JsonNode done = api.awaitJob(jobId, Duration.ofSeconds(60));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.path("attempts").asInt()).isEqualTo(2);
            assertThat(seconds).as("requeued at start-up, not after the 600 s lease").isLessThan(45);
            assertThat(api.get("/api/v1/jobs/" + jobId + "/logs").body()).contains("its process restarted");
            // the worker list: the restarted worker is live and holds nothing; a dead worker is gone and holds nothing
            UUID dead = UUID.randomUUID();
            second.getBean(JdbcClient.class).sql("insert into worker (id, name, capabilities, remote, last_heartbeat_at, current_job_id) "
                    + "values (:id, 'died-long-ago', '{}', true, now() - interval '1 hour', :job)")
                    .param("id", dead).param("job", UUID.fromString(jobId)).update();
            api.await("/api/v1/workers", w -> {
                for (JsonNode worker : w) {
                    if (worker.path("id").asString().equals(identity.toString())) {
                        return worker.path("state").asString().equals("live") && worker.path("currentJobId").isNull();
                    }
                }
                return false;
            }, Duration.ofSeconds(10));
            for (JsonNode worker : api.get("/api/v1/workers").json()) {
                if (worker.path("id").asString().equals(dead.toString())) {
                    assertThat(worker.path("state").asString()).isEqualTo("gone");
                    assertThat(worker.path("currentJobId").isNull()).as(worker.toString()).isTrue();
                }
            }
        }
    }
}
