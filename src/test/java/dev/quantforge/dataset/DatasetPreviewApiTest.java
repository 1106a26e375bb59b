package dev.quantforge.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Map;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

import dev.quantforge.dataset.io.NpyWriter;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.testdata.TestNpz;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** GET /datasets/{id}/samples/{n}/preview.png: the sample the model is fed, drawn back as pixels. */
class DatasetPreviewApiTest extends ServiceTest {

    private BufferedImage png(String path, Map<String, String> headers) throws Exception {
        HttpResponse<byte[]> r = api().client().send(HttpRequest.newBuilder(api().uri(path)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).isEqualTo("image/png");
        r.headers().map().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
        return ImageIO.read(new ByteArrayInputStream(r.body()));
    }

    @Test
    void anImageFolderSampleIsItsImageWithThePreprocessingUndone() throws Exception {
        String id = api().upload("/api/v1/datasets", "cifar-preview.zip", SharedData.cifarZip(0, 2),
                Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING)).json().path("id").asString();
        // samples are ordered by class, then file: sample 3 is automobile/0001.jpg, label 1
        Map<String, String> headers = new java.util.HashMap<>();
        BufferedImage preview = png("/api/v1/datasets/" + id + "/samples/3/preview.png", headers);
        assertThat(headers.get("x-sample-label")).isEqualTo("1");
        BufferedImage original = ImageIO.read(SharedData.file("cifar10-mlperftiny-ic/test-jpeg/automobile/0001.jpg").toFile());
        assertThat(preview.getWidth()).isEqualTo(32);
        assertThat(preview.getHeight()).isEqualTo(32);
        int worst = 0;
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                int a = preview.getRGB(x, y);
                int b = original.getRGB(x, y);
                for (int shift : new int[] {16, 8, 0}) {
                    worst = Math.max(worst, Math.abs(((a >> shift) & 0xFF) - ((b >> shift) & 0xFF)));
                }
            }
        }
        assertThat(worst).as("largest channel difference to the decoded JPEG").isLessThanOrEqualTo(1);

        // bgr: the tensor's first channel is blue, and the preview shows the channels in the tensor's order
        String bgr = api().upload("/api/v1/datasets", "cifar-preview.zip", SharedData.cifarZip(0, 2),
                Map.of("preprocessing", "{\"scale\":0.00392156862745098,\"channelOrder\":\"bgr\",\"resize\":[16,16]}")).json().path("id").asString();
        BufferedImage swapped = png("/api/v1/datasets/" + bgr + "/samples/3/preview.png", new java.util.HashMap<>());
        assertThat(swapped.getWidth()).isEqualTo(16);
        long red = 0;
        long blueAsRed = 0;
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                red += (original.getRGB(2 * x, 2 * y) >> 16) & 0xFF;
                blueAsRed += (swapped.getRGB(x, y) >> 16) & 0xFF;
            }
        }
        long blue = 0;
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                blue += original.getRGB(x, y) & 0xFF;
            }
        }
        assertThat(Math.abs(blueAsRed / 256.0 - blue / 1024.0)).as("mean blue of the original vs mean red of the bgr preview").isLessThan(3.0);
        assertThat(Math.abs(red / 256.0 - blue / 1024.0)).as("the image has distinct red and blue").isGreaterThan(3.0);
    }

    @Test
    void anArraySampleIsStretchedOverItsRange() throws Exception {
        String id = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"), Map.of()).json().path("id").asString();
        Map<String, String> headers = new java.util.HashMap<>();
        BufferedImage preview = png("/api/v1/datasets/" + id + "/samples/1500/preview.png", headers);
        Batch batch;
        try (var it = TestNpz.read(SharedData.file("mnist/mnist8-eval.npz")).batches(2000, 2000)) {
            batch = it.next();
        }
        float[] all = batch.tensors().get("Input3").toFloatArray();
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int i = 1500 * 784; i < 1501 * 784; i++) {
            min = Math.min(min, all[i]);
            max = Math.max(max, all[i]);
        }
        for (int p = 0; p < 784; p++) {
            int expected = Math.round((all[1500 * 784 + p] - min) / (max - min) * 255);
            assertThat(preview.getRGB(p % 28, p / 28) & 0xFF).as("pixel " + p).isEqualTo(expected);
        }
        assertThat(headers.get("x-sample-label")).isEqualTo(Long.toString(batch.labels()[1500]));
    }

    @Test
    void pastTheLastSampleIs404AndANonImageSampleIs400() throws Exception {
        String mnist = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of()).json().path("id").asString();
        Api.Res past = api().get("/api/v1/datasets/" + mnist + "/samples/1000/preview.png");
        assertThat(past.status()).isEqualTo(404);
        assertThat(past.contentType()).startsWith("application/problem+json");
        assertThat(past.detail()).contains("1000 samples").contains("no sample 1000");
        assertThat(api().get("/api/v1/datasets/00000000-0000-0000-0000-000000000000/samples/0/preview.png").status()).isEqualTo(404);
        assertThat(api().get("/api/v1/datasets/" + mnist + "/samples/-1/preview.png").status()).isEqualTo(404);

        var npy = Files.createTempFile("rows-", ".npy");
        Files.write(npy, NpyWriter.npy("<f4", new long[] {4, 7}, NpyWriter.floats(ByteOrder.LITTLE_ENDIAN, new float[28])));
        String rows = api().upload("/api/v1/datasets", npy, Map.of()).json().path("id").asString();
        Api.Res flat = api().get("/api/v1/datasets/" + rows + "/samples/2/preview.png");
        assertThat(flat.status()).isEqualTo(400);
        assertThat(flat.contentType()).startsWith("application/problem+json");
        assertThat(flat.detail()).contains("[7]").contains("not an image");
    }
}
