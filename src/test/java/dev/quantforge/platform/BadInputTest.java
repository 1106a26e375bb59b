package dev.quantforge.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.dataset.io.NpyWriter;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.RawHttp;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * Bad input of every kind the service has been attacked with, plus seeded random mutations of a valid
 * submission: no answer is ever a 5xx, every 4xx is problem+json whose detail names the problem, the
 * service stays healthy, and the temp area is left empty.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class BadInputTest extends ServiceTest {

    private static final long SEED = 20260515L;

    private String model;
    private String evalSet;
    private final List<String> seen = new ArrayList<>();

    @BeforeAll
    void inputs() {
        model = api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        evalSet = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of()).json().path("id").asString();
    }

    /** Every answer: never 5xx; a 4xx is problem+json with a detail containing each of {@code detailNames}. */
    private Api.Res check(String what, Api.Res r, String... detailNames) {
        seen.add(what + " → " + r.status());
        assertThat(r.status()).as(what + ": " + r.body()).isLessThan(500);
        if (r.status() >= 400) {
            assertThat(r.contentType()).as(what).startsWith("application/problem+json");
            assertThat(r.detail()).as(what).isNotBlank();
            for (String name : detailNames) {
                assertThat(r.detail()).as(what).containsIgnoringCase(name);
            }
            assertThat(r.detail()).as(what + ": no server path").doesNotContain(DATA_DIR.toString()).doesNotContain(".part");
        }
        return r;
    }

    private Api.Res refused(String what, Api.Res r, int status, String... detailNames) {
        check(what, r, detailNames);
        assertThat(r.status()).as(what + ": " + r.body()).isEqualTo(status);
        return r;
    }

    private RawHttp.Response raw(String what, int status, String detailName, String method, String target, String... headers) {
        RawHttp.Response r = RawHttp.send(port, method, target, headers);
        seen.add(what + " → " + r.status());
        assertThat(r.status()).as(what + ": " + r.body()).isEqualTo(status);
        assertThat(r.contentType()).as(what).startsWith("application/problem+json");
        JsonNode body = Api.JSON.readTree(r.body());
        assertThat(body.path("detail").asString()).as(what).containsIgnoringCase(detailName);
        return r;
    }

    private Map<String, Object> benchmark(Object iterations) {
        Map<String, Object> bench = new LinkedHashMap<>();
        bench.put("iterations", iterations);
        return Map.of("type", "benchmark", "modelId", model, "config", Map.of("benchmark", bench));
    }

    @Test
    void integersBeyond64BitsAreRangeErrorsNamingTheField() {
        for (String big : List.of("9223372036854775808", "-9223372036854775809", "1e30", "18446744073709551616000")) {
            String body = "{\"type\":\"benchmark\",\"modelId\":\"" + model + "\",\"config\":{\"benchmark\":{\"iterations\":" + big + "}}}";
            refused("iterations " + big, api().postJson("/api/v1/jobs", body), 400, "config.benchmark.iterations", "between 1 and");
            refused("priority " + big, api().postJson("/api/v1/jobs", "{\"type\":\"benchmark\",\"modelId\":\"" + model
                    + "\",\"priority\":" + big + "}"), 400, "priority", "between -1000 and 1000");
            refused("evaluation.maxSamples " + big, api().postJson("/api/v1/jobs", "{\"type\":\"evaluate\",\"modelId\":\"" + model
                    + "\",\"evaluationDatasetId\":\"" + evalSet + "\",\"config\":{\"evaluation\":{\"maxSamples\":" + big + "}}}"),
                    400, "config.evaluation.maxSamples");
        }
        refused("page beyond int", api().get("/api/v1/jobs?page=99999999999999999999"), 400, "page", "integer");
        refused("logs after beyond long", api().get("/api/v1/jobs/" + UUID.randomUUID() + "/logs?after=1e30"), 400, "after");
    }

    @Test
    void nulCharactersAreRefusedWhereTheyMeanSomethingAndStrippedFromLabels() throws Exception {
        Api.Res named = check("model name with NUL", api().upload("/api/v1/models", "mnist-8.onnx",
                Files.readAllBytes(SharedData.file("mnist/mnist-7.onnx")), Map.of("name", "mnist\u0000seven")));
        assertThat(named.status()).isIn(200, 201);
        assertThat(named.json().path("name").asString()).doesNotContain("\u0000");
        Api.Res ds = check("dataset name with NUL", api().upload("/api/v1/datasets", "d.npz",
                Files.readAllBytes(SharedData.file("mnist/mnist8-calib.npz")), Map.of("name", "calib\u0000set")));
        assertThat(ds.status()).isIn(200, 201);
        Map<String, Object> exclude = Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", ds.json().path("id").asString(),
                "config", Map.of("exclude", Map.of("nodes", List.of("Conv\u0000_1"))));
        refused("exclude.nodes with NUL", api().postJson("/api/v1/jobs", exclude), 400, "config.exclude.nodes[0]", "NUL");
        refused("capability key with NUL", api().postJson("/api/v1/workers",
                Map.of("name", "w", "capabilities", Map.of("cu\u0000da", true))), 400, "capabilities", "NUL");
        Api.Res worker = check("worker name with NUL", api().postJson("/api/v1/workers",
                Map.of("name", "nul\u0000worker", "capabilities", Map.of("cpu", true))));
        assertThat(worker.status()).isEqualTo(201);
        assertThat(worker.json().path("name").asString()).isEqualTo("nulworker");
        refused("type filter with NUL", api().get("/api/v1/jobs?type=%00"), 400, "type");
        // (no HTTP client sends a control character in a header; a raw socket does)
        raw("Idempotency-Key with a control character", 400, "header line is malformed", "POST", "/api/v1/jobs", "Idempotency-Key: k\u007f1");
    }

    @Test
    void retryOfAJobWhoseInputWasDeletedIsAConflictNamingTheInput(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        float[] pixels = new float[3 * 784];
        Path npz = NpyWriter.zip(tmp.resolve("three.npz"), Map.of("Input3.npy",
                NpyWriter.npy("<f4", new long[]{3, 1, 28, 28}, NpyWriter.floats(ByteOrder.LITTLE_ENDIAN, pixels))), false);
        String data = api().upload("/api/v1/datasets", npz, Map.of()).json().path("id").asString();
        Api.Res job = api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model, "calibrationDatasetId", data,
                "config", Map.of("benchmark", Map.of("iterations", 1_000_000))));
        String id = job.json().path("id").asString();
        api().postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
        api().awaitJob(id, Duration.ofSeconds(30));
        assertThat(api().delete("/api/v1/datasets/" + data).status()).isEqualTo(204);
        JsonNode after = api().get("/api/v1/jobs/" + id).json();
        assertThat(after.path("calibrationDatasetId").asString()).as("provenance kept").isEqualTo(data);
        assertThat(after.path("deletedInputs").toString()).contains("calibrationDatasetId");
        refused("retry with a deleted input", api().postJson("/api/v1/jobs/" + id + "/retry", Map.of()), 409,
                "calibration dataset " + data, "deleted");
        refused("a deleted dataset", api().get("/api/v1/datasets/" + data), 404, "was deleted");
        refused("submission with a deleted dataset", api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model,
                "calibrationDatasetId", data)), 404, "was deleted");
    }

    @Test
    void checksThatBelongAtSubmissionAreMadeThere(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        float[] pixels = new float[3 * 784];
        Path unlabelled = NpyWriter.zip(tmp.resolve("unlabelled.npz"), Map.of("Input3.npy",
                NpyWriter.npy("<f4", new long[]{3, 1, 28, 28}, NpyWriter.floats(ByteOrder.LITTLE_ENDIAN, pixels))), false);
        String noLabels = api().upload("/api/v1/datasets", unlabelled, Map.of()).json().path("id").asString();
        Map<String, Object> ptq = Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", evalSet);
        refused("fromJobId of no job", api().postJson("/api/v1/jobs", with(ptq, Map.of("calibration", Map.of("fromJobId",
                UUID.randomUUID().toString())))), 400, "config.calibration.fromJobId", "there is no job");
        String bench = api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model)).json().path("id").asString();
        refused("fromJobId of a benchmark job", api().postJson("/api/v1/jobs", with(ptq, Map.of("calibration", Map.of("fromJobId", bench)))),
                400, "is a benchmark job", "ptq job");
        String other = api().upload("/api/v1/models", SharedData.file("mnist/mnist-7.onnx"), Map.of()).json().path("id").asString();
        String otherBench = api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", other)).json().path("id").asString();
        refused("fromJobId of another model's job", api().postJson("/api/v1/jobs", with(ptq, Map.of("calibration",
                Map.of("fromJobId", otherBench)))), 400, "another model");
        refused("qat fromJobId of no job", api().postJson("/api/v1/jobs", Map.of("type", "qat", "modelId", model,
                "trainingDatasetId", evalSet, "config", Map.of("fromJobId", UUID.randomUUID().toString()))), 400, "config.fromJobId", "no job");
        refused("metric top1 on an unlabelled set", api().postJson("/api/v1/jobs", Map.of("type", "sensitivity", "modelId", model,
                "calibrationDatasetId", noLabels, "config", Map.of("metric", "top1"))), 400, "config.metric", "needs labels", noLabels);
        refused("benchmark batch 8 on a fixed-batch model", api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model,
                "config", Map.of("benchmark", Map.of("batchSize", 8)))), 400, "config.benchmark.batchSize", "fixed batch of 1", "batchSize 1");
        refused("ptq benchmark batch 8 on a fixed-batch model", api().postJson("/api/v1/jobs", with(ptq, Map.of("benchmark",
                Map.of("batchSize", 8)))), 400, "fixed batch of 1");
        refused("fp16 without a calibration pass", api().postJson("/api/v1/jobs", with(ptq, Map.of("mode", "dynamic",
                "floatPrecision", "fp16"))), 400, "config.floatPrecision", "fp16 needs mode static");
        refused("fp16 in an override of a dynamic job", api().postJson("/api/v1/jobs", with(ptq, Map.of("mode", "dynamic",
                "overrides", List.of(Map.of("nodes", List.of("*"), "floatPrecision", "fp16"))))), 400, "config.overrides[0].floatPrecision");
        refused("fp16 in qat", api().postJson("/api/v1/jobs", Map.of("type", "qat", "modelId", model, "trainingDatasetId", evalSet,
                "config", Map.of("floatPrecision", "fp16"))), 400, "config.floatPrecision", "ptq job with floatPrecision fp16");
        refused("unknown float precision", api().postJson("/api/v1/jobs", with(ptq, Map.of("floatPrecision", "bf16"))), 400,
                "config.floatPrecision");
        api().postJson("/api/v1/jobs/" + bench + "/cancel", Map.of());
        api().postJson("/api/v1/jobs/" + otherBench + "/cancel", Map.of());
    }

    @Test
    void exclusionsAndOverridesThatMatchNothingAreRefused() {
        Map<String, Object> ptq = Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", evalSet);
        refused("invalid regex", api().postJson("/api/v1/jobs", with(ptq, Map.of("exclude", Map.of("patterns", List.of("((("))))),
                400, "config.exclude.patterns", "not a valid regular expression", "(((");
        refused("invalid override regex", api().postJson("/api/v1/jobs", with(ptq, Map.of("overrides", List.of(Map.of("nodes",
                List.of("[unclosed"), "activations", Map.of("calibrator", "max")))))), 400, "config.overrides[0].nodes", "[unclosed");
        refused("unknown node", api().postJson("/api/v1/jobs", with(ptq, Map.of("exclude", Map.of("nodes", List.of("NoSuchNode"))))),
                400, "config.exclude.nodes", "no node named 'NoSuchNode'");
        refused("pattern matching nothing", api().postJson("/api/v1/jobs", with(ptq, Map.of("exclude", Map.of("patterns",
                List.of("encoder\\..*"))))), 400, "matches no node");
        refused("glob matching nothing", api().postJson("/api/v1/jobs", with(ptq, Map.of("exclude", Map.of("patterns",
                List.of("*attention*"))))), 400, "matches no node");
        refused("op type not in the model", api().postJson("/api/v1/jobs", with(ptq, Map.of("exclude", Map.of("opTypes",
                List.of("LSTM"))))), 400, "config.exclude.opTypes", "no LSTM node");
        String conv = api().get("/api/v1/models/" + model).json().path("quantizableNodes").path(0).path("name").asString();
        Api.Res ok = check("a real node and a glob that matches", api().postJson("/api/v1/jobs", with(ptq, Map.of("exclude",
                Map.of("nodes", List.of(conv), "patterns", List.of("*" + conv.substring(1)))))));
        assertThat(ok.status()).as(ok.body()).isEqualTo(201);
        api().postJson("/api/v1/jobs/" + ok.json().path("id").asString() + "/cancel", Map.of());
    }

    private static Map<String, Object> with(Map<String, Object> submission, Map<String, Object> config) {
        Map<String, Object> m = new LinkedHashMap<>(submission);
        m.put("config", config);
        return m;
    }

    @Test
    void anImageFolderWithAnEmptyClassFolderIsRefusedNamingIt() throws Exception {
        byte[] jpeg = Files.readAllBytes(SharedData.file("cifar10-mlperftiny-ic/test-jpeg/cat/0001.jpg"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (String name : List.of("airplane/0001.jpg", "bird/", "cat/0001.jpg", "deer/notes.txt")) {
                zip.putNextEntry(new ZipEntry(name));
                zip.write(name.endsWith("/") ? new byte[0] : name.endsWith(".txt") ? "no image here".getBytes() : jpeg);
                zip.closeEntry();
            }
        }
        refused("empty class folders", api().upload("/api/v1/datasets", "shifted.zip", bytes.toByteArray(),
                Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING)), 400, "'bird/'", "'deer/'", "no images");
    }

    @Test
    void evaluateRefusesLabelsOutsideTheModelsClassesAndNonFiniteInputs(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        float[] pixels = new float[4 * 784];
        Path bigLabels = NpyWriter.zip(tmp.resolve("labels.npz"), Map.of(
                "Input3.npy", NpyWriter.npy("<f4", new long[]{4, 1, 28, 28}, NpyWriter.floats(ByteOrder.LITTLE_ENDIAN, pixels)),
                "labels.npy", NpyWriter.npy("<i8", new long[]{4}, NpyWriter.longs(ByteOrder.LITTLE_ENDIAN, 1, 2, 1_000_000_000_000_000L, 3))),
                false);
        pixels[2 * 784 + 7] = Float.NaN;
        Path nan = NpyWriter.zip(tmp.resolve("nan.npz"), Map.of(
                "Input3.npy", NpyWriter.npy("<f4", new long[]{4, 1, 28, 28}, NpyWriter.floats(ByteOrder.LITTLE_ENDIAN, pixels)),
                "labels.npy", NpyWriter.npy("<i8", new long[]{4}, NpyWriter.longs(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4))), false);
        for (Object[] c : new Object[][]{{bigLabels, "label 1000000000000000"}, {nan, "NaN"}}) {
            String data = api().upload("/api/v1/datasets", (Path) c[0], Map.of()).json().path("id").asString();
            Api.Res r = check("evaluate " + c[1], api().postJson("/api/v1/jobs",
                    Map.of("type", "evaluate", "modelId", model, "evaluationDatasetId", data)));
            JsonNode done = api().awaitJob(r.json().path("id").asString(), Duration.ofSeconds(60));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
            assertThat(done.path("error").path("code").asString()).isEqualTo("invalid_input");
            assertThat(done.path("error").path("message").asString()).contains((String) c[1]).contains("sample 2");
            assertThat(done.path("attempts").asInt()).isEqualTo(1);
        }
    }

    @Test
    void malformedRequestsTheContainerRefusesAreProblemsToo() {
        raw("20,000-character Idempotency-Key", 400, "Idempotency-Key: must be 1 to 200", "POST", "/api/v1/jobs",
                "Idempotency-Key: " + "k".repeat(20_000));
        raw("60,000-character header", 431, "headers are too large", "GET", "/api/v1/models", "X-Note: " + "n".repeat(60_000));
        raw("control character in a header", 400, "header line is malformed", "GET", "/api/v1/models", "X-Note: a\u0001b");
        raw("header without a colon", 400, "header line is malformed", "GET", "/api/v1/models", "NoColonHere");
        raw("encoded traversal", 400, "path", "GET", "/api/v1/artifacts/..%2F..%2Fetc%2Fpasswd/content");
        raw("encoded NUL", 400, "path", "GET", "/api/v1/models/%00");
        raw("over-long path", 414, "too long", "GET", "/api/v1/models/" + "a".repeat(40_000));
        raw("over-long query", 414, "too long", "GET", "/api/v1/models?page=0&x=" + "q".repeat(100_000));
        raw("long but acceptable query", 400, "page", "GET", "/api/v1/models?page=-1&x=" + "q".repeat(10_000));
    }

    @Test
    void answersAreConsistent() throws Exception {
        refused("unknown type filter", api().get("/api/v1/jobs?type=bogus"), 400, "type", "benchmark");
        refused("reports of an unknown model", api().get("/api/v1/models/" + UUID.randomUUID() + "/reports"), 404, "model");
        refused("reports of an unknown job", api().get("/api/v1/jobs/" + UUID.randomUUID() + "/reports"), 404, "job");
        byte[] onnx = Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
        String boundary = "b" + UUID.randomUUID().toString().replace("-", "");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int i = 0; i < 2; i++) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m" + i
                    + ".onnx\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.write(onnx);
            body.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        refused("two file parts", api().send(HttpRequest.newBuilder(api().uri("/api/v1/models"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))), 400, "file", "2 times");
        String key = "reuse-" + UUID.randomUUID();
        Api.Res first = check("first use of a key", api().postJson("/api/v1/jobs", benchmark(5), "Idempotency-Key", key));
        assertThat(first.status()).isEqualTo(201);
        Api.Res same = check("same key, same body", api().postJson("/api/v1/jobs", benchmark(5), "Idempotency-Key", key));
        assertThat(same.status()).isEqualTo(200);
        assertThat(same.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        refused("same key, another body", api().postJson("/api/v1/jobs", benchmark(6), "Idempotency-Key", key), 422,
                key, first.json().path("id").asString(), "different request");
    }

    @Test
    void detailsDoNotLeakServerPathsAndDownloadNamesAreSafe() throws Exception {
        byte[] onnx = Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
        // parses as ONNX, fails in ONNX Runtime, whose message names the file it loaded
        ai.onnx.proto.OnnxMl.ModelProto.Builder unknownOp = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(onnx).toBuilder();
        unknownOp.getGraphBuilder().getNodeBuilder(0).setOpType("NoSuchOp");
        for (byte[] bad : List.of(unknownOp.build().toByteArray(), java.util.Arrays.copyOf(onnx, 100), "not onnx".getBytes())) {
            Api.Res r = refused("broken model", api().upload("/api/v1/models", "broken.onnx", bad, Map.of()), 400);
            assertThat(r.detail()).doesNotContain("/tmp/").doesNotContain("upload-");
        }
        int variant = 0;
        for (String[] c : new String[][]{{"../../../etc/passwd", "filename=\"passwd.onnx\""},
                {"модель ü", "filename*=UTF-8''%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C%20%C3%BC.onnx"}}) {
            // an unknown protobuf field makes new bytes (a new model) that load the same
            ByteArrayOutputStream unique = new ByteArrayOutputStream();
            unique.write(onnx);
            unique.write(new byte[]{(byte) 0xC0, 0x3E, (byte) (1 + variant++)});
            unique.write(UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII), 0, 0);
            Api.Res up = api().upload("/api/v1/models", "m.onnx", unique.toByteArray(), Map.of("name", c[0]));
            assertThat(up.status()).as(up.body()).isIn(200, 201);
            var resp = api().client().send(HttpRequest.newBuilder(api().uri("/api/v1/models/" + up.json().path("id").asString()
                    + "/content")).GET().build(), java.net.http.HttpResponse.BodyHandlers.discarding());
            String disposition = resp.headers().firstValue("Content-Disposition").orElse("");
            assertThat(disposition).as("a download always names its file").startsWith("attachment; filename=\"").contains(c[1]);
            assertThat(disposition).doesNotContain("/").doesNotContain("..");
        }
    }

    @Test
    void existingGuardsHold() throws Exception {
        byte[] npz = Files.readAllBytes(SharedData.file("mnist/mnist8-eval.npz"));
        refused("truncated npz", api().upload("/api/v1/datasets", "cut.npz", java.util.Arrays.copyOf(npz, npz.length / 3),
                Map.of("format", "npz")), 400);
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bomb)) {
            zip.putNextEntry(new ZipEntry("x.npy"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }
        refused("zip bomb", api().upload("/api/v1/datasets", "bomb.npz", bomb.toByteArray(), Map.of("format", "npz")), 400, "compress");
        ByteArrayOutputStream slip = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(slip)) {
            zip.putNextEntry(new ZipEntry("../evil.npy"));
            zip.write(new byte[]{1});
            zip.closeEntry();
        }
        refused("zip slip", api().upload("/api/v1/datasets", "slip.zip", slip.toByteArray(), Map.of()), 400, "../evil.npy");
        refused("not a UUID", api().get("/api/v1/models/not-a-uuid"), 400, "UUID");
        refused("malformed JSON", api().postJson("/api/v1/jobs", "{\"type\":"), 400, "JSON");
        refused("unknown field", api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model, "colour", "red")),
                400, "colour");
        refused("empty upload", api().upload("/api/v1/models", "empty.onnx", new byte[0], Map.of()), 400, "empty");
    }

    @Test
    void seededMutationsOfAValidSubmissionNeverFailTheService() {
        Random random = new Random(SEED);
        JsonNodeFactory f = JsonNodeFactory.instance;
        List<JsonNode> junk = List.of(f.numberNode(new java.math.BigInteger("123456789012345678901234567890")), f.numberNode(1e300),
                f.numberNode(-1), f.numberNode(0.5), f.stringNode("\u0000"), f.stringNode("x".repeat(10_000)), f.stringNode("ü\uD83D\uDE00"),
                f.booleanNode(true), f.nullNode(), f.arrayNode().add(f.arrayNode()), f.objectNode().put("a", "b"), f.stringNode(""));
        for (int i = 0; i < 60; i++) {
            ObjectNode body = f.objectNode();
            body.put("type", "ptq");
            body.put("modelId", model);
            body.put("calibrationDatasetId", evalSet);
            ObjectNode config = body.putObject("config");
            config.putObject("activations").put("calibrator", "max").put("bins", 128);
            config.putObject("calibration").put("maxSamples", 16);
            config.putObject("exclude").putArray("nodes");
            config.putObject("benchmark").put("iterations", 5);
            body.put("priority", 0);
            mutate(body, random, junk);
            Api.Res r = check("mutation " + i + " " + body.toString().substring(0, Math.min(200, body.toString().length())),
                    api().postJson("/api/v1/jobs", body.toString()));
            if (r.status() == 201) {
                api().postJson("/api/v1/jobs/" + r.json().path("id").asString() + "/cancel", Map.of());
            }
        }
    }

    /** Replaces one or two random leaves (or whole sections) of the tree with junk, or adds a key. */
    private static void mutate(ObjectNode root, Random random, List<JsonNode> junk) {
        for (int n = 0; n < 1 + random.nextInt(2); n++) {
            ObjectNode node = root;
            while (true) {
                List<String> keys = new ArrayList<>(node.propertyNames());
                String key = keys.get(random.nextInt(keys.size()));
                JsonNode child = node.get(key);
                if (child instanceof ObjectNode o && !o.isEmpty() && random.nextBoolean()) {
                    node = o;
                    continue;
                }
                if (random.nextInt(5) == 0) {
                    node.set("k" + random.nextInt(3), junk.get(random.nextInt(junk.size())));
                } else if (child instanceof ArrayNode a && random.nextBoolean()) {
                    a.add(junk.get(random.nextInt(junk.size())));
                } else {
                    node.set(key, junk.get(random.nextInt(junk.size())));
                }
                break;
            }
        }
    }

    @AfterAll
    void serviceIsHealthyAndTheTempAreaIsEmpty() throws IOException {
        assertThat(api().get("/actuator/health").json().path("status").asString()).isEqualTo("UP");
        // jobs cancelled above may still be stopping: their work folders go with them
        api().await("/api/v1/jobs?state=running", j -> j.path("total").asLong() == 0, Duration.ofSeconds(30));
        try (Stream<Path> files = Files.walk(DATA_DIR.resolve("tmp"))) {
            assertThat(files.filter(Files::isRegularFile).toList()).as("files left in the temp area").isEmpty();
        }
        assertThat(seen).hasSizeGreaterThan(80);
    }
}
