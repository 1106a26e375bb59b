package dev.quantforge.compile;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.NodeNames;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The top level of an ONNX graph as the engine report needs it: nodes by the service's names
 * ({@link NodeNames}, the names TensorRT also uses for named nodes), their position, and who produces and
 * consumes each tensor.
 */
final class OnnxGraphIndex {

    private final List<OnnxMl.NodeProto> nodes;
    private final List<String> names;
    private final Map<String, Integer> indexByName = new HashMap<>();
    private final Map<String, Integer> producers;
    private final Map<String, List<Integer>> consumers;
    private final Set<String> initializers = new HashSet<>();

    OnnxGraphIndex(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto graph = model.getGraph();
        this.nodes = graph.getNodeList();
        this.names = NodeNames.of(graph);
        for (int i = 0; i < names.size(); i++) {
            indexByName.put(names.get(i), i);
        }
        this.producers = Graphs.producers(nodes);
        this.consumers = Graphs.consumers(nodes);
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
    }

    boolean hasNode(String name) {
        return indexByName.containsKey(name);
    }

    int indexOf(String name) {
        return indexByName.getOrDefault(name, -1);
    }

    int size() {
        return nodes.size();
    }

    String name(int index) {
        return names.get(index);
    }

    OnnxMl.NodeProto node(int index) {
        return nodes.get(index);
    }

    OnnxMl.NodeProto node(String name) {
        return nodes.get(indexByName.get(name));
    }

    String opType(String name) {
        return node(name).getOpType();
    }

    boolean hasTensor(String tensor) {
        return producers.containsKey(tensor) || consumers.containsKey(tensor) || initializers.contains(tensor);
    }

    Optional<Integer> producer(String tensor) {
        return Optional.ofNullable(producers.get(tensor));
    }

    List<Integer> consumers(String tensor) {
        return consumers.getOrDefault(tensor, List.of());
    }

    boolean isInitializer(String tensor) {
        return initializers.contains(tensor);
    }
}
