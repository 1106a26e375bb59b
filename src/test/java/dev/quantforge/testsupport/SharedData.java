package dev.quantforge.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Assumptions;

/** The shared, real test material beside the checkout ({@code ../shared/datasets}). */
public final class SharedData {

    private SharedData() {
    }

    public static Path root() {
        String env = System.getenv("QF_SHARED_DATASETS");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        for (Path p : new Path[]{Path.of("../shared/datasets"), Path.of("../../shared/datasets"), Path.of("/work/shared/datasets")}) {
            if (Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("../shared/datasets not found beside the checkout; set QF_SHARED_DATASETS");
    }

    public static Path file(String relative) {
        Path p = root().resolve(relative);
        require(Files.exists(p), "missing shared file " + p);
        return p;
    }

    /**
     * Test material that may be absent on a developer's machine: without it the test is skipped, with this
     * message — unless {@code REQUIRE_DATA=true} (CI sets it), where a missing file fails the test.
     */
    public static void require(boolean present, String message) {
        if (present) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("REQUIRE_DATA"))) {
            throw new AssertionError(message + " (REQUIRE_DATA=true: test material must be present)");
        }
        Assumptions.assumeTrue(false, message);
    }

    /** CIFAR-10 class folders, in label order. */
    public static final List<String> CIFAR_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
            "ship", "truck");

    /** The CIFAR net's preprocessing (cifar10-mlperftiny-ic/SOURCES.md): RGB, NCHW, (pixel/255 - mean) / std. */
    public static final String CIFAR_PREPROCESSING = "{\"scale\":0.00392156862745098,\"mean\":[0.485,0.456,0.406],"
            + "\"std\":[0.229,0.224,0.225],\"layout\":\"nchw\",\"channelOrder\":\"rgb\"}";

    /** An image_folder zip of the CIFAR JPEGs numbered [from, to) of every class. */
    public static byte[] cifarZip(int from, int to) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (String cls : CIFAR_CLASSES) {
                for (int i = from; i < to; i++) {
                    String name = String.format("%04d.jpg", i);
                    zip.putNextEntry(new ZipEntry(cls + "/" + name));
                    zip.write(Files.readAllBytes(file("cifar10-mlperftiny-ic/test-jpeg/" + cls + "/" + name)));
                    zip.closeEntry();
                }
            }
        }
        return bytes.toByteArray();
    }
}
