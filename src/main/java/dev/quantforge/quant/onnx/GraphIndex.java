package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Producers, consumers and constants of a graph's top level (subgraphs are not looked into), indexed once. */
public final class GraphIndex {

    public final OnnxMl.GraphProto graph;
    public final Map<String, OnnxMl.TensorProto> initializers = new LinkedHashMap<>();
    public final Set<String> constants = new HashSet<>();
    public final Map<String, Integer> producer = new HashMap<>();
    public final Map<String, List<Integer>> consumers = new HashMap<>();
    public final Set<String> graphOutputs = new HashSet<>();
    public final Set<String> graphInputs = new HashSet<>();

    public GraphIndex(OnnxMl.GraphProto graph) {
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

    public List<Integer> consumersOf(String tensor) {
        return consumers.getOrDefault(tensor, List.of());
    }

    public boolean isConstant(String tensor) {
        return constants.contains(tensor);
    }

    public boolean isInitializer(String tensor) {
        return initializers.containsKey(tensor);
    }

}
