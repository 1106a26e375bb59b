package dev.quantforge.compile;

import tools.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code trtexec --exportLayerInfo} JSON: {@code {"Layers": [...], "Bindings": [...]}}.
 *
 * <p>Only the layers of the first optimization profile are kept: an engine built with several profiles
 * repeats every layer with a {@code " [profile N]"} suffix, and the first profile has none. TensorRT 10's
 * {@code signal}/{@code wait} layers (auxiliary-stream synchronisation) are not computation and are dropped.
 */
public final class LayerInfoFile {

    private static final Pattern OTHER_PROFILE = Pattern.compile("\\[profile \\d+]");
    private static final Set<String> SYNC_LAYER_TYPES = Set.of("signal", "wait");

    private LayerInfoFile() {
    }

    public static List<LayerInfo> read(Path file) {
        return parse(Json.read(file, "the layer info"));
    }

    static List<LayerInfo> parse(JsonNode root) {
        JsonNode layers = root.path("Layers");
        if (!layers.isArray()) {
            throw new EngineReportException("the layer info has no \"Layers\" array (is it trtexec --exportLayerInfo output?)");
        }
        List<LayerInfo> result = new ArrayList<>();
        for (JsonNode layer : layers) {
            if (!layer.isObject()) {
                // layer_names_only verbosity writes bare names: no formats, no weights, no tactics.
                throw new EngineReportException("the layer info lists layer names only; build the engine with "
                        + "--profilingVerbosity=detailed so it has each layer's formats, weights and tactic");
            }
            String name = layer.path("Name").asString();
            String type = layer.path("LayerType").asString();
            if (SYNC_LAYER_TYPES.contains(type) || OTHER_PROFILE.matcher(name).find()) {
                continue;
            }
            result.add(new LayerInfo(name, type, tensors(layer.path("Inputs")), tensors(layer.path("Outputs")),
                    weightsType(layer), text(layer, "TacticName"), text(layer, "Origin"), text(layer, "Metadata")));
        }
        return result;
    }

    private static List<EngineTensor> tensors(JsonNode array) {
        List<EngineTensor> tensors = new ArrayList<>();
        for (JsonNode t : array) {
            List<Long> dims = new ArrayList<>();
            for (JsonNode d : t.path("Dimensions")) {
                dims.add(d.asLong());
            }
            String format = t.path("Format/Datatype").asString();
            tensors.add(new EngineTensor(t.path("Name").asString(), dims, format, EnginePrecision.fromFormat(format)));
        }
        return tensors;
    }

    /**
     * {@code Weights.Type}; fused layers name theirs after the part they belong to ({@code ConvWeights} in a
     * {@code ConvActPool} layer), so any object field ending in "Weights" with a type and a non-zero count counts.
     */
    private static String weightsType(JsonNode layer) {
        for (Map.Entry<String, JsonNode> field : layer.properties()) {
            JsonNode value = field.getValue();
            if (field.getKey().endsWith("Weights") && value.isObject() && value.has("Type")
                    && value.path("Count").asLong(1) > 0) {
                return value.path("Type").asString();
            }
        }
        return null;
    }

    private static String text(JsonNode layer, String field) {
        JsonNode v = layer.get(field);
        return v == null || v.isNull() ? null : v.asString();
    }
}
