package dev.quantforge.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/** An upload the service must refuse with a 400 problem+json, keeping nothing: no blob, no staging file. */
public final class RefusedUpload {

    private RefusedUpload() {
    }

    public static Api.Res check(Path dataDir, Supplier<Api.Res> upload) {
        long blobsBefore = countFiles(dataDir.resolve("blobs"));
        Api.Res r = upload.get();
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(countFiles(dataDir.resolve("blobs"))).as("nothing stored").isEqualTo(blobsBefore);
        assertThat(countFiles(dataDir.resolve("tmp"))).as("no temp file left").isZero();
        return r;
    }

    private static long countFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var s = Files.walk(dir)) {
            // blobs, and our staging files (*.part); Tomcat's own multipart temp files are not ours to count
            return s.filter(Files::isRegularFile).filter(p -> dir.endsWith("blobs") || p.getFileName().toString().endsWith(".part")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
