package dev.quantforge.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** Upload and inspect every real model of ../shared/datasets over the REST API. */
class ModelApiTest extends ServiceTest {

    private JsonNode upload(String rel, int expectedStatus) {
        Api.Res r = api().upload("/api/v1/models", SharedData.file(rel), Map.of());
        assertThat(r.status()).as(r.body()).isIn(expectedStatus, 200);
        return r.json();
    }

    @Test
    void mnist8SummaryMatchesTheModel() {
        JsonNode m = upload("mnist/mnist-8.onnx", 201);
        assertThat(m.path("name").asString()).isEqualTo("mnist-8");
        assertThat(m.path("sha256").asString()).isEqualTo("2f06e72de813a8635c9bc0397ac447a601bdbfa7df4bebc278723b958831c9bf");
        assertThat(m.path("sizeBytes").asLong()).isEqualTo(26454);
        assertThat(m.path("opsetVersion").asInt()).isEqualTo(8);
        assertThat(m.path("irVersion").asInt()).isEqualTo(3);
        JsonNode in = m.path("inputs").get(0);
        assertThat(in.path("name").asString()).isEqualTo("Input3");
        assertThat(in.path("elementType").asString()).isEqualTo("float32");
        assertThat(in.path("shape").toString()).isEqualTo("[1,1,28,28]");
        assertThat(m.path("outputs").get(0).path("name").asString()).isEqualTo("Plus214_Output_0");
        assertThat(m.path("nodeCount").asInt()).isEqualTo(12);
        assertThat(m.path("opTypes").path("Conv").asInt()).isEqualTo(2);
        assertThat(m.path("quantizableNodes").size()).isEqualTo(3);
        assertThat(m.path("createdAt").asString()).endsWith("Z");
    }

    @Test
    void everySharedModelIsInspected() {
        JsonNode cifar = upload("cifar10-mlperftiny-ic/model_ic.onnx", 201);
        assertThat(cifar.path("opsetVersion").asInt()).isEqualTo(11);
        assertThat(cifar.path("nodeCount").asInt()).isEqualTo(110);
        assertThat(cifar.path("opTypes").path("Conv").asInt()).isEqualTo(26);
        assertThat(cifar.path("opTypes").path("BatchNormalization").asInt()).isEqualTo(26);
        assertThat(cifar.path("opTypes").path("Add").asInt()).isEqualTo(3);
        assertThat(cifar.path("quantizableNodes").size()).isEqualTo(27);
        assertThat(cifar.path("inputs").get(0).path("shape").get(0).isString()).as("symbolic batch").isTrue();

        JsonNode mnist7 = upload("mnist/mnist-7.onnx", 201);
        assertThat(mnist7.path("opsetVersion").asInt()).isEqualTo(7);

        JsonNode tribuo = upload("mnist/tribuo-pytorch_cnn_mnist.onnx", 201);
        assertThat(tribuo.path("opsetVersion").asInt()).isEqualTo(9);
        assertThat(tribuo.path("inputs").get(0).path("name").asString()).isEqualTo("input_image");

        JsonNode face = upload("ultraface-rfb-320/version-RFB-320.onnx", 201);
        assertThat(face.path("inputs").size()).as("initializers listed as graph inputs are not inputs").isEqualTo(1);
        assertThat(face.path("inputs").get(0).path("name").asString()).isEqualTo("input");

        JsonNode bert = upload("tinybert-tribuo/tinybert.onnx", 201);
        assertThat(bert.path("inputs").get(0).path("elementType").asString()).isEqualTo("int64");

        JsonNode skl = upload("mnist/tribuo-skl_lr_mnist.onnx", 201);
        assertThat(skl.path("quantizableNodes").size()).isZero();
        assertThat(skl.path("outputs").toString()).contains("sequence<map<int64,float32>>");

        JsonNode kws = upload("kws-mlperftiny/model_kws.onnx", 201);
        assertThat(kws.path("opsetVersion").asInt()).isEqualTo(9);

        Api.Res list = api().get("/api/v1/models?page=0&size=2");
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.json().path("items").size()).isEqualTo(2);
        assertThat(list.json().path("total").asLong()).isGreaterThanOrEqualTo(7);
    }

    @Test
    void identicalBytesReturnTheExistingModel() {
        JsonNode first = upload("mnist/tribuo-pytorch_cnn_mnist.onnx", 201);
        Api.Res again = api().upload("/api/v1/models", SharedData.file("mnist/tribuo-pytorch_cnn_mnist.onnx"), Map.of("name", "other"));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("id").asString()).isEqualTo(first.path("id").asString());
    }

    @Test
    void rawBodyUploadAndDownloadRoundTrip() throws Exception {
        byte[] bytes = java.nio.file.Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
        Api.Res r = api().postRaw("/api/v1/models?name=raw-mnist", bytes);
        assertThat(r.status()).isIn(200, 201);
        String id = r.json().path("id").asString();
        Api.Res content = api().get("/api/v1/models/" + id + "/content");
        assertThat(content.status()).isEqualTo(200);
        assertThat(content.body().length()).isGreaterThan(0);
    }

    @Test
    void randomBytesAreRefusedWithAProblem() {
        byte[] junk = new byte[4096];
        new Random(1).nextBytes(junk);
        Api.Res r = api().upload("/api/v1/models", "junk.onnx", junk, Map.of());
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.detail()).contains("not an ONNX model");
        assertThat(r.json().path("title").asString()).isNotBlank();
        assertThat(r.json().path("status").asInt()).isEqualTo(400);
    }

    @Test
    void truncatedModelIsRefused() throws Exception {
        byte[] bytes = java.nio.file.Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx"));
        byte[] half = java.util.Arrays.copyOf(bytes, bytes.length / 2);
        Api.Res r = api().upload("/api/v1/models", "half.onnx", half, Map.of());
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.detail()).isNotBlank();
    }

    @Test
    void emptyUploadAndMissingPartAreRefused() {
        Api.Res empty = api().upload("/api/v1/models", "empty.onnx", new byte[0], Map.of());
        assertThat(empty.status()).isEqualTo(400);
        assertThat(empty.detail()).contains("empty");
    }

    @Test
    void unknownIdsAre404AndBadIdsAre400() {
        Api.Res r = api().get("/api/v1/models/00000000-0000-0000-0000-000000000000");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.contentType()).startsWith("application/problem+json");
        Api.Res bad = api().get("/api/v1/models/not-a-uuid");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.detail()).contains("UUID");
    }

    @Test
    void deleteRemovesTheModel() {
        JsonNode vww = upload("mlperftiny-alibaba-extra/model_vww.onnx", 201);
        String id = vww.path("id").asString();
        assertThat(api().delete("/api/v1/models/" + id).status()).isEqualTo(204);
        assertThat(api().get("/api/v1/models/" + id).status()).isEqualTo(404);
    }
}
