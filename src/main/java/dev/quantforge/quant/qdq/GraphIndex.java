package dev.quantforge.quant.qdq;

import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Producers, consumers and constants of a graph's top level (subgraphs are not looked into). */
final class GraphIndex {

    final OnnxMl.GraphProto graph;
    final Map<String, OnnxMl.TensorProto> initializers = new LinkedHashMap<>();
    final Set<String> constants = new HashSet<>();
    final Map<String, Integer> producer = new HashMap<>();
    final Map<String, List<Integer>> consumers = new HashMap<>();
    final Set<String> graphOutputs = new HashSet<>();
    final Set<String> graphInputs = new HashSet<>();

    GraphIndex(OnnxMl.GraphProto graph) {
        this.graph = graph;
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            initializers.put(t.getName(), t);
            constants.add(t.getName());
        }
        List<OnnxMl.NodeProto> nodes = graph.getNodeList();
        for (int i = 0; i < nodes.size(); i++) {
            OnnxMl.NodeProto n = nodes.get(i);
            for (String out : n.getOutputList()) {
                producer.put(out, i);
                if (n.getOpType().equals("Constant") && n.getDomain().isEmpty()) {
                    constants.add(out);
                }
            }
            for (String in : n.getInputList()) {
                if (!in.isEmpty()) {
                    List<Integer> list = consumers.computeIfAbsent(in, k -> new ArrayList<>());
                    if (!list.contains(i)) {
                        list.add(i);
                    }
                }
            }
        }
        graph.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
        graph.getInputList().forEach(o -> graphInputs.add(o.getName()));
    }

    List<Integer> consumersOf(String tensor) {
        return consumers.getOrDefault(tensor, List.of());
    }

    boolean isConstant(String tensor) {
        return constants.contains(tensor);
    }

    boolean isInitializer(String tensor) {
        return initializers.containsKey(tensor);
    }

    static long attrInt(OnnxMl.NodeProto node, String name, long dflt) {
        for (OnnxMl.AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return dflt;
    }
}
