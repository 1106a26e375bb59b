package dev.quantforge.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.QuantforgeApplication;
import dev.quantforge.platform.db.EmbeddedPostgresServer;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceProcess;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;

/**
 * PostgreSQL stops under a running service and comes back: meanwhile every API call is a 503 problem with
 * Retry-After that names the database (never a 500), nothing is half-stored, and afterwards the service serves and
 * runs jobs again without a restart. The database is a PostgreSQL of this test's own (the product's embedded server
 * on a free port), since stopping the machine's shared one would break the other test classes' connections.
 */
class DatabaseOutageTest {

    @Test
    void whileThePostgresqlIsDownRequestsAre503WithRetryAfterAndTheServiceRecoversAfter() throws Exception {
        TestDatabase.assumeAvailable();
        Path pgDir = Files.createTempDirectory("qf-outage-pg-");
        Path binCache = Path.of(System.getProperty("java.io.tmpdir"), "quantforge-pg-bin");
        EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(pgDir, binCache, 0);
        int port = pg.port();
        pg.createDatabaseIfMissing("outage");
        ConfigurableApplicationContext service = null;
        try {
            service = new SpringApplicationBuilder(QuantforgeApplication.class).run(
                    "--spring.datasource.url=" + pg.jdbcUrl("outage"), "--spring.datasource.username=" + pg.username(),
                    "--spring.datasource.password=" + pg.password(), "--qf.data-dir=" + Files.createTempDirectory("qf-outage-"),
                    "--server.port=0", "--qf.worker.concurrency=1", "--qf.worker.poll-millis=100",
                    "--qf.jobs.reaper-interval-seconds=1", "--spring.datasource.hikari.connection-timeout=1000");
            Api api = ServiceProcess.api(service);
            String model = api.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();

            pg.close();
            byte[] other = Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
            other[other.length - 1] ^= 1;
            // three rounds: the pool's connections break in different ways (a statement on a dead socket, a rollback on a
            // connection the pool evicted, no connection to be had)
            List<Api.Res> during = new java.util.ArrayList<>();
            for (int round = 0; round < 3; round++) {
                during.addAll(List.of(
                        api.get("/api/v1/models"),
                        api.get("/api/v1/models/" + model),
                        api.postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model,
                                "config", Map.of("benchmark", Map.of("iterations", 5, "warmup", 1))), "Idempotency-Key", "outage-1"),
                        api.upload("/api/v1/models", "other.onnx", other, Map.of()),
                        api.send(HttpRequest.newBuilder(api.uri("/api/v1/jobs?state=queued")).GET())));
            }
            for (Api.Res r : during) {
                assertThat(r.status()).as(r.body()).isEqualTo(503);
                assertThat(r.contentType()).startsWith("application/problem+json");
                assertThat(r.detail()).contains("the database is unavailable").contains("retry");
            }
            assertThat(api.client().send(HttpRequest.newBuilder(api.uri("/api/v1/models")).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding()).headers().firstValue("Retry-After")).hasValue("5");
            assertThat(api.get("/actuator/health/liveness").status()).as("alive: a restart would not help").isEqualTo(200);

            pg = EmbeddedPostgresServer.start(pgDir, binCache, port);
            api.await("/api/v1/models", r -> true, Duration.ofSeconds(30));
            JsonNode models = api.get("/api/v1/models").json();
            assertThat(models.path("total").asLong()).as("the upload refused during the outage left no row").isEqualTo(1);
            Api.Res job = api.postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model,
                    "config", Map.of("benchmark", Map.of("iterations", 5, "warmup", 1))), "Idempotency-Key", "outage-1");
            assertThat(job.status()).as("the refused submission was not created: the same key makes it now").isEqualTo(201);
            JsonNode done = api.awaitJob(job.json().path("id").asString(), Duration.ofSeconds(60));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
            assertThat(api.get("/actuator/health").status()).isEqualTo(200);
        } finally {
            if (service != null) {
                service.close();
            }
            pg.close();
        }
    }
}
