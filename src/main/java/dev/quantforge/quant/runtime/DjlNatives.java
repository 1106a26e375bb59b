package dev.quantforge.quant.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where DJL extracts the native libraries it carries in its jars (the PyTorch engine of QAT, the Hugging Face
 * tokenizers of text datasets), and that it never downloads anything. DJL reads these settings when a native
 * library is first loaded, once per process, so they are set before that: by the service at start-up (the data
 * dir's {@code cache/djl}), by remote workers (theirs), and by {@code QatEngine.start}.
 *
 * <p>DJL looks at the environment variables {@code DJL_CACHE_DIR} / {@code ENGINE_CACHE_DIR} before these system
 * properties: an operator who sets them decides.
 */
public final class DjlNatives {

    private static final String OFFLINE = "ai.djl.offline";
    private static final String CACHE_DIR = "DJL_CACHE_DIR";
    private static final String ENGINE_CACHE_DIR = "ENGINE_CACHE_DIR";

    private DjlNatives() {
    }

    private static Path chosen;

    /**
     * Extract DJL natives under {@code dir}, offline; returns the absolute directory. The first call of a process
     * decides: DJL loads each native once per process, so a later directory would only be a place nothing is in.
     */
    public static synchronized Path useCacheDir(Path dir) {
        if (chosen != null) {
            return chosen;
        }
        Path abs = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the DJL cache directory " + abs, e);
        }
        System.setProperty(OFFLINE, "true");
        System.setProperty(CACHE_DIR, abs.toString());
        System.setProperty(ENGINE_CACHE_DIR, abs.toString());
        chosen = abs;
        return abs;
    }

    /**
     * The directory DJL extracts natives into, as DJL resolves it (environment first); throws when nothing set
     * it, rather than letting DJL fall back to {@code ~/.djl.ai}.
     */
    public static Path cacheDir() {
        for (String name : new String[] {ENGINE_CACHE_DIR, CACHE_DIR}) {
            String env = System.getenv(name);
            if (env != null && !env.isEmpty()) {
                return Path.of(env);
            }
            String prop = System.getProperty(name);
            if (prop != null && !prop.isEmpty()) {
                return Path.of(prop);
            }
        }
        throw new IllegalStateException("DJL's native cache directory is not set: call DjlNatives.useCacheDir first");
    }
}
