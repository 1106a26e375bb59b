package dev.quantforge.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceProcess;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;

/**
 * Deliveries live in PostgreSQL: the receiver is down while the job finishes and the service is stopped before it comes
 * back; the restarted service delivers the event — signed, once, with the job's final state.
 */
class WebhookRestartTest {

    private static final String[] FAST_RETRIES = {"--qf.webhooks.retry-initial-millis=300", "--qf.webhooks.retry-max-millis=2000",
            "--qf.webhooks.poll-millis=100", "--qf.webhooks.allow-private-addresses=true"};

    @Test
    void anEventQueuedWhileTheReceiverIsDownArrivesAfterARestart() throws Exception {
        TestDatabase.assumeAvailable();
        String db = TestDatabase.newDatabase();
        Path dataDir = Files.createTempDirectory("qf-webhook-restart-");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort(); // nothing listens there until the receiver starts below
        }
        String hook;
        String secret;
        String job;
        try (ConfigurableApplicationContext first = ServiceProcess.start(db, dataDir, 1, FAST_RETRIES)) {
            Api api = ServiceProcess.api(first);
            Api.Res created = api.postJson("/api/v1/webhooks", Map.of("url", "http://127.0.0.1:" + port + "/hook",
                    "events", List.of("job.succeeded")));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            hook = created.json().path("id").asString();
            secret = created.json().path("secret").asString();
            String model = api.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
            job = api.postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model,
                    "config", Map.of("benchmark", Map.of("iterations", 5, "warmup", 1)))).json().path("id").asString();
            assertThat(api.awaitJob(job, Duration.ofMinutes(1)).path("state").asString()).isEqualTo("succeeded");
            JsonNode failing = api.await("/api/v1/webhooks/" + hook + "/deliveries",
                    l -> l.size() == 1 && l.get(0).path("attempts").asInt() >= 2, Duration.ofSeconds(30)).get(0);
            assertThat(failing.path("state").asString()).isEqualTo("pending");
            assertThat(failing.path("lastStatus").isNull()).isTrue();
            assertThat(failing.path("lastError").asString()).isNotEmpty();
            assertThat(failing.path("nextAttemptAt").isNull()).isFalse();
        }
        try (Receiver receiver = new Receiver(port, 0);
             ConfigurableApplicationContext second = ServiceProcess.start(db, dataDir, 0, FAST_RETRIES)) {
            Api api = ServiceProcess.api(second);
            Receiver.Request r = receiver.await(x -> x.path().equals("/hook"), Duration.ofSeconds(60));
            assertThat(r.header(WebhookSignature.HEADER))
                    .isEqualTo(WebhookSignature.sign(secret, Long.parseLong(r.header(WebhookSignature.TIMESTAMP)), r.body()));
            JsonNode body = Api.JSON.readTree(r.body());
            assertThat(body.path("id").asString()).isEqualTo(job);
            assertThat(body.path("state").asString()).isEqualTo("succeeded");
            JsonNode log = api.await("/api/v1/webhooks/" + hook + "/deliveries",
                    l -> l.get(0).path("state").asString().equals("delivered"), Duration.ofSeconds(30));
            assertThat(log).hasSize(1);
            assertThat(log.get(0).path("id").asString()).isEqualTo(r.header(WebhookSignature.EVENT_ID));
            assertThat(log.get(0).path("lastStatus").asInt()).isEqualTo(200);
            Thread.sleep(1000);
            assertThat(receiver.requests).as("delivered once").hasSize(1);
        }
    }
}
