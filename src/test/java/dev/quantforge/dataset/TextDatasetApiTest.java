package dev.quantforge.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobRepository;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.BertVariants;
import dev.quantforge.testsupport.RefusedUpload;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.TextModels;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.RemoteWorkerAgent;

/**
 * Text datasets over the API: sentences and a tokenizer.json in, the Dataset JSON says what a job will read, real
 * encoders (e5-small-v2, tinybert and its 2-input and renamed-input variants) run benchmark jobs on them, in-process
 * and on a remote worker; every bad upload is a 400 naming the problem, with nothing stored.
 */
class TextDatasetApiTest extends ServiceTest {

    @Autowired
    JobRepository jobs;

    @TempDir
    Path dir;

    private static Api.FilePart part(Path file) {
        return Api.FilePart.of(file);
    }

    private Api.Res uploadText(Path text, Path tokenizer, Map<String, String> fields) {
        return api().upload("/api/v1/datasets", Map.of("file", part(text), "tokenizer", part(tokenizer)), fields);
    }

    private String uploadModel(Path onnx) {
        Api.Res r = api().upload("/api/v1/models", onnx, Map.of());
        assertThat(r.status()).as(r.body()).isIn(200, 201);
        return r.json().path("id").asString();
    }

    private JsonNode benchmark(String model, String dataset, int batchSize) {
        Api.Res job = api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model, "evaluationDatasetId", dataset,
                "config", Map.of("benchmark", Map.of("iterations", 3, "warmup", 1, "batchSize", batchSize))));
        assertThat(job.status()).as(job.body()).isEqualTo(201);
        return api().awaitJob(job.json().path("id").asString(), Duration.ofMinutes(3));
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void e5SmallV2BenchmarksOnTheSnliSentences() throws Exception {
        Path sentences = TextModels.snliSentences();
        Api.Res up = uploadText(sentences, TextModels.e5Tokenizer(), Map.of("name", "snli", "text", "{\"maxLength\":128}"));
        assertThat(up.status()).as(up.body()).isIn(200, 201);
        JsonNode d = up.json();
        assertThat(d.path("format").asString()).isEqualTo("text");
        assertThat(d.path("sampleCount").asLong()).isEqualTo(330);
        assertThat(d.path("hasLabels").asBoolean()).isFalse();
        assertThat(d.path("sha256").asString()).isEqualTo(sha256(sentences));
        assertThat(d.path("tensors").toString()).isEqualTo("[{\"name\":\"input_ids\",\"elementType\":\"int64\",\"shape\":[330,128]},"
                + "{\"name\":\"attention_mask\",\"elementType\":\"int64\",\"shape\":[330,128]},"
                + "{\"name\":\"token_type_ids\",\"elementType\":\"int64\",\"shape\":[330,128]}]");
        JsonNode text = d.path("text");
        assertThat(text.path("maxLength").asInt()).isEqualTo(128);
        assertThat(text.path("layout").asString()).isEqualTo("txt");
        assertThat(text.path("pairs").asBoolean()).isFalse();
        assertThat(text.path("truncatedSentences").asLong()).isZero();
        assertThat(text.path("padTokenId").asLong()).isZero();
        assertThat(text.path("tokenizerSha256").asString()).isEqualTo(sha256(TextModels.e5Tokenizer()));
        assertThat(text.path("tokenizerSizeBytes").asLong()).isEqualTo(Files.size(TextModels.e5Tokenizer()));
        assertThat(text.path("tokenizerLibrary").asString()).isEqualTo("0.21.0-0.36.0");
        assertThat(text.path("inputNames").path("token_type_ids").asString()).isEqualTo("token_type_ids");
        assertThat(d.path("preprocessing").isNull()).isTrue();
        String id = d.path("id").asString();
        // what the user sent stays retrievable
        assertThat(api().getBytes("/api/v1/datasets/" + id + "/content")).isEqualTo(Files.readAllBytes(sentences));
        assertThat(api().getBytes("/api/v1/datasets/" + id + "/tokenizer")).isEqualTo(Files.readAllBytes(TextModels.e5Tokenizer()));
        assertThat(api().get("/api/v1/datasets/" + id).json().path("text")).isEqualTo(text);
        // the same sentences read the same way are the same dataset; another maxLength is another one
        Api.Res again = uploadText(sentences, TextModels.e5Tokenizer(), Map.of("text", "{\"maxLength\":128}"));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("id").asString()).isEqualTo(id);
        Api.Res short16 = uploadText(sentences, TextModels.e5Tokenizer(), Map.of("text", "{\"maxLength\":16}"));
        assertThat(short16.status()).as(short16.body()).isEqualTo(201);
        assertThat(short16.json().path("text").path("truncatedSentences").asLong()).isPositive();
        assertThat(short16.json().path("tensors").get(0).path("shape").toString()).isEqualTo("[330,16]");

        String model = uploadModel(TextModels.e5Model());
        JsonNode done = benchmark(model, id, 8);
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("result").path("batchSize").asInt()).isEqualTo(8);
        assertThat(done.path("result").path("latencyMs").path("p50").asDouble()).isPositive();
        assertThat(api().get("/api/v1/jobs/" + done.path("id").asString() + "/logs").body()).contains("input from snli");
        // the int8 peer has the same inputs and takes the same dataset
        JsonNode peer = benchmark(uploadModel(TextModels.e5QuantizedModel()), id, 1);
        assertThat(peer.path("state").asString()).as(peer.toString()).isEqualTo("succeeded");
    }

    @Test
    void tinybertWithPairsLabelsAndOtherInputSignatures() {
        Api.Res up = uploadText(TextModels.snliPairs(), TextModels.tinybertTokenizer(), Map.of("text", "{\"maxLength\":64}"));
        assertThat(up.status()).as(up.body()).isIn(200, 201);
        JsonNode d = up.json();
        assertThat(d.path("sampleCount").asLong()).isEqualTo(8);
        assertThat(d.path("hasLabels").asBoolean()).isTrue();
        assertThat(d.path("text").path("layout").asString()).isEqualTo("jsonl");
        assertThat(d.path("text").path("pairs").asBoolean()).isTrue();
        assertThat(d.path("text").path("padTokenId").asLong()).isEqualTo(2);
        String pairs = d.path("id").asString();

        JsonNode full = benchmark(uploadModel(TextModels.tinybert()), pairs, 4);
        assertThat(full.path("state").asString()).as(full.toString()).isEqualTo("succeeded");
        String twoInputs = uploadModel(BertVariants.withoutTokenTypeIds(TextModels.tinybert(), dir.resolve("tinybert-2-inputs.onnx")));
        assertThat(api().get("/api/v1/models/" + twoInputs).json().path("inputs").size()).isEqualTo(2);
        JsonNode two = benchmark(twoInputs, pairs, 4);
        assertThat(two.path("state").asString()).as(two.toString()).isEqualTo("succeeded");

        // Google-BERT names: without inputNames the submission names what is missing; with them it runs
        String renamed = uploadModel(BertVariants.withRenamedInputs(TextModels.tinybert(),
                Map.of("attention_mask", "input_mask", "token_type_ids", "segment_ids"), dir.resolve("tinybert-renamed.onnx")));
        Api.Res refused = api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", renamed, "evaluationDatasetId", pairs));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.detail()).contains("no tensor for model inputs 'input_mask', 'segment_ids'").contains("text option inputNames");
        Api.Res mapped = uploadText(TextModels.snliPairs(), TextModels.tinybertTokenizer(), Map.of("text",
                "{\"maxLength\":64,\"inputNames\":{\"attention_mask\":\"input_mask\",\"token_type_ids\":\"segment_ids\"}}"));
        assertThat(mapped.status()).as(mapped.body()).isEqualTo(201);
        assertThat(mapped.json().path("tensors").get(2).path("name").asString()).isEqualTo("segment_ids");
        JsonNode ok = benchmark(renamed, mapped.json().path("id").asString(), 2);
        assertThat(ok.path("state").asString()).as(ok.toString()).isEqualTo("succeeded");
    }

    @Test
    void aRemoteWorkerDownloadsTheTokenizerAndReadsTheText() throws Exception {
        Api.Res up = uploadText(TextModels.snliSentences(), TextModels.tinybertTokenizer(), Map.of("text", "{\"maxLength\":32}"));
        assertThat(up.status()).as(up.body()).isIn(200, 201);
        String model = uploadModel(TextModels.tinybert());
        String pool = "text-remote-" + UUID.randomUUID();
        UUID id = UUID.randomUUID();
        jobs.insert(new JobRepository.NewJob(id, "benchmark", UUID.fromString(model), null, UUID.fromString(up.json().path("id").asString()),
                null, "{\"benchmark\":{\"iterations\":3,\"warmup\":1,\"batchSize\":16,\"threads\":1}}", 0, List.of("onnxruntime", pool), 3, null));
        List<JobHandler> handlers;
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
        Path workerDir = Files.createTempDirectory("qf-remote-text-");
        try (RemoteWorkerAgent agent = new RemoteWorkerAgent("http://127.0.0.1:" + port, workerDir, "text-remote", handlers, List.of(pool))) {
            agent.register();
            assertThat(agent.runOne(5)).isTrue();
            JsonNode done = api().awaitJob(id.toString(), Duration.ofSeconds(60));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.path("result").path("batchSize").asInt()).isEqualTo(16);
        }
        assertThat(workerDir.resolve("cache").resolve(up.json().path("text").path("tokenizerSha256").asString())).exists();
        assertThat(workerDir.resolve("cache").resolve(up.json().path("sha256").asString())).exists();
    }

    @Test
    void deletingKeepsATokenizerOthersStillUse() throws IOException {
        // a tokenizer.json of its own (the same JSON and a trailing newline): other tests' datasets share tinybert's
        Path tokenizer = Files.write(dir.resolve("tokenizer.json"), (Files.readString(TextModels.tinybertTokenizer()) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        String a = uploadText(TextModels.snliPairs(), tokenizer, Map.of("text", "{\"maxLength\":40}")).json().path("id").asString();
        JsonNode b = uploadText(TextModels.snliPairs(), tokenizer, Map.of("text", "{\"maxLength\":41}")).json();
        String sha = b.path("text").path("tokenizerSha256").asString();
        Path blob = DATA_DIR.resolve("blobs").resolve(sha.substring(0, 2)).resolve(sha.substring(2, 4)).resolve(sha);
        assertThat(blob).exists();
        assertThat(api().delete("/api/v1/datasets/" + a).status()).isEqualTo(204);
        assertThat(blob).as("dataset b still reads it").exists();
        assertThat(api().get("/api/v1/datasets/" + b.path("id").asString() + "/tokenizer").status()).isEqualTo(200);
        assertThat(api().delete("/api/v1/datasets/" + b.path("id").asString()).status()).isEqualTo(204);
        assertThat(blob).as("no dataset uses it any more").doesNotExist();
    }

    private void uploadBad(Map<String, Api.FilePart> files, Map<String, String> fields, String detail) {
        Api.Res r = RefusedUpload.check(DATA_DIR, () -> api().upload("/api/v1/datasets", files, fields));
        assertThat(r.detail()).contains(detail);
    }

    private static Api.FilePart bytes(String name, String content) {
        return new Api.FilePart(name, content.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void badTextUploadsAre400sNamingTheProblem() throws IOException {
        Api.FilePart sentences = bytes("s.txt", "A dog licks his nose.\nA cat is licking his fur.\n");
        Api.FilePart tokenizer = part(TextModels.tinybertTokenizer());
        uploadBad(Map.of("file", sentences), Map.of("format", "text"), "a text dataset needs the model's tokenizer.json in the part 'tokenizer'");
        uploadBad(Map.of("file", sentences), Map.of("text", "{\"maxLength\":64}"), "in the part 'tokenizer'");
        uploadBad(Map.of("file", sentences, "tokenizer", bytes("tokenizer.json", "")), Map.of(), "the part is empty");
        uploadBad(Map.of("file", sentences, "tokenizer", bytes("tokenizer.json", "{\"vocab\": {}}")), Map.of(),
                "the part 'tokenizer' is not a Hugging Face tokenizer.json: it has no 'model'");
        uploadBad(Map.of("file", sentences, "tokenizer", tokenizer), Map.of("text", "maxLength=64"), "text: must be a JSON object");
        uploadBad(Map.of("file", sentences, "tokenizer", tokenizer), Map.of("text", "{\"maxLength\":0}"),
                "'maxLength' must be between 1 and 8192, got 0");
        uploadBad(Map.of("file", sentences, "tokenizer", tokenizer), Map.of("text", "{\"lowercase\":true}"), "unknown key 'lowercase'");
        uploadBad(Map.of("file", sentences, "tokenizer", tokenizer), Map.of("preprocessing", "{\"scale\":1}"),
                "preprocessing: applies to images and arrays");
        uploadBad(Map.of("file", sentences, "tokenizer", tokenizer), Map.of("format", "npz"), "the parts 'tokenizer' and 'text' are for text datasets");
        uploadBad(Map.of("file", new Api.FilePart("latin1.txt", new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'}), "tokenizer", tokenizer), Map.of(),
                "line 1 is not UTF-8: byte 4 of the line is 0xe9");
        uploadBad(Map.of("file", bytes("bad.jsonl", "{\"text\": \"ok\", \"label\": 0}\n{\"text\": \"ok\" \"label\": 1}\n"), "tokenizer", tokenizer),
                Map.of(), "line 2 is not JSON");
        uploadBad(Map.of("file", bytes("empty.txt", "\n\n"), "tokenizer", tokenizer), Map.of(), "the text has no samples");
        ByteArrayOutputStream npz = new ByteArrayOutputStream();
        try (var zip = new java.util.zip.ZipOutputStream(npz)) {
            zip.putNextEntry(new java.util.zip.ZipEntry("input_ids.npy"));
            zip.write(new byte[] {1, 2, 3});
        }
        uploadBad(Map.of("file", new Api.FilePart("ids.npz", npz.toByteArray()), "tokenizer", tokenizer), Map.of(), "is a zip archive");
        // without a tokenizer, a text file is not mistaken for anything else, and the message says how to send one
        Map<String, Api.FilePart> onlyText = new LinkedHashMap<>();
        onlyText.put("file", sentences);
        uploadBad(onlyText, Map.of(), "uploaded with their tokenizer.json in the part 'tokenizer'");
        assertThat(api().get("/api/v1/datasets/" + UUID.randomUUID() + "/tokenizer").status()).isEqualTo(404);
    }
}
