package dev.quantforge.qat;

import java.nio.file.Path;

/** One PyTorch engine for all QAT tests, its natives extracted under target/djl (reused between runs). */
final class QatTestEngine {

    private QatTestEngine() {
    }

    static QatEngine get() {
        boolean first = !QatEngine.started();
        QatEngine engine = QatEngine.start(Path.of("target", "djl"));
        if (first) {
            System.out.println("QAT engine: PyTorch " + engine.version() + " started in " + engine.startTime().toMillis()
                    + " ms (cache " + engine.cacheDir() + ")");
        }
        return engine;
    }
}
