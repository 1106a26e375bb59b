package dev.quantforge.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.Projects;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * Webhooks against a real HTTP receiver on loopback: the signature verifies with the secret, the body is the job as
 * {@code GET /jobs/{id}} shows it, a receiver that fails for a while gets the event when it answers again (same event
 * id, same body), the delivery log says what happened, and another project's webhook hears nothing of it.
 */
// the receivers here are on loopback, which the SSRF guard refuses by default (WebhookAddressTest)
@TestPropertySource(properties = {"qf.api-token=" + Projects.ROOT_TOKEN, "qf.webhooks.allow-private-addresses=true"})
class WebhookTest extends ServiceTest {

    @Test
    void aSignedDeliveryOfTheJobArrivesAfterTheReceiverFailedForAWhile() throws Exception {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String project = Projects.create(root, "hooks", null, null);
        String other = Projects.create(root, "hooks-other", null, null);
        Api as = new Api(port).withToken(Projects.key(root, project, "admin"));
        Api asOther = new Api(port).withToken(Projects.key(root, other, "admin"));
        try (Receiver receiver = new Receiver(0, 2)) {
            Api.Res created = as.postJson("/api/v1/webhooks", Map.of("url", receiver.url("/ci"),
                    "events", List.of("job.succeeded", "job.failed", "report.created")));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            String hook = created.json().path("id").asString();
            String secret = created.json().path("secret").asString();
            assertThat(secret).startsWith("whsec_");
            assertThat(as.get("/api/v1/webhooks/" + hook).body()).doesNotContain(secret);
            assertThat(asOther.postJson("/api/v1/webhooks", Map.of("url", receiver.url("/other"), "events", List.of("job.succeeded")))
                    .status()).isEqualTo(201);

            String model = as.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
            String eval = as.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of()).json().path("id").asString();
            Api.Res submitted = as.postJson("/api/v1/jobs", Map.of("type", "evaluate", "modelId", model, "evaluationDatasetId", eval,
                    "config", Map.of("evaluation", Map.of("maxSamples", 200))));
            assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
            String job = submitted.json().path("id").asString();
            JsonNode done = as.awaitJob(job, Duration.ofMinutes(2));
            assertThat(done.path("state").asString()).isEqualTo("succeeded");

            Receiver.Request delivery = receiver.await(r -> "job.succeeded".equals(r.header(WebhookSignature.EVENT)), Duration.ofSeconds(60));
            // the signature a receiver checks: t=<seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
            Matcher signature = Pattern.compile("t=(\\d+),v1=([0-9a-f]{64})").matcher(delivery.header(WebhookSignature.HEADER));
            assertThat(signature.matches()).as(delivery.header(WebhookSignature.HEADER)).isTrue();
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            assertThat(signature.group(2)).isEqualTo(HexFormat.of().formatHex(mac.doFinal(
                    (signature.group(1) + "." + delivery.body()).getBytes(StandardCharsets.UTF_8))));
            assertThat(signature.group(1)).isEqualTo(delivery.header(WebhookSignature.TIMESTAMP));
            assertThat(delivery.header(WebhookSignature.DELIVERY)).isEqualTo(delivery.header(WebhookSignature.EVENT_ID));
            assertThat(Math.abs(Long.parseLong(delivery.header(WebhookSignature.TIMESTAMP)) - System.currentTimeMillis() / 1000)).isLessThan(120);
            assertThat(delivery.header("Content-Type")).startsWith("application/json");
            assertThat(Api.JSON.readTree(delivery.body())).isEqualTo(as.get("/api/v1/jobs/" + job).json());

            // the failures were retried with the same event id and the same bytes
            String eventId = delivery.header(WebhookSignature.EVENT_ID);
            List<Receiver.Request> attempts = receiver.requests.stream().filter(r -> eventId.equals(r.header(WebhookSignature.EVENT_ID))).toList();
            assertThat(receiver.requests.stream().filter(r -> r.answered() == 503).count()).isEqualTo(2);
            assertThat(attempts).allSatisfy(r -> assertThat(r.body()).isEqualTo(delivery.body()));

            Receiver.Request report = receiver.await(r -> "report.created".equals(r.header(WebhookSignature.EVENT)), Duration.ofSeconds(60));
            assertThat(Api.JSON.readTree(report.body()).path("id").asString()).isEqualTo(done.path("reportIds").get(0).asString());
            assertThat(Api.JSON.readTree(report.body()).path("jobId").asString()).isEqualTo(job);

            JsonNode log = as.await("/api/v1/webhooks/" + hook + "/deliveries",
                    l -> l.size() == 2 && l.findValuesAsString("state").stream().allMatch("delivered"::equals), Duration.ofSeconds(30));
            JsonNode succeeded = null;
            for (JsonNode d : log) {
                if (d.path("event").asString().equals("job.succeeded")) {
                    succeeded = d;
                }
            }
            assertThat(succeeded).isNotNull();
            assertThat(succeeded.path("id").asString()).isEqualTo(eventId);
            assertThat(succeeded.path("jobId").asString()).isEqualTo(job);
            assertThat(succeeded.path("lastStatus").asInt()).isEqualTo(200);
            assertThat(succeeded.path("attempts").asInt()).isEqualTo(attempts.size()).isGreaterThanOrEqualTo(1);
            assertThat(receiver.requests).as("the other project's webhook hears nothing of this project's job")
                    .noneMatch(r -> r.path().equals("/other"));
            assertThat(asOther.get("/api/v1/webhooks/" + hook + "/deliveries").status()).isEqualTo(404);
            assertThat(as.delete("/api/v1/webhooks/" + hook).status()).isEqualTo(204);
            assertThat(as.get("/api/v1/webhooks/" + hook).status()).isEqualTo(404);
        }
    }

    @Test
    void badRegistrationsAreClear400sAndWebhooksNeedAdmin() {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String project = Projects.create(root, "hooks-bad", null, null);
        Api as = new Api(port).withToken(Projects.key(root, project, "admin"));
        Api.Res ftp = as.postJson("/api/v1/webhooks", Map.of("url", "ftp://example.org/x", "events", List.of("job.succeeded")));
        assertThat(ftp.status()).isEqualTo(400);
        assertThat(ftp.detail()).contains("url");
        Api.Res progress = as.postJson("/api/v1/webhooks", Map.of("url", "http://127.0.0.1:9/x", "events", List.of("job.progress")));
        assertThat(progress.status()).isEqualTo(400);
        assertThat(progress.detail()).contains("job.progress").contains("/events");
        assertThat(as.postJson("/api/v1/webhooks", Map.of("url", "http://127.0.0.1:9/x")).status()).isEqualTo(400);
        assertThat(as.postJson("/api/v1/webhooks", "\"x\"").status()).isEqualTo(400);
        assertThat(as.get("/api/v1/webhooks/" + UUID.randomUUID()).status()).isEqualTo(404);
        Api read = new Api(port).withToken(Projects.key(root, project, "submit"));
        assertThat(read.postJson("/api/v1/webhooks", Map.of("url", "http://127.0.0.1:9/x", "events", List.of("job.failed"))).status())
                .isEqualTo(403);
    }
}
