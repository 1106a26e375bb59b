package dev.quantforge.qat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

import dev.quantforge.quant.runtime.DjlNatives;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The QAT training engine: DJL with the PyTorch engine and the CPU native library that ships in the
 * {@code pytorch-native-cpu} jar on the class path. Nothing happens when this class is loaded; the
 * first {@link #start(Path)} extracts the native libraries (about 450 MB unpacked) into the given
 * cache directory — the service passes {@code <dataDir>/djl} — and loads them. DJL runs offline: it
 * never downloads anything.
 *
 * <p>The PyTorch engine is process-wide: a second {@code start} returns the running engine, whatever
 * directory it names.
 */
public final class QatEngine {

    public static final String ENGINE_NAME = "PyTorch";

    private static QatEngine instance;

    private final Engine engine;
    private final Path cacheDir;
    private final Duration startTime;

    private QatEngine(Engine engine, Path cacheDir, Duration startTime) {
        this.engine = engine;
        this.cacheDir = cacheDir;
        this.startTime = startTime;
    }

    /** Starts the PyTorch engine the first time (native extraction into {@code cacheDir}); later calls return it. */
    public static synchronized QatEngine start(Path cacheDir) {
        if (instance != null) {
            return instance;
        }
        Path dir = DjlNatives.useCacheDir(cacheDir);
        System.setProperty("ai.djl.default_engine", ENGINE_NAME);
        long t0 = System.nanoTime();
        Engine engine;
        try {
            engine = Engine.getEngine(ENGINE_NAME);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new IllegalStateException("cannot start the PyTorch engine for QAT (cache " + dir + "): " + e.getMessage(), e);
        }
        instance = new QatEngine(engine, dir, Duration.ofNanos(System.nanoTime() - t0));
        return instance;
    }

    /** Whether {@link #start(Path)} has already run in this process. */
    public static synchronized boolean started() {
        return instance != null;
    }

    /** A new root manager on the PyTorch engine (CPU); close it when done. */
    public NDManager newManager() {
        return engine.newBaseManager();
    }

    public Engine engine() {
        return engine;
    }

    public String version() {
        return engine.getVersion();
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** How long the first start took (native extraction and loading). */
    public Duration startTime() {
        return startTime;
    }
}
