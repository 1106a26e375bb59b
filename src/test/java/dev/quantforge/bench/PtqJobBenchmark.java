package dev.quantforge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * A ptq job through the API (the whole service in-process, like the integration tests): the CIFAR
 * net, 1,000 calibration JPEGs (0900-0999 of each class), evaluation on 2,000 (0000-0199),
 * benchmark 200 iterations. Total wall time from submit to succeeded, the phases from polling
 * the job's progress (every 50 ms) and from the job log's timestamps.
 *
 * <p>Not a test: tagged {@code bench}, run with {@code ./mvnw -o -Pbench test -Dtest=PtqJobBenchmark}.
 */
@Tag("bench")
class PtqJobBenchmark extends ServiceTest {

    static final String CIFAR_PRE = "{\"scale\":0.00392156862745098,\"mean\":[0.485,0.456,0.406],\"std\":[0.229,0.224,0.225]}";

    @Test
    void cifarPtqJobEndToEnd() throws Exception {
        BenchReport r = new BenchReport("ptq-job");
        Api.Res m = api().upload("/api/v1/models", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), Map.of());
        assertThat(m.status()).as(m.body()).isIn(200, 201);
        String model = m.json().path("id").asString();
        String calib = api().upload("/api/v1/datasets", "calib-0900-0999.zip", SharedData.cifarZip(900, 1000), Map.of("preprocessing", CIFAR_PRE))
                .json().path("id").asString();
        String eval = api().upload("/api/v1/datasets", "eval-0000-0199.zip", SharedData.cifarZip(0, 200), Map.of("preprocessing", CIFAR_PRE))
                .json().path("id").asString();
        Map<String, Object> body = Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib, "evaluationDatasetId", eval,
                "config", Map.of("calibration", Map.of("maxSamples", 1000), "evaluation", Map.of("maxSamples", 2000),
                        "benchmark", Map.of("iterations", 200)));
        r.put("config", body.get("config").toString());

        long t0 = System.nanoTime();
        Instant submitted = Instant.now();
        Api.Res res = api().postJson("/api/v1/jobs", body);
        assertThat(res.status()).as(res.body()).isEqualTo(201);
        String id = res.json().path("id").asString();
        // poll the job: record when each (state, phase) first appears
        List<String> transitions = new ArrayList<>();
        String last = "";
        JsonNode job;
        long deadline = t0 + 15L * 60 * 1_000_000_000L;
        while (true) {
            job = api().get("/api/v1/jobs/" + id).json();
            String state = job.path("state").asString();
            String phase = job.path("progress").path("phase").asString("");
            String now = state + "/" + phase;
            if (!now.equals(last)) {
                transitions.add(String.format(Locale.ROOT, "%.2f s %s", (System.nanoTime() - t0) / 1e9, now));
                last = now;
            }
            if (Set.of("succeeded", "failed", "cancelled").contains(state) || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(50);
        }
        double total = (System.nanoTime() - t0) / 1e9;
        assertThat(job.path("state").asString()).as(job.toString()).isEqualTo("succeeded");
        r.put("total_submit_to_succeeded_s", String.format(Locale.ROOT, "%.2f", total));
        r.put("phase_transitions_polled", String.join(" | ", transitions));

        JsonNode logs = api().get("/api/v1/jobs/" + id + "/logs?limit=1000").json();
        List<String> lines = new ArrayList<>();
        Instant prev = submitted;
        for (JsonNode l : logs) {
            Instant ts = Instant.parse(l.path("ts").asString());
            String msg = l.path("message").asString();
            lines.add(String.format(Locale.ROOT, "+%.3f s (Δ %.3f s) %s", (ts.toEpochMilli() - submitted.toEpochMilli()) / 1e3,
                    (ts.toEpochMilli() - prev.toEpochMilli()) / 1e3, msg.length() > 140 ? msg.substring(0, 140) + "…" : msg));
            prev = ts;
        }
        r.put("log_lines", String.join("\n", lines));
        for (String line : lines) {
            System.out.println("[bench ptq-job] log " + line);
        }
        JsonNode result = job.path("result");
        r.put("fp32_top1", result.path("fp32").path("top1").asDouble());
        r.put("int8_top1", result.path("quantized").path("top1").asDouble());
        r.put("latency", "fp32 p50 " + result.path("fp32").path("latencyMs").path("p50").asDouble() + " ms, int8 p50 "
                + result.path("quantized").path("latencyMs").path("p50").asDouble() + " ms, speedup " + result.path("speedupP50").asDouble());
        r.put("job_created_started_finished", job.path("createdAt").asString() + " / " + job.path("startedAt").asString() + " / "
                + job.path("finishedAt").asString());
        r.write();
    }
}
