package dev.quantforge.compile;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Joins an engine's layer info with its profile (by layer name) and with the ONNX model it was built
 * from (by node name), into the report's per-layer rows.
 */
public final class EngineLayers {

    /** How many unmatched names a warning lists before it only counts. */
    private static final int NAMES_IN_WARNING = 3;

    private EngineLayers() {
    }

    /**
     * @param layers    the layer info, in engine order
     * @param warnings  what could not be joined, for the job log and the report
     */
    public record Joined(List<EngineLayer> layers, List<String> warnings) {
        public Joined {
            layers = List.copyOf(layers);
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * @param profile null when no profile was exported (rows then have no time)
     * @param model   null to keep every name part TensorRT lists (initializers and parser helpers included)
     */
    static Joined join(List<LayerInfo> infos, ProfileFile profile, OnnxGraphIndex model) {
        Map<String, Deque<LayerTiming>> timings = new LinkedHashMap<>();
        if (profile != null) {
            for (LayerTiming t : profile.layers()) {
                timings.computeIfAbsent(t.name(), k -> new ArrayDeque<>()).add(t);
            }
        }
        List<EngineLayer> rows = new ArrayList<>();
        int onnxLayers = 0;
        int unmatchedOnnxLayers = 0;
        List<String> unmatchedExamples = new ArrayList<>();
        for (LayerInfo info : infos) {
            FusedLayerName parsed = FusedLayerName.of(info.name(), info.metadata());
            List<String> nodes = model == null ? unjoined(parsed) : joined(parsed, model);
            if (!parsed.tensorRtMade() && !parsed.parts().isEmpty()) {
                onnxLayers++;
                if (nodes.isEmpty()) {
                    unmatchedOnnxLayers++;
                    if (unmatchedExamples.size() < NAMES_IN_WARNING) {
                        unmatchedExamples.add(info.name());
                    }
                }
            }
            Deque<LayerTiming> queue = timings.get(info.name());
            LayerTiming timing = queue == null ? null : queue.poll();
            rows.add(new EngineLayer(info.name(), info.layerType(), nodes, info.precision(), info.inputs(), info.outputs(),
                    info.weightsType() == null ? null : EnginePrecision.fromFormat(info.weightsType()), info.tacticName(),
                    timing == null ? null : timing.averageMs(), timing == null ? null : timing.percentage()));
        }
        List<String> warnings = new ArrayList<>();
        List<String> unprofiled = timings.values().stream().flatMap(Deque::stream).map(LayerTiming::name).toList();
        if (!unprofiled.isEmpty()) {
            warnings.add(unprofiled.size() + " profiled layer(s) are not in the layer info, so their time is not "
                    + "in any row (were the two files written by different builds?): " + examples(unprofiled));
        }
        if (model != null && unmatchedOnnxLayers > 0) {
            warnings.add(unmatchedOnnxLayers + " of " + onnxLayers + " layer(s) name no node of the ONNX model "
                    + "(is it the model the engine was built from?): " + examples(unmatchedExamples));
        }
        return new Joined(rows, warnings);
    }

    private static List<String> unjoined(FusedLayerName parsed) {
        List<String> nodes = new ArrayList<>(parsed.parts());
        parsed.regions().forEach(r -> {
            nodes.add(r.first());
            nodes.add(r.last());
        });
        return nodes;
    }

    /** The parts that are nodes of the model, then every node of each Myelin region in graph order. */
    private static List<String> joined(FusedLayerName parsed, OnnxGraphIndex model) {
        Set<String> nodes = new LinkedHashSet<>();
        for (String part : parsed.parts()) {
            if (model.hasNode(part)) {
                nodes.add(part);
            }
        }
        for (FusedLayerName.Region region : parsed.regions()) {
            int first = model.indexOf(region.first());
            int last = model.indexOf(region.last());
            if (first >= 0 && last >= first) {
                for (int i = first; i <= last; i++) {
                    nodes.add(model.name(i));
                }
            }
        }
        return List.copyOf(nodes);
    }

    private static String examples(List<String> names) {
        String shown = names.stream().limit(NAMES_IN_WARNING).map(n -> "'" + n + "'").collect(Collectors.joining(", "));
        return names.size() > NAMES_IN_WARNING ? shown + ", ..." : shown;
    }
}
