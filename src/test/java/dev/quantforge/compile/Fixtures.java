package dev.quantforge.compile;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Paths of the real TensorRT report files in {@code src/test/resources/tensorrt/} (see SOURCES.md there). */
final class Fixtures {

    static final String MOBILENET_QAT = "mobilenet.qat";
    static final String MOBILENET_V2_RESIDUALS_QAT = "mobilenet_v2_residuals.qat";

    private Fixtures() {
    }

    static Path layerInfo(String fixture) {
        return resource(fixture + ".onnx.engine.graph.json");
    }

    static Path profile(String fixture) {
        return resource(fixture + ".onnx.engine.profile.json");
    }

    static Path resource(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/tensorrt/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
