package dev.quantforge.compile;

import tools.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code trtexec --exportProfile} JSON: an array whose first element is a count record
 * ({@code {"count": 4216}}, the number of profiled runs) followed by one
 * {@code {"name", "timeMs", "averageMs", "percentage"}} record per layer in execution order
 * (TensorRT 10 adds {@code medianMs}, not used here).
 *
 * @param runs number of profiled runs, 0 when the file has no count record
 */
public record ProfileFile(long runs, List<LayerTiming> layers) {

    public ProfileFile {
        layers = List.copyOf(layers);
    }

    public static ProfileFile read(Path file) {
        return parse(Json.read(file, "the layer profile"));
    }

    static ProfileFile parse(JsonNode root) {
        if (!root.isArray()) {
            throw new EngineReportException("the layer profile is not a JSON array (is it trtexec --exportProfile output?)");
        }
        long runs = 0;
        List<LayerTiming> layers = new ArrayList<>();
        for (JsonNode record : root) {
            if (record.has("count") && !record.has("name")) {
                runs = record.path("count").asLong();
            } else if (record.has("name")) {
                layers.add(new LayerTiming(record.path("name").asString(), record.path("timeMs").asDouble(),
                        record.path("averageMs").asDouble(), record.path("percentage").asDouble()));
            }
        }
        return new ProfileFile(runs, layers);
    }
}
