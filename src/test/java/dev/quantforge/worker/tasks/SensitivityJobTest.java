package dev.quantforge.worker.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** Sensitivity analysis on the shared CIFAR net: every quantizable node ranked, probes stored as reports. */
class SensitivityJobTest extends ServiceTest {

    @Test
    void klAndTop1RankEveryNodeAndAgree() throws Exception {
        String model = api().upload("/api/v1/models", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), Map.of()).json().path("id").asString();
        String calib = api().upload("/api/v1/datasets", "calib.zip", SharedData.cifarZip(900, 1000), Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING))
                .json().path("id").asString();
        String eval = api().upload("/api/v1/datasets", "eval.zip", SharedData.cifarZip(0, 200), Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING))
                .json().path("id").asString();
        Api.Res r = api().postJson("/api/v1/jobs", Map.of("type", "sensitivity", "modelId", model, "calibrationDatasetId", calib,
                "evaluationDatasetId", eval, "config", Map.of("metric", "kl", "evaluation", Map.of("maxSamples", 1000))));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        JsonNode done = api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(5));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        JsonNode res = done.path("result");
        JsonNode layers = res.path("layers");
        assertThat(layers.size()).as("every quantizable node: 26 Conv, the Gemm and 3 residual Adds").isEqualTo(30);
        Set<String> nodes = new HashSet<>();
        double previous = Double.POSITIVE_INFINITY;
        for (JsonNode l : layers) {
            nodes.add(l.path("node").asString());
            assertThat(l.path("score").asDouble()).as("most sensitive first").isLessThanOrEqualTo(previous);
            previous = l.path("score").asDouble();
            assertThat(l.has("top1Drop")).isTrue();
        }
        assertThat(nodes).hasSize(30);
        assertThat(res.path("reportIds").size()).as("one stored report per probe").isEqualTo(30);
        // the rank correlation between the KL and the top-1 rankings is the Spearman correlation of the rows the
        // result lists (recomputed here from them); on this net single-layer top-1 drops are within sampling
        // noise (top1NoiseFloor), so its sign is not asserted
        assertThat(res.path("rankCorrelationWithTop1").asDouble()).isCloseTo(spearman(layers), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(res.path("top1NoiseFloor").asDouble()).isBetween(0.0, 0.05);
        // the label-free ranking is consistent with the per-probe output SQNR: the most KL-sensitive probe has a lower SQNR
        assertThat(layers.get(0).path("sqnrDb").asDouble()).isLessThan(layers.get(layers.size() - 1).path("sqnrDb").asDouble());
        assertThat(done.path("artifacts").toString()).contains("sensitivity.svg");
        String svg = new String(api().getBytes("/api/v1/artifacts/" + res.path("chartArtifactId").asString() + "/content"));
        assertThat(svg).startsWith("<svg").contains(layers.get(0).path("node").asString());

        Api.Res top1 = api().postJson("/api/v1/jobs", Map.of("type", "sensitivity", "modelId", model, "calibrationDatasetId", calib,
                "evaluationDatasetId", eval, "config", Map.of("metric", "top1", "granularity", "op_type",
                        "evaluation", Map.of("maxSamples", 500))));
        JsonNode byType = api().awaitJob(top1.json().path("id").asString(), Duration.ofMinutes(5));
        assertThat(byType.path("state").asString()).as(byType.toString()).isEqualTo("succeeded");
        assertThat(byType.path("result").path("layers").toString()).contains("\"Conv\"").contains("\"Gemm\"");
    }

    /** Spearman's rho of score vs top1Drop over the rows, ties sharing their mean rank (textbook definition). */
    private static double spearman(JsonNode rows) {
        int n = rows.size();
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rows.get(i).path("score").asDouble();
            b[i] = rows.get(i).path("top1Drop").asDouble();
        }
        double[] ra = ranks(a);
        double[] rb = ranks(b);
        double ma = java.util.Arrays.stream(ra).average().orElse(0);
        double mb = java.util.Arrays.stream(rb).average().orElse(0);
        double cov = 0;
        double va = 0;
        double vb = 0;
        for (int i = 0; i < n; i++) {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return va == 0 || vb == 0 ? 0 : cov / Math.sqrt(va * vb);
    }

    private static double[] ranks(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int below = 0;
            int equal = 0;
            for (double w : v) {
                below += w < v[i] ? 1 : 0;
                equal += w == v[i] ? 1 : 0;
            }
            r[i] = below + (equal + 1) / 2.0;
        }
        return r;
    }

    @Test
    void top1WithoutLabelsIsRefusedAtSubmission() throws Exception {
        String model = api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        String calib = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of()).json().path("id").asString();
        Api.Res r = api().postJson("/api/v1/jobs", Map.of("type", "sensitivity", "modelId", model, "calibrationDatasetId", calib,
                "config", Map.of("metric", "top1")));
        assertThat(r.status()).as("refused at submission, not after a calibration pass: " + r.body()).isEqualTo(400);
        assertThat(r.detail()).contains("config.metric").contains("needs labels").contains(calib);
    }
}
