package dev.quantforge.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.RefusedUpload;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** Dataset uploads over the API: real data in, clear 4xx for every kind of bad input, nothing stored half. */
class DatasetApiTest extends ServiceTest {



    @Test
    void cifarImageFolderEvaluatesToThePublishedAccuracy() throws Exception {
        Api.Res ds = api().upload("/api/v1/datasets", "cifar-0000-0099.zip", SharedData.cifarZip(0, 100),
                Map.of("name", "cifar first 100 per class", "preprocessing", SharedData.CIFAR_PREPROCESSING));
        assertThat(ds.status()).as(ds.body()).isIn(200, 201);
        JsonNode d = ds.json();
        assertThat(d.path("format").asString()).isEqualTo("image_folder");
        assertThat(d.path("sampleCount").asLong()).isEqualTo(1000);
        assertThat(d.path("hasLabels").asBoolean()).isTrue();
        assertThat(d.path("classNames").toString()).isEqualTo("[\"airplane\",\"automobile\",\"bird\",\"cat\",\"deer\",\"dog\",\"frog\",\"horse\",\"ship\",\"truck\"]");
        assertThat(d.path("tensors").get(0).path("shape").toString()).isEqualTo("[1000,3,32,32]");
        assertThat(d.path("preprocessing").path("mean").size()).isEqualTo(3);

        String model = api().upload("/api/v1/models", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), Map.of()).json().path("id").asString();
        Api.Res job = api().postJson("/api/v1/jobs", Map.of("type", "evaluate", "modelId", model,
                "evaluationDatasetId", d.path("id").asString(), "config", Map.of("evaluation", Map.of("batchSize", 64))));
        assertThat(job.status()).as(job.body()).isEqualTo(201);
        JsonNode done = api().awaitJob(job.json().path("id").asString(), Duration.ofMinutes(3));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        // SOURCES.md: files 0000-0099 of each class give 79.10% with ONNX Runtime and ImageIO decoding
        assertThat(done.path("result").path("top1").asDouble()).isBetween(0.781, 0.801);
        assertThat(done.path("result").path("samples").asLong()).isEqualTo(1000);
    }

    @Test
    void sameBytesWithOtherPreprocessingAreAnotherDataset() throws Exception {
        byte[] zip = SharedData.cifarZip(0, 2);
        Api.Res a = api().upload("/api/v1/datasets", "tiny.zip", zip, Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING));
        Api.Res again = api().upload("/api/v1/datasets", "tiny.zip", zip, Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING));
        Api.Res bgr = api().upload("/api/v1/datasets", "tiny.zip", zip, Map.of("preprocessing", "{\"scale\":0.00392156862745098,\"channelOrder\":\"bgr\"}"));
        assertThat(a.status()).isIn(200, 201);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("id").asString()).isEqualTo(a.json().path("id").asString());
        assertThat(bgr.status()).isEqualTo(201);
        assertThat(bgr.json().path("id").asString()).isNotEqualTo(a.json().path("id").asString());
        assertThat(api().get("/api/v1/datasets/" + a.json().path("id").asString() + "/content").status()).isEqualTo(200);
    }

    private Api.Res uploadBad(String filename, byte[] content, Map<String, String> fields) {
        return RefusedUpload.check(DATA_DIR, () -> api().upload("/api/v1/datasets", filename, content, fields));
    }

    @Test
    void truncatedNpzIsRefused() throws Exception {
        byte[] npz = Files.readAllBytes(SharedData.file("mnist/mnist8-eval.npz"));
        Api.Res r = uploadBad("cut.npz", Arrays.copyOf(npz, npz.length / 2), Map.of("format", "npz"));
        assertThat(r.detail()).isNotBlank();
    }

    @Test
    void randomBytesAreRefused() {
        byte[] junk = new byte[10_000];
        new java.util.Random(7).nextBytes(junk);
        Api.Res r = uploadBad("junk.bin", junk, Map.of());
        assertThat(r.detail()).isNotBlank();
    }

    @Test
    void zipSlipIsRefused() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("cat/0001.jpg"));
            zip.write(Files.readAllBytes(SharedData.file("cifar10-mlperftiny-ic/test-jpeg/cat/0001.jpg")));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("../evil.jpg"));
            zip.write(new byte[]{1, 2, 3});
            zip.closeEntry();
        }
        Api.Res r = uploadBad("slip.zip", bytes.toByteArray(), Map.of("format", "image_folder"));
        assertThat(r.detail()).contains("../evil.jpg");
    }

    @Test
    void undecodableImageIsNamed() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("cat/0001.jpg"));
            zip.write(Files.readAllBytes(SharedData.file("cifar10-mlperftiny-ic/test-jpeg/cat/0001.jpg")));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("dog/broken.jpg"));
            zip.write("this is not a jpeg".getBytes());
            zip.closeEntry();
        }
        Api.Res r = uploadBad("broken.zip", bytes.toByteArray(), Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING));
        assertThat(r.detail()).contains("dog/broken.jpg");
    }

    @Test
    void decompressionBombIsRefused() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("x.npy"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }
        Api.Res r = uploadBad("bomb.npz", bytes.toByteArray(), Map.of("format", "npz"));
        assertThat(r.detail()).containsIgnoringCase("compress");
    }

    @Test
    void badPreprocessingIsAFieldError() {
        Api.Res r = api().upload("/api/v1/datasets", "x.zip", new byte[]{1}, Map.of("preprocessing", "{\"std\":[0,1,1]}"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().path("errors").get(0).path("field").asString()).isEqualTo("preprocessing");
        Api.Res notJson = api().upload("/api/v1/datasets", "x.zip", new byte[]{1}, Map.of("preprocessing", "{oops"));
        assertThat(notJson.status()).isEqualTo(400);
        Api.Res badFormat = api().upload("/api/v1/datasets", "x.zip", new byte[]{1}, Map.of("format", "parquet"));
        assertThat(badFormat.status()).isEqualTo(400);
        assertThat(badFormat.detail()).contains("npz");
    }

    @Test
    void datasetInUseCannotBeDeletedButFinishedJobsKeepTheirResults() throws Exception {
        String model = api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        Api.Res ds = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        String dsId = ds.json().path("id").asString();
        assertThat(ds.json().path("hasLabels").asBoolean()).isFalse();
        // a job that reads the dataset and runs a long time
        Api.Res job = api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", model, "calibrationDatasetId", dsId,
                "config", Map.of("benchmark", Map.of("iterations", 1_000_000))));
        assertThat(job.status()).as(job.body()).isEqualTo(201);
        Api.Res del = api().delete("/api/v1/datasets/" + dsId);
        assertThat(del.status()).isEqualTo(409);
        api().postJson("/api/v1/jobs/" + job.json().path("id").asString() + "/cancel", Map.of());
        api().awaitJob(job.json().path("id").asString(), Duration.ofSeconds(60));
        assertThat(api().delete("/api/v1/datasets/" + dsId).status()).isEqualTo(204);
        // provenance: the finished job keeps the dataset's id, marked as deleted; the dataset's record answers, its bytes do not
        JsonNode after = api().get("/api/v1/jobs/" + job.json().path("id").asString()).json();
        assertThat(after.path("calibrationDatasetId").asString()).isEqualTo(dsId);
        assertThat(after.path("deletedInputs").toString()).isEqualTo("[\"calibrationDatasetId\"]");
        Api.Res gone = api().get("/api/v1/datasets/" + dsId);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.detail()).contains("was deleted");
        assertThat(api().get("/api/v1/datasets/" + dsId + "/content").status()).isEqualTo(404);
        assertThat(api().get("/api/v1/datasets?size=500").body()).doesNotContain(dsId);
        // a retry could only fail on the missing input: refused, naming it
        Api.Res retry = api().postJson("/api/v1/jobs/" + job.json().path("id").asString() + "/retry", Map.of());
        assertThat(retry.status()).as(retry.body()).isEqualTo(409);
        assertThat(retry.detail()).contains("calibration dataset " + dsId).contains("was deleted");
        assertThat(retry.json().path("errors").get(0).path("field").asString()).isEqualTo("calibrationDatasetId");
        // the same bytes uploaded again are a new dataset
        Api.Res again = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.json().path("id").asString()).isNotEqualTo(dsId);
    }

    @Test
    void evaluationWithoutLabelsIsRefusedAtSubmission() {
        String model = api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        String ds = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of()).json().path("id").asString();
        Api.Res job = api().postJson("/api/v1/jobs", Map.of("type", "evaluate", "modelId", model, "evaluationDatasetId", ds));
        assertThat(job.status()).isEqualTo(400);
        assertThat(job.json().path("errors").get(0).path("field").asString()).isEqualTo("evaluationDatasetId");
        assertThat(job.detail()).contains("labels");
    }
}
