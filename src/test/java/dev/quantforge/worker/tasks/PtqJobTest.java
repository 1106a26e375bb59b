package dev.quantforge.worker.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.quantforge.dataset.io.NpyWriter;
import dev.quantforge.quant.pipeline.EnginePtq;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** The ptq job end to end on the real shared models: QDQ INT8 models ONNX Runtime fuses, measured side by side with FP32. */
class PtqJobTest extends ServiceTest {


    private String upload(String path, Path file, Map<String, String> fields) {
        Api.Res r = api().upload(path, file, fields);
        assertThat(r.status()).as(r.body()).isIn(200, 201);
        return r.json().path("id").asString();
    }

    private JsonNode runPtq(Map<String, Object> body) {
        Api.Res r = api().postJson("/api/v1/jobs", body);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        JsonNode done = api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(5));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        return done;
    }

    @Test
    void mnist8QuantizesWithinAThirdOfAPointAndOnnxRuntimeFusesIt(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String model = upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        String calib = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        String eval = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of());
        JsonNode job = runPtq(Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib, "evaluationDatasetId", eval,
                "config", Map.of("calibration", Map.of("maxSamples", 1000), "benchmark", Map.of("iterations", 50))));
        JsonNode r = job.path("result");
        assertThat(r.path("fp32").path("top1").asDouble()).isEqualTo(0.9805);
        assertThat(r.path("quantized").path("top1").asDouble()).isGreaterThanOrEqualTo(0.9805 - 0.003);
        assertThat(r.path("quantized").path("agreement").asDouble()).isGreaterThan(0.99);
        assertThat(r.path("quantized").path("sqnrDb").asDouble()).isGreaterThan(20);
        assertThat(r.path("quantizedNodes").asInt()).isEqualTo(3);
        assertThat(r.path("fusedInt8Kernels").asInt()).isGreaterThanOrEqualTo(3);
        assertThat(r.path("optimizedGraphOps").has("QLinearConv")).isTrue();
        assertThat(r.path("preparation").toString()).contains("opset 8");
        assertThat(r.path("fp32").path("latencyMs").path("p50").asDouble()).isPositive();
        assertThat(r.path("quantized").path("latencyMs").path("p50").asDouble()).isPositive();
        // the job is an adapter: the engine's front door alone gives exactly its numbers on the same data
        var engine = EnginePtq.mnist8(tmp);
        assertThat(r.path("quantized").path("top1").asDouble()).isEqualTo(engine.best().comparison().top1Candidate());
        assertThat(r.path("quantized").path("sqnrDb").asDouble()).isEqualTo(engine.best().comparison().sqnrDb());

        // the report: one row per quantizable node with its calibrator, amax, scale and SQNR
        JsonNode report = api().get("/api/v1/reports/" + r.path("reportId").asString()).json();
        assertThat(report.path("layers").size()).isEqualTo(3);
        JsonNode first = report.path("layers").get(0);
        assertThat(first.path("quantized").asBoolean()).isTrue();
        assertThat(first.path("activationCalibrator").asString()).isEqualTo("mse");
        assertThat(first.path("amax").asDouble()).isPositive();
        assertThat(first.path("weightGranularity").asString()).isEqualTo("per_channel");
        assertThat(report.path("metrics").path("accuracyDrop").isNumber()).isTrue();
        assertThat(report.path("config").path("precision").asString()).isEqualTo("int8");

        // the quantized model is an artifact a user downloads and runs
        String artifact = r.path("quantizedModelArtifactId").asString();
        Api.Res bytes = api().get("/api/v1/artifacts/" + artifact + "/content");
        assertThat(bytes.status()).isEqualTo(200);
        JsonNode uploadedBack = api().postRaw("/api/v1/models?name=mnist8-int8", api().getBytes("/api/v1/artifacts/" + artifact + "/content")).json();
        assertThat(uploadedBack.path("opTypes").has("QuantizeLinear")).as(uploadedBack.toString()).isTrue();

        // a later job reuses the histograms with another calibrator: no new calibration pass
        JsonNode again = runPtq(Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib, "evaluationDatasetId", eval,
                "config", Map.of("activations", Map.of("calibrator", "percentile"),
                        "calibration", Map.of("fromJobId", job.path("id").asString()), "benchmark", Map.of("iterations", 10))));
        assertThat(api().get("/api/v1/jobs/" + again.path("id").asString() + "/logs").body()).contains("reusing the histograms");
        assertThat(again.path("result").path("calibrator").asString()).isEqualTo("percentile");
        assertThat(again.path("result").path("quantized").path("top1").asDouble()).isGreaterThan(0.97);
    }

    @Test
    void aTextTransformerQuantizesDynamicallyByDefaultAndIsScoredAsAnEmbeddingModel() {
        String model = upload("/api/v1/models", dev.quantforge.testsupport.TextModels.tinybert(), Map.of());
        Api.Res text = api().upload("/api/v1/datasets", Map.of("file", Api.FilePart.of(dev.quantforge.testsupport.TextModels.snliSentences()),
                "tokenizer", Api.FilePart.of(dev.quantforge.testsupport.TextModels.tinybertTokenizer())), Map.of("text", "{\"maxLength\":32}"));
        assertThat(text.status()).as(text.body()).isEqualTo(201);
        String sentences = text.json().path("id").asString();

        Api.Res submitted = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "evaluationDatasetId", sentences));
        assertThat(submitted.status()).as("no calibration set needed: " + submitted.body()).isEqualTo(201);
        assertThat(submitted.json().path("config").path("mode").asString()).as("auto resolved at submission").isEqualTo("dynamic");
        JsonNode r = api().awaitJob(submitted.json().path("id").asString(), Duration.ofMinutes(5)).path("result");
        assertThat(r.path("mode").asString()).isEqualTo("dynamic");
        assertThat(r.path("task").asString()).isEqualTo("embedding");
        assertThat(r.path("quantized").has("top1")).as("no labels: no top-1, %s", r).isFalse();
        assertThat(r.path("fp32").has("top1")).isFalse();
        assertThat(r.path("quantized").has("agreement")).isFalse();
        assertThat(r.path("quantized").path("pooledCosine").asDouble()).isGreaterThan(0.98);
        assertThat(r.path("quantized").path("nearestNeighbourAgreement").isNumber()).isTrue();
        assertThat(r.path("quantized").path("outputs")).hasSize(2);
        assertThat(r.has("calibrationSamples")).isFalse();
        assertThat(r.has("histogramsArtifactId")).as("nothing calibrated").isFalse();
        assertThat(r.path("optimizedGraphOps").path("DynamicQuantizeMatMul").asInt() + r.path("optimizedGraphOps").path("MatMulIntegerToFloat").asInt())
                .isGreaterThanOrEqualTo(6);

        JsonNode int4 = runPtq(Map.of("type", "ptq", "modelId", model, "evaluationDatasetId", sentences,
                "config", Map.of("mode", "weight_only", "weights", Map.of("blockSize", 32)))).path("result");
        assertThat(int4.path("mode").asString()).isEqualTo("weight_only");
        assertThat(int4.path("optimizedGraphOps").path("MatMulNBits").asInt()).isGreaterThanOrEqualTo(6);
        JsonNode report = api().get("/api/v1/reports/" + int4.path("reportId").asString()).json();
        assertThat(report.path("config").path("precision").asString()).isEqualTo("int4");
        assertThat(report.path("metrics").path("pooledCosine").asDouble()).isGreaterThan(0.9);

        Api.Res statik = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "evaluationDatasetId", sentences,
                "config", Map.of("mode", "static")));
        assertThat(statik.status()).isEqualTo(400);
        assertThat(statik.detail()).contains("calibrationDatasetId").contains("mode static");
    }

    @Test
    void layersKeptOutOfInt8RunInFp16AndTheReportSaysWhereAndWhy() {
        String model = upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        String calib = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        JsonNode job = runPtq(Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib,
                "config", Map.of("floatPrecision", "fp16", "exclude", Map.of("opTypes", List.of("MatMul")),
                        "calibration", Map.of("maxSamples", 200), "evaluation", Map.of("maxSamples", 200), "benchmark", Map.of("iterations", 10))));
        JsonNode r = job.path("result");
        assertThat(r.path("precision").path("counts").path("int8").asInt()).isPositive();
        assertThat(r.path("precision").path("counts").path("fp16").asInt()).isPositive();
        JsonNode matMul = null;
        for (JsonNode n : r.path("precision").path("nodes")) {
            if (n.path("opType").asString().equals("MatMul")) {
                matMul = n;
            }
        }
        assertThat(matMul).isNotNull();
        assertThat(matMul.path("precision").asString()).isEqualTo("fp16");
        assertThat(matMul.path("reason").asString()).contains("observed |x|");
        assertThat(r.path("quantized").path("agreement").asDouble()).isGreaterThan(0.97);
        JsonNode report = api().get("/api/v1/reports/" + r.path("reportId").asString()).json();
        assertThat(report.path("layers").toString()).contains("\"precision\":\"fp16\"").contains("\"precision\":\"int8\"");
    }

    @Test
    void tribuoCnnOnRawPixelsWithinAThirdOfAPoint() {
        String model = upload("/api/v1/models", SharedData.file("mnist/tribuo-pytorch_cnn_mnist.onnx"), Map.of());
        String calib = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of("preprocessing", "{\"scale\":255}"));
        String eval = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of("preprocessing", "{\"scale\":255}"));
        JsonNode job = runPtq(Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib, "evaluationDatasetId", eval,
                "config", Map.of("calibration", Map.of("maxSamples", 1000), "benchmark", Map.of("iterations", 30, "batchSize", 8))));
        JsonNode r = job.path("result");
        assertThat(r.path("fp32").path("top1").asDouble()).isEqualTo(0.983);
        assertThat(r.path("quantized").path("top1").asDouble()).isGreaterThanOrEqualTo(0.983 - 0.003);
        assertThat(r.path("fusedInt8Kernels").asInt()).isGreaterThanOrEqualTo(3);
    }


    @Test
    void cifarNetWithTheBestCalibratorWithinOneAndAHalfPoints(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String model = upload("/api/v1/models", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), Map.of());
        String calib = api().upload("/api/v1/datasets", "calib-0900-0999.zip", SharedData.cifarZip(900, 1000), Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING))
                .json().path("id").asString();
        String eval = api().upload("/api/v1/datasets", "eval-0000-0199.zip", SharedData.cifarZip(0, 200), Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING))
                .json().path("id").asString();
        JsonNode job = runPtq(Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib, "evaluationDatasetId", eval,
                "config", Map.of("calibration", Map.of("maxSamples", 1000, "compareCalibrators", true),
                        "benchmark", Map.of("iterations", 30, "batchSize", 8))));
        JsonNode r = job.path("result");
        double fp32 = r.path("fp32").path("top1").asDouble();
        assertThat(fp32).isBetween(0.77, 0.81);
        assertThat(r.path("quantized").path("top1").asDouble()).isGreaterThanOrEqualTo(fp32 - 0.015);
        assertThat(r.path("preparation").toString()).contains("folded 26 BatchNormalization");
        assertThat(r.path("quantizedNodes").asInt()).isGreaterThanOrEqualTo(27);
        assertThat(r.path("optimizedGraphOps").has("QLinearConv")).isTrue();
        // every calibrator's result, so users can compare
        assertThat(r.path("calibrators").size()).isEqualTo(5);
        assertThat(r.path("calibrators").toString()).contains("\"max\"").contains("\"percentile\"").contains("\"entropy\"").contains("\"mse\"");
        assertThat(job.path("reportIds").size()).as("FP32 + one per calibrator").isEqualTo(6);
        var engine = EnginePtq.cifar(tmp);
        assertThat(r.path("calibrator").asString()).isEqualTo(engine.best().method().apiName());
        assertThat(r.path("quantized").path("top1").asDouble()).isEqualTo(engine.best().comparison().top1Candidate());
        assertThat(fp32).isEqualTo(engine.best().comparison().top1Reference());
    }

    @Test
    void aRunningPtqJobShowsItsPhasesAndStopsWhenCancelled() {
        String model = upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        String calib = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        Api.Res r = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib,
                "config", Map.of("benchmark", Map.of("iterations", 1_000_000))));
        String id = r.json().path("id").asString();
        api().await("/api/v1/jobs/" + id, j -> j.path("progress").path("phase").asString().equals("benchmark"), Duration.ofMinutes(2));
        assertThat(api().postJson("/api/v1/jobs/" + id + "/cancel", Map.of()).status()).isEqualTo(200);
        JsonNode done = api().awaitJob(id, Duration.ofSeconds(30));
        assertThat(done.path("state").asString()).isEqualTo("cancelled");
        String log = api().get("/api/v1/jobs/" + id + "/logs").body();
        assertThat(log).contains("calibration: one pass").contains("mse calibrator");
    }

    @Test
    void modelWithoutQuantizableOpsIsRefusedAtSubmission() {
        String skl = upload("/api/v1/models", SharedData.file("mnist/tribuo-skl_lr_mnist.onnx"), Map.of());
        String calib = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        Api.Res r = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", skl, "calibrationDatasetId", calib));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.detail()).contains("no quantizable nodes");
    }

    @Test
    void calibrationDataThatDoesNotFitIsRefusedAtSubmission() throws Exception {
        String cifar = upload("/api/v1/models", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), Map.of());
        String mnist = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        Api.Res r = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", cifar, "calibrationDatasetId", mnist));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().path("errors").get(0).path("field").asString()).isEqualTo("calibrationDatasetId");
        Api.Res badCfg = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", cifar, "calibrationDatasetId", mnist,
                "config", Map.of("activations", Map.of("calibrator", "magic"))));
        assertThat(badCfg.status()).isEqualTo(400);
        assertThat(badCfg.json().path("errors").get(0).path("field").asString()).isEqualTo("config.activations.calibrator");
    }

    @Test
    void nanInTheCalibrationDataFailsNamingTheTensor(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String model = upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        float[] pixels = new float[4 * 28 * 28];
        pixels[2 * 784 + 100] = Float.NaN;
        Path npz = NpyWriter.zip(tmp.resolve("nan.npz"),
                Map.of("Input3.npy", NpyWriter.npy("<f4", new long[]{4, 1, 28, 28}, NpyWriter.floats(ByteOrder.LITTLE_ENDIAN, pixels))), false);
        String calib = upload("/api/v1/datasets", npz, Map.of());
        Api.Res r = api().postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib));
        JsonNode done = api().awaitJob(r.json().path("id").asString(), Duration.ofMinutes(2));
        assertThat(done.path("state").asString()).isEqualTo("failed");
        assertThat(done.path("error").path("message").asString()).contains("NaN").contains("Input3");
        assertThat(done.path("attempts").asInt()).as("bad data is not retried").isEqualTo(1);
    }
}
