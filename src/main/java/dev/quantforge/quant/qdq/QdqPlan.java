package dev.quantforge.quant.qdq;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where Q/DQ pairs go in one model.
 *
 * @param nodes             every quantizable node (quantized or excluded), in graph order
 * @param quantizedTensors  activation tensor → the tensor whose calibrated range gives its scale/zero point.
 *                          A tensor is its own range source, except the extra tensors quantized in
 *                          {@link QuantizationSettings.ActivationType#UINT8_ASYMMETRIC} mode between a
 *                          quantized node and a value-preserving/clamping op chain (they share the chain
 *                          end's parameters so ONNX Runtime can drop those ops' Q/DQ and fuse)
 * @param settings          the settings it was planned with
 */
public record QdqPlan(List<PlannedNode> nodes, Map<String, String> quantizedTensors, QuantizationSettings settings) {

    public QdqPlan {
        nodes = List.copyOf(nodes);
        quantizedTensors = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(quantizedTensors));
    }

    /** One quantizable node. */
    public record PlannedNode(String name, String opType, List<String> activationInputs, String weight, Integer weightAxis,
                              String bias, boolean excluded, String reason) {

        public PlannedNode {
            activationInputs = List.copyOf(activationInputs);
        }

        public boolean quantized() {
            return !excluded;
        }
    }

    /** The tensors that need a calibrated range (deduplicated, graph order). */
    public Set<String> activationTensors() {
        return new LinkedHashSet<>(quantizedTensors.values());
    }

    public List<PlannedNode> quantizedNodes() {
        return nodes.stream().filter(PlannedNode::quantized).toList();
    }

    public PlannedNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElse(null);
    }
}
