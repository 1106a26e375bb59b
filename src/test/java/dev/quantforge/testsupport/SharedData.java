package dev.quantforge.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;

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
        Assumptions.assumeTrue(Files.exists(p), "missing shared file " + p);
        return p;
    }
}
