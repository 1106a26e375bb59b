package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import dev.quantforge.quant.InvalidInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Small helpers for ONNX graph surgery (producers, consumers, initializer values, new initializers). */
public final class Graphs {

    private Graphs() {
    }

    /** Tensor name → index of the node that produces it (graph order). */
    public static Map<String, Integer> producers(List<OnnxMl.NodeProto> nodes) {
        Map<String, Integer> producers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String output : nodes.get(i).getOutputList()) {
                if (!output.isEmpty()) {
                    producers.put(output, i);
                }
            }
        }
        return producers;
    }

    /** Tensor name → indices of the nodes that read it (each node once, graph order). */
    public static Map<String, List<Integer>> consumers(List<OnnxMl.NodeProto> nodes) {
        Map<String, List<Integer>> consumers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Set<String> seen = new HashSet<>();
            for (String input : nodes.get(i).getInputList()) {
                if (!input.isEmpty() && seen.add(input)) {
                    consumers.computeIfAbsent(input, k -> new ArrayList<>()).add(i);
                }
            }
        }
        return consumers;
    }

    /** Initializers by name, in graph order. */
    public static Map<String, OnnxMl.TensorProto> initializers(OnnxMl.GraphProto graph) {
        Map<String, OnnxMl.TensorProto> map = new LinkedHashMap<>();
        graph.getInitializerList().forEach(t -> map.put(t.getName(), t));
        return map;
    }

    public static Optional<OnnxMl.TensorProto> initializer(OnnxMl.GraphProto graph, String name) {
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            if (t.getName().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Every value name used in the graph (inputs, outputs, initializers, node inputs/outputs, value_info). */
    public static Set<String> allNames(OnnxMl.GraphProto graph) {
        Set<String> names = new HashSet<>();
        graph.getInputList().forEach(v -> names.add(v.getName()));
        graph.getOutputList().forEach(v -> names.add(v.getName()));
        graph.getValueInfoList().forEach(v -> names.add(v.getName()));
        graph.getInitializerList().forEach(t -> names.add(t.getName()));
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            names.addAll(node.getInputList());
            names.addAll(node.getOutputList());
        }
        return names;
    }

    /** {@code base}, or {@code base_1}, {@code base_2}, ... : the first not in {@code used}; it is added to it. */
    public static String uniqueName(Set<String> used, String base) {
        String candidate = base;
        for (int k = 1; !used.add(candidate); k++) {
            candidate = base + "_" + k;
        }
        return candidate;
    }

    public static long elementCount(OnnxMl.TensorProto tensor) {
        long n = 1;
        for (long d : tensor.getDimsList()) {
            n *= d;
        }
        return n;
    }

    /** Values of a float32 (or float64) tensor, from raw_data or float_data/double_data. */
    public static float[] floats(OnnxMl.TensorProto tensor) {
        checkInternal(tensor);
        int n = Math.toIntExact(elementCount(tensor));
        float[] values = new float[n];
        switch (tensor.getDataType()) {
            case 1 -> {
                if (!tensor.getRawData().isEmpty()) {
                    requireBytes(tensor, (long) n * 4);
                    tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
                } else {
                    requireCount(tensor, tensor.getFloatDataCount(), n);
                    for (int i = 0; i < n; i++) {
                        values[i] = tensor.getFloatData(i);
                    }
                }
            }
            case 11 -> {
                if (!tensor.getRawData().isEmpty()) {
                    requireBytes(tensor, (long) n * 8);
                    var buf = tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
                    for (int i = 0; i < n; i++) {
                        values[i] = (float) buf.get(i);
                    }
                } else {
                    requireCount(tensor, tensor.getDoubleDataCount(), n);
                    for (int i = 0; i < n; i++) {
                        values[i] = (float) tensor.getDoubleData(i);
                    }
                }
            }
            default -> throw new InvalidInputException("tensor '" + tensor.getName() + "' is "
                    + ModelInspector.elementTypeName(tensor.getDataType()) + ", expected float32");
        }
        return values;
    }

    /** Values of an int64 (or int32) tensor, from raw_data or int64_data/int32_data. */
    public static long[] longs(OnnxMl.TensorProto tensor) {
        checkInternal(tensor);
        int n = Math.toIntExact(elementCount(tensor));
        long[] values = new long[n];
        switch (tensor.getDataType()) {
            case 7 -> {
                if (!tensor.getRawData().isEmpty()) {
                    requireBytes(tensor, (long) n * 8);
                    tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(values);
                } else {
                    requireCount(tensor, tensor.getInt64DataCount(), n);
                    for (int i = 0; i < n; i++) {
                        values[i] = tensor.getInt64Data(i);
                    }
                }
            }
            case 6 -> {
                if (!tensor.getRawData().isEmpty()) {
                    requireBytes(tensor, (long) n * 4);
                    var buf = tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
                    for (int i = 0; i < n; i++) {
                        values[i] = buf.get(i);
                    }
                } else {
                    requireCount(tensor, tensor.getInt32DataCount(), n);
                    for (int i = 0; i < n; i++) {
                        values[i] = tensor.getInt32Data(i);
                    }
                }
            }
            default -> throw new InvalidInputException("tensor '" + tensor.getName() + "' is "
                    + ModelInspector.elementTypeName(tensor.getDataType()) + ", expected int64");
        }
        return values;
    }

    /** A float32 initializer (raw_data, little-endian). */
    public static OnnxMl.TensorProto floatTensor(String name, long[] dims, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return tensor(name, 1, dims, buf);
    }

    /** An int64 initializer (raw_data, little-endian). */
    public static OnnxMl.TensorProto int64Tensor(String name, long[] dims, long[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(values);
        return tensor(name, 7, dims, buf);
    }

    private static OnnxMl.TensorProto tensor(String name, int dataType, long[] dims, ByteBuffer data) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(dataType);
        for (long d : dims) {
            t.addDims(d);
        }
        return t.setRawData(ByteString.copyFrom(data.array())).build();
    }

    /** The version of the default ("" / "ai.onnx") domain, or null when the model imports none. */
    public static Long defaultOpset(OnnxMl.ModelProto model) {
        Long version = null;
        for (OnnxMl.OperatorSetIdProto opset : model.getOpsetImportList()) {
            if (ModelInspector.isDefaultDomain(opset.getDomain())) {
                version = version == null ? opset.getVersion() : Math.max(version, opset.getVersion());
            }
        }
        return version;
    }

    /** An attribute of a node, if present. */
    public static Optional<OnnxMl.AttributeProto> attribute(OnnxMl.NodeProto node, String name) {
        for (OnnxMl.AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    private static void checkInternal(OnnxMl.TensorProto tensor) {
        if (tensor.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL || tensor.getExternalDataCount() > 0) {
            throw new InvalidInputException("tensor '" + tensor.getName() + "' keeps its data in an external file");
        }
    }

    private static void requireBytes(OnnxMl.TensorProto tensor, long bytes) {
        if (tensor.getRawData().size() != bytes) {
            throw new InvalidInputException("tensor '" + tensor.getName() + "' holds " + tensor.getRawData().size()
                    + " bytes of data, its shape needs " + bytes);
        }
    }

    private static void requireCount(OnnxMl.TensorProto tensor, int count, int expected) {
        if (count != expected) {
            throw new InvalidInputException("tensor '" + tensor.getName() + "' holds " + count
                    + " values, its shape needs " + expected);
        }
    }
}
