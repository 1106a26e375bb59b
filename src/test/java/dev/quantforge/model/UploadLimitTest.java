package dev.quantforge.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/** The configured upload limit answers 413 and keeps nothing of the upload. */
@TestPropertySource(properties = "qf.upload.max-bytes=20000")
class UploadLimitTest extends ServiceTest {

    @Test
    void uploadsOverTheLimitAre413AndLeaveNothing() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx")); // 26,454 bytes > 20,000
        Api.Res raw = api().postRaw("/api/v1/models?name=big", model);
        assertThat(raw.status()).isEqualTo(413);
        assertThat(raw.contentType()).startsWith("application/problem+json");
        assertThat(raw.detail()).contains("QF_UPLOAD_MAX_BYTES");
        Api.Res multipart = api().upload("/api/v1/models", "big.onnx", model, Map.of());
        assertThat(multipart.status()).isEqualTo(413);
        try (var files = Files.walk(DATA_DIR.resolve("tmp"))) {
            assertThat(files.filter(p -> p.toString().endsWith(".part")).count()).isZero();
        }
    }
}
