package dev.quantforge.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** evaluate and benchmark jobs end to end: submit, run on the in-process workers, read results. */
class JobApiTest extends ServiceTest {

    private String mnist8;
    private String evalSet;

    @BeforeEach
    void uploadInputs() {
        mnist8 = api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        Api.Res ds = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of("name", "mnist8-eval"));
        assertThat(ds.status()).as(ds.body()).isIn(200, 201);
        evalSet = ds.json().path("id").asString();
        assertThat(ds.json().path("format").asString()).isEqualTo("npz");
        assertThat(ds.json().path("sampleCount").asLong()).isEqualTo(2000);
        assertThat(ds.json().path("hasLabels").asBoolean()).isTrue();
    }

    private Api.Res submit(Map<String, Object> body, String... headers) {
        return api().postJson("/api/v1/jobs", body, headers);
    }

    @Test
    void evaluateMnist8GivesTheOnnxRuntimeTop1() {
        Api.Res r = submit(Map.of("type", "evaluate", "modelId", mnist8, "evaluationDatasetId", evalSet, "config", Map.of()));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().path("state").asString()).isIn("queued", "running");
        assertThat(r.json().path("config").path("evaluation").path("batchSize").asInt()).as("defaults filled in").isEqualTo(32);
        JsonNode done = api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(2));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("result").path("top1").asDouble()).isEqualTo(0.9805);
        assertThat(done.path("result").path("samples").asLong()).isEqualTo(2000);
        assertThat(done.path("progress").path("fraction").asDouble()).isEqualTo(1.0);
        assertThat(done.path("attempts").asInt()).isEqualTo(1);
        assertThat(done.path("startedAt").isNull()).isFalse();
        assertThat(done.path("finishedAt").isNull()).isFalse();
        // a report row for the FP32 configuration: the results database exists from day one
        String reportId = done.path("result").path("reportId").asString();
        assertThat(done.path("reportIds").toString()).contains(reportId);
        JsonNode report = api().get("/api/v1/reports/" + reportId).json();
        assertThat(report.path("metrics").path("top1").asDouble()).isEqualTo(0.9805);
        assertThat(report.path("config").path("precision").asString()).isEqualTo("fp32");
        assertThat(report.path("configHash").asString()).hasSize(64);
        assertThat(report.path("runtime").path("engine").asString()).isEqualTo("onnxruntime");
        JsonNode modelReports = api().get("/api/v1/models/" + mnist8 + "/reports?sort=top1").json();
        assertThat(modelReports.toString()).contains(reportId);
        // the log tells what happened
        JsonNode logs = api().get("/api/v1/jobs/" + done.path("id").asString() + "/logs").json();
        assertThat(logs.toString()).contains("top-1 0.9805");
    }

    @Test
    void maxSamplesLimitsTheEvaluation() {
        Api.Res r = submit(Map.of("type", "evaluate", "modelId", mnist8, "evaluationDatasetId", evalSet,
                "config", Map.of("evaluation", Map.of("maxSamples", 100))));
        JsonNode done = api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(2));
        assertThat(done.path("result").path("samples").asLong()).isEqualTo(100);
    }

    @Test
    void benchmarkReportsLatencyPercentiles() {
        Api.Res r = submit(Map.of("type", "benchmark", "modelId", mnist8,
                "config", Map.of("benchmark", Map.of("iterations", 50, "warmup", 5))));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        JsonNode done = api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(2));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        JsonNode lat = done.path("result").path("latencyMs");
        assertThat(lat.path("p50").asDouble()).isPositive();
        assertThat(lat.path("p50").asDouble()).isLessThanOrEqualTo(lat.path("p90").asDouble());
        assertThat(lat.path("p90").asDouble()).isLessThanOrEqualTo(lat.path("p99").asDouble());
        assertThat(done.path("result").path("iterations").asInt()).isEqualTo(50);
        assertThat(done.path("result").path("batchSize").asInt()).isEqualTo(1);
        assertThat(done.path("result").path("threads").asInt()).isEqualTo(1);
        assertThat(done.path("result").path("throughputPerSecond").asDouble()).isPositive();
    }

    @Test
    void configOutOfRangeIsAFieldError() {
        Api.Res r = submit(Map.of("type", "evaluate", "modelId", mnist8, "evaluationDatasetId", evalSet,
                "config", Map.of("evaluation", Map.of("maxSamples", -5))));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().path("errors").get(0).path("field").asString()).isEqualTo("config.evaluation.maxSamples");
        assertThat(r.detail()).contains("config.evaluation.maxSamples");
        Api.Res typo = submit(Map.of("type", "evaluate", "modelId", mnist8, "evaluationDatasetId", evalSet,
                "config", Map.of("evaluaton", Map.of())));
        assertThat(typo.status()).isEqualTo(400);
        assertThat(typo.json().path("errors").get(0).path("field").asString()).isEqualTo("config.evaluaton");
    }

    @Test
    void unknownTypesAndBadConfigsAre400() {
        Api.Res unknown = submit(Map.of("type", "magic", "modelId", mnist8));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.detail()).contains("unknown job type 'magic'");
        // every type of the API is built now; compile_tensorrt validates its config like the others
        Api.Res badPrecision = submit(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("precision", "int4")));
        assertThat(badPrecision.status()).isEqualTo(400);
        assertThat(badPrecision.json().path("errors").get(0).path("field").asString()).isEqualTo("config.precision");
    }

    @Test
    void missingFieldsAndUnknownIds() {
        Api.Res noModel = submit(Map.of("type", "evaluate", "evaluationDatasetId", evalSet));
        assertThat(noModel.status()).isEqualTo(400);
        assertThat(noModel.json().path("errors").toString()).contains("modelId");
        Api.Res noData = submit(Map.of("type", "evaluate", "modelId", mnist8));
        assertThat(noData.status()).isEqualTo(400);
        assertThat(noData.json().path("errors").toString()).contains("evaluationDatasetId");
        Api.Res ghost = submit(Map.of("type", "evaluate", "modelId", UUID.randomUUID().toString(), "evaluationDatasetId", evalSet));
        assertThat(ghost.status()).isEqualTo(404);
        Api.Res malformed = api().postJson("/api/v1/jobs", "{\"type\":");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(api().get("/api/v1/jobs/" + UUID.randomUUID()).status()).isEqualTo(404);
    }

    @Test
    void datasetThatDoesNotFitTheModelIsRefusedNamingBothSides() {
        String cifar = api().upload("/api/v1/models", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), Map.of()).json().path("id").asString();
        Api.Res r = submit(Map.of("type", "evaluate", "modelId", cifar, "evaluationDatasetId", evalSet));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.detail()).contains("actual_input_1").contains("Input3");
    }

    @Test
    void idempotentSubmitReturnsTheFirstJob() {
        String key = "key-" + UUID.randomUUID();
        Map<String, Object> body = Map.of("type", "benchmark", "modelId", mnist8, "config", Map.of("benchmark", Map.of("iterations", 5)));
        Api.Res first = submit(body, "Idempotency-Key", key);
        Api.Res second = submit(body, "Idempotency-Key", key);
        assertThat(first.status()).isEqualTo(201);
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        long count = jdbc.sql("select count(*) from job where idempotency_key = :k").param("k", key).query(Long.class).single();
        assertThat(count).isEqualTo(1);
    }

    @Test
    void cancelStopsARunningJobWithinSecondsAndRetryRequeuesIt() {
        Api.Res r = submit(Map.of("type", "benchmark", "modelId", mnist8,
                "config", Map.of("benchmark", Map.of("iterations", 1_000_000, "warmup", 0))));
        String id = r.json().path("id").asString();
        api().await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("running")
                && j.path("progress").path("fraction").asDouble() > 0, Duration.ofSeconds(60));
        long t0 = System.nanoTime();
        Api.Res cancel = api().postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
        assertThat(cancel.status()).isEqualTo(200);
        JsonNode done = api().awaitJob(id, Duration.ofSeconds(30));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(done.path("state").asString()).isEqualTo("cancelled");
        assertThat(seconds).as("stopped within seconds").isLessThan(15);
        Api.Res again = api().postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
        assertThat(again.status()).isEqualTo(409);

        Api.Res retry = api().postJson("/api/v1/jobs/" + id + "/retry", Map.of());
        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.json().path("state").asString()).isIn("queued", "running");
        api().postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
        assertThat(api().awaitJob(id, Duration.ofSeconds(30)).path("state").asString()).isEqualTo("cancelled");
    }

    @Test
    void retryOfASucceededJobIsAConflict() {
        Api.Res r = submit(Map.of("type", "benchmark", "modelId", mnist8, "config", Map.of("benchmark", Map.of("iterations", 3))));
        String id = r.json().path("id").asString();
        api().awaitJob(id, Duration.ofMinutes(1));
        Api.Res retry = api().postJson("/api/v1/jobs/" + id + "/retry", Map.of());
        assertThat(retry.status()).isEqualTo(409);
        assertThat(retry.detail()).contains("only failed or cancelled");
    }

    @Test
    void listFiltersByStateTypeAndModel() {
        Api.Res r = submit(Map.of("type", "benchmark", "modelId", mnist8, "config", Map.of("benchmark", Map.of("iterations", 3))));
        api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(1));
        JsonNode page = api().get("/api/v1/jobs?type=benchmark&state=succeeded&modelId=" + mnist8 + "&size=5").json();
        assertThat(page.path("items").size()).isBetween(1, 5);
        page.path("items").forEach(j -> {
            assertThat(j.path("type").asString()).isEqualTo("benchmark");
            assertThat(j.path("state").asString()).isEqualTo("succeeded");
        });
        assertThat(api().get("/api/v1/jobs?state=bogus").status()).isEqualTo(400);
        assertThat(api().get("/api/v1/jobs?size=0").status()).isEqualTo(400);
    }

    @Test
    void eventsStreamStateProgressAndLogUntilTheJobEnds() throws Exception {
        Api.Res r = submit(Map.of("type", "evaluate", "modelId", mnist8, "evaluationDatasetId", evalSet,
                "config", Map.of("evaluation", Map.of("maxSamples", 300))));
        String id = r.json().path("id").asString();
        HttpResponse<InputStream> resp = api().client().send(HttpRequest.newBuilder(api().uri("/api/v1/jobs/" + id + "/events"))
                .timeout(Duration.ofMinutes(2)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(resp.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<String> events = new ArrayList<>();
        List<String> data = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("event:")) {
                    events.add(line.substring(6).trim());
                } else if (line.startsWith("data:")) {
                    data.add(line.substring(5).trim());
                }
            }
        }
        assertThat(events).contains("state", "progress", "log");
        assertThat(String.join("\n", data)).contains("\"state\":\"succeeded\"");
    }
}
