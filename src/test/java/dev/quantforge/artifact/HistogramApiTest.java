package dev.quantforge.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * GET /artifacts/{id}/histograms[/tensor]: a ptq job's stored histograms decoded, and each calibrator's
 * range computed from them — the same ranges the job quantized with.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HistogramApiTest extends ServiceTest {

    private JsonNode job;
    private String histograms;

    @BeforeAll
    void ptqOnMnist() {
        String model = api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        String calib = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of()).json().path("id").asString();
        Api.Res r = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib,
                "config", Map.of("activations", Map.of("calibrator", "percentile", "percentile", 99.9),
                        "calibration", Map.of("maxSamples", 256), "evaluation", Map.of("maxSamples", 200), "benchmark", Map.of("iterations", 10))));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        job = api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(2));
        assertThat(job.path("state").asString()).as(job.toString()).isEqualTo("succeeded");
        histograms = job.path("result").path("histogramsArtifactId").asString();
    }

    private JsonNode tensor(String name, String query) {
        Api.Res r = api().get("/api/v1/artifacts/" + histograms + "/histograms/tensor?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8) + query);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    @Test
    void theListingNamesEveryCalibratedTensor() {
        JsonNode list = api().get("/api/v1/artifacts/" + histograms + "/histograms").json();
        assertThat(list.path("bins").asInt()).isEqualTo(2048);
        assertThat(list.path("samples").asLong()).isEqualTo(256);
        List<String> names = new ArrayList<>();
        list.path("tensors").forEach(t -> names.add(t.path("name").asString()));
        assertThat(names).contains("Input3", "Times212_Output_0").hasSize(4);
        JsonNode input = list.path("tensors").get(names.indexOf("Input3"));
        assertThat(input.path("count").asLong()).isEqualTo(256L * 28 * 28);
        assertThat(input.path("min").asDouble()).isEqualTo(0.0);
        assertThat(input.path("max").asDouble()).isEqualTo(1.0);
    }

    @Test
    void everyBarIsCountedAndTheRangesAreTheOnesTheJobQuantizedWith() {
        JsonNode report = api().get("/api/v1/reports/" + job.path("result").path("reportId").asString()).json();
        List<String> names = new ArrayList<>();
        api().get("/api/v1/artifacts/" + histograms + "/histograms").json().path("tensors").forEach(t -> names.add(t.path("name").asString()));
        List<double[]> percentileRanges = new ArrayList<>();
        for (String name : names) {
            JsonNode h = tensor(name, "&activations=uint8&percentile=99.9&bars=64");
            long total = 0;
            for (JsonNode c : h.path("counts")) {
                total += c.asLong();
            }
            assertThat(total).as(name + ": the bars hold every value").isEqualTo(h.path("stats").path("count").asLong());
            assertThat(h.path("counts").size()).isBetween(1, 64);
            assertThat(h.path("start").asDouble()).isLessThanOrEqualTo(h.path("stats").path("min").asDouble());
            assertThat(h.path("start").asDouble() + h.path("counts").size() * h.path("width").asDouble())
                    .isGreaterThanOrEqualTo(h.path("stats").path("max").asDouble());
            List<String> calibrators = new ArrayList<>();
            h.path("calibrators").forEach(c -> calibrators.add(c.path("calibrator").asString()));
            assertThat(calibrators).containsExactly("max", "percentile", "entropy", "mse", "auto");
            JsonNode max = h.path("calibrators").get(0);
            assertThat(max.path("max").asDouble()).isEqualTo(Math.max(0, h.path("stats").path("max").asDouble()));
            assertThat(max.path("min").asDouble()).isEqualTo(Math.min(0, h.path("stats").path("min").asDouble()));
            JsonNode p = h.path("calibrators").get(1);
            percentileRanges.add(new double[] {p.path("min").asDouble(), p.path("max").asDouble()});
            assertThat(h.path("calibrators").get(4).path("methodUsed").asString()).isIn("max", "percentile", "entropy", "mse");
        }
        // each quantized layer's activation range in the report is one of the percentile (99.9) ranges computed here
        int matched = 0;
        for (JsonNode l : report.path("layers")) {
            if (!l.path("quantized").asBoolean()) {
                continue;
            }
            assertThat(l.path("activationCalibrator").asString()).isEqualTo("percentile");
            double lo = l.path("rangeMin").asDouble();
            double hi = l.path("rangeMax").asDouble();
            assertThat(percentileRanges).as(l.path("node").asString())
                    .anyMatch(r -> Math.abs(r[0] - lo) < 1e-6 && Math.abs(r[1] - hi) < 1e-6 * Math.max(1, hi));
            matched++;
        }
        assertThat(matched).isEqualTo(3);
    }

    @Test
    void symmetricRangesAreCenteredOnZero() {
        JsonNode h = tensor("Times212_Output_0", "&activations=int8");
        for (JsonNode c : h.path("calibrators")) {
            assertThat(c.path("min").asDouble()).as(c.path("calibrator").asString()).isEqualTo(-c.path("max").asDouble());
            assertThat(c.path("amax").asDouble()).isEqualTo(c.path("max").asDouble());
        }
        assertThat(h.path("stats").path("min").asDouble()).isNegative();
        assertThat(h.path("counts").size()).isLessThanOrEqualTo(256);
    }

    @Test
    void theEndpointsAreInTheOpenApiDocument() {
        String docs = api().get("/v3/api-docs").body();
        assertThat(docs).contains("\"/api/v1/artifacts/{id}/histograms\"").contains("\"/api/v1/artifacts/{id}/histograms/tensor\"")
                .contains("\"/api/v1/datasets/{id}/samples/{index}/preview.png\"");
    }

    @Test
    void badParametersUnknownTensorsAndOtherArtifactsAreClearProblems() {
        Api.Res bad = api().get("/api/v1/artifacts/" + histograms + "/histograms/tensor?name=Input3&activations=fp8&bars=2&percentile=5");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.contentType()).startsWith("application/problem+json");
        List<String> fields = new ArrayList<>();
        bad.json().path("errors").forEach(e -> fields.add(e.path("field").asString()));
        assertThat(fields).containsExactlyInAnyOrder("activations", "bars", "percentile");

        Api.Res unknown = api().get("/api/v1/artifacts/" + histograms + "/histograms/tensor?name=nope");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.detail()).contains("'nope'").contains("Input3");

        Api.Res model = api().get("/api/v1/artifacts/" + job.path("result").path("quantizedModelArtifactId").asString() + "/histograms");
        assertThat(model.status()).isEqualTo(400);
        assertThat(model.detail()).contains("quantized_model").contains("histogramsArtifactId");
        assertThat(api().get("/api/v1/artifacts/00000000-0000-0000-0000-000000000000/histograms").status()).isEqualTo(404);
        assertThat(api().get("/api/v1/artifacts/" + histograms + "/histograms/tensor").status()).isEqualTo(400);
    }
}
