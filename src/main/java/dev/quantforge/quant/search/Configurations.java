package dev.quantforge.quant.search;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.qdq.QdqPlan;

/** The identity of configurations tried by a search: the settings they share and which nodes each quantizes. */
public final class Configurations {

    private Configurations() {
    }

    /** "uint8_asymmetric" / "int8_symmetric", as reports name the activation scheme. */
    public static String activations(QuantizationPipeline p) {
        return p.settings().activationType().name().toLowerCase(java.util.Locale.ROOT);
    }

    public static String weights(QuantizationPipeline p) {
        return p.settings().weightsPerChannel() ? "per_channel" : "per_tensor";
    }

    /** Every planned node of the full plan → quantized when the plan quantizes it and {@code quantized} says so. */
    public static Map<String, LayerState> layers(QuantizationPipeline p, Predicate<String> quantized) {
        Map<String, LayerState> layers = new LinkedHashMap<>();
        for (QdqPlan.PlannedNode n : p.plan().nodes()) {
            layers.put(n.name(), new LayerState(n.quantized() && quantized.test(n.name())));
        }
        return layers;
    }

    /** The nodes of the full plan quantized except {@code floatNodes}. */
    public static Map<String, LayerState> allBut(QuantizationPipeline p, Set<String> floatNodes) {
        return layers(p, n -> !floatNodes.contains(n));
    }
}
