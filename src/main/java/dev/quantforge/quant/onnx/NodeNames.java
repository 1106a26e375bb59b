package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Stable, unique names for the nodes of a graph. ONNX allows empty and duplicate node names,
 * but the API (quantizable nodes, exclude lists, per-layer reports) addresses nodes by name, so
 * every part of the engine must name them the same way: this class is that single rule.
 *
 * <p>A node keeps its own name when it is non-empty and not taken by an earlier node. Otherwise
 * it is called {@code <opType>_<index>} (index = position in the graph's node list), with a
 * {@code _<k>} suffix added in the rare case that name is already used.
 */
public final class NodeNames {

    private NodeNames() {
    }

    /** Names for {@code graph}'s nodes, in node order (the list is parallel to {@code getNodeList()}). */
    public static List<String> of(OnnxMl.GraphProto graph) {
        return of(graph.getNodeList());
    }

    public static List<String> of(List<OnnxMl.NodeProto> nodes) {
        Set<String> used = new HashSet<>();
        String[] names = new String[nodes.size()];
        // Own names first, so that a generated name never takes a name a later node really has.
        for (int i = 0; i < nodes.size(); i++) {
            String own = nodes.get(i).getName();
            if (!own.isEmpty() && used.add(own)) {
                names[i] = own;
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (names[i] == null) {
                String base = nodes.get(i).getOpType() + "_" + i;
                String candidate = base;
                for (int k = 1; !used.add(candidate); k++) {
                    candidate = base + "_" + k;
                }
                names[i] = candidate;
            }
        }
        return new ArrayList<>(List.of(names));
    }
}
