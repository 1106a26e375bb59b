package dev.quantforge.quant.precision;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.ShapeInference;
import dev.quantforge.quant.ops.OpRegistry;

/**
 * Converts the float nodes of a (QDQ or float) model to FP16 where that is safe, in the spirit of ModelOpt's AutoCast:
 * a node runs in FP16 when its op keeps its accuracy there ({@link OpRegistry#fp16}: not a reduction, exponential or
 * normalization), every float output's observed |x| stays within {@link #DATA_MAX} (headroom below FP16's 65,504 for
 * what the calibration set did not show) and its float weights fit FP16. The model's inputs and outputs keep their
 * types: Casts are inserted where FP16 and FP32 nodes meet (and before Q/DQ, which stay float32 for ONNX Runtime's
 * int8 fusions). Weights only FP16 nodes read are stored as FP16; shared ones get an FP16 copy.
 */
public final class Fp16Conversion {

    /** Node outputs whose observed |x| exceeds this stay FP32 (AutoCast's {@code data_max}). */
    public static final double DATA_MAX = 512;

    private static final int FLOAT = Graphs.FLOAT;
    private static final int FLOAT16 = Graphs.FLOAT16;
    private static final Set<String> QDQ_OPS = Set.of("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear");

    private Fp16Conversion() {
    }

    /** What a node computes in. */
    public enum Precision {
        INT8, FP16, FP32;

        public String apiName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One compute node of the written model (Q/DQ and inserted Casts are not listed). */
    public record NodePrecision(String node, String opType, Precision precision, String reason) {
    }

    /** The mixed model and the precision of each node, in graph order. */
    public record Result(OnnxMl.ModelProto model, List<NodePrecision> nodes) {
        public Result {
            nodes = List.copyOf(nodes);
        }

        public Map<Precision, Integer> counts() {
            Map<Precision, Integer> counts = new LinkedHashMap<>();
            for (Precision p : Precision.values()) {
                counts.put(p, 0);
            }
            nodes.forEach(n -> counts.merge(n.precision(), 1, Integer::sum));
            return counts;
        }
    }

    /**
     * Float tensors whose ranges the conversion needs: every float output of a node that could run in FP16. The
     * calibration pass observes them.
     */
    public static Set<String> tensorsToObserve(OnnxMl.ModelProto model) {
        Map<String, OnnxMl.TypeProto.Tensor> types = ShapeInference.tensorTypes(model);
        Set<String> out = new java.util.LinkedHashSet<>();
        for (OnnxMl.NodeProto n : model.getGraph().getNodeList()) {
            if (OpRegistry.fp16(n) == OpRegistry.Fp16Policy.CONVERT) {
                n.getOutputList().stream().filter(o -> !o.isEmpty() && elemType(types, o) == FLOAT).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * @param int8Nodes  nodes that compute in INT8 (between Q/DQ): reported int8, never converted
     * @param wantsFp16  node name → whether the config asks for FP16 there (else FP32 is what was asked)
     * @param absMax     observed max |x| per tensor (the calibration histograms)
     */
    public static Result convert(OnnxMl.ModelProto model, Set<String> int8Nodes, Predicate<String> wantsFp16, Map<String, Double> absMax) {
        OnnxMl.GraphProto graph = model.getGraph();
        Map<String, OnnxMl.TypeProto.Tensor> types = ShapeInference.tensorTypes(model);
        Map<String, OnnxMl.TensorProto> initializers = Graphs.initializers(graph);
        Set<String> graphInputs = new HashSet<>();
        graph.getInputList().forEach(i -> graphInputs.add(i.getName()));
        Set<String> graphOutputs = new HashSet<>();
        graph.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
        Set<String> subgraphReads = new HashSet<>();
        graph.getNodeList().forEach(n -> n.getAttributeList().forEach(a -> collectSubgraphReads(a, subgraphReads)));

        // 1. decide per node
        Map<String, OnnxMl.NodeProto> producers = new HashMap<>();
        Map<String, List<OnnxMl.NodeProto>> consumers = new HashMap<>();
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            n.getOutputList().forEach(o -> producers.put(o, n));
            n.getInputList().forEach(in -> consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n));
        }
        Map<String, NodePrecision> decided = new LinkedHashMap<>();
        Set<OnnxMl.NodeProto> fp16 = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            if (QDQ_OPS.contains(n.getOpType())) {
                continue;
            }
            if (n.getOutputList().stream().noneMatch(o -> !o.isEmpty() && elemType(types, o) == FLOAT)) {
                continue; // integer work (shapes, indices): not a float node
            }
            NodePrecision p = !int8Nodes.contains(n.getName()) && betweenQdq(n, producers, consumers)
                    ? new NodePrecision(n.getName(), n.getOpType(), Precision.INT8, "between Q/DQ (runs on int8 values once fused)")
                    : decide(n, int8Nodes, wantsFp16, absMax, types, initializers);
            decided.put(n.getName(), p);
            if (p.precision() == Precision.FP16) {
                fp16.add(n);
            }
        }
        Set<String> fp16Outputs = new HashSet<>();
        fp16.forEach(n -> n.getOutputList().stream().filter(o -> elemType(types, o) == FLOAT).forEach(fp16Outputs::add));

        // 2. rewrite in graph order: Casts to FP16 just before their first FP16 reader, back to FP32 right after the producer
        Set<String> used = Graphs.allNames(graph);
        Map<String, String> half = new HashMap<>(); // float32 tensor → its FP16 twin
        List<OnnxMl.NodeProto> nodes = new ArrayList<>();
        Map<String, OnnxMl.TensorProto> newInitializers = new LinkedHashMap<>(initializers);
        Set<String> inPlace = new HashSet<>(); // initializers only FP16 nodes read, now stored as FP16
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            if (!fp16.contains(n)) {
                nodes.add(n);
                continue;
            }
            OnnxMl.NodeProto.Builder b = n.toBuilder().clearInput().clearOutput();
            for (String in : n.getInputList()) {
                if (in.isEmpty() || elemType(types, in) != FLOAT) {
                    b.addInput(in);
                } else if (fp16Outputs.contains(in)) {
                    b.addInput(half.get(in));
                } else if (initializers.containsKey(in) && !graphInputs.contains(in)) {
                    String name = half.get(in);
                    if (name == null) {
                        boolean onlyFp16Readers = consumers.get(in).stream().allMatch(fp16::contains)
                                && !graphOutputs.contains(in) && !subgraphReads.contains(in);
                        name = onlyFp16Readers ? in : Graphs.uniqueName(used, in + ".fp16");
                        used.add(name);
                        if (onlyFp16Readers) {
                            newInitializers.put(in, toHalf(initializers.get(in), in));
                            inPlace.add(in);
                        } else {
                            newInitializers.put(name, toHalf(initializers.get(in), name));
                        }
                        half.put(in, name);
                    }
                    b.addInput(name);
                } else {
                    String name = half.get(in);
                    if (name == null) {
                        name = Graphs.uniqueName(used, in + ".to_fp16");
                        used.add(name);
                        nodes.add(cast(in, name, FLOAT16, used));
                        half.put(in, name);
                    }
                    b.addInput(name);
                }
            }
            List<String> castBack = new ArrayList<>();
            for (String out : n.getOutputList()) {
                if (!fp16Outputs.contains(out)) {
                    b.addOutput(out);
                    continue;
                }
                String name = Graphs.uniqueName(used, out + ".fp16");
                used.add(name);
                half.put(out, name);
                b.addOutput(name);
                boolean float32Readers = consumers.getOrDefault(out, List.of()).stream().anyMatch(c -> !fp16.contains(c))
                        || graphOutputs.contains(out) || subgraphReads.contains(out);
                if (float32Readers) {
                    castBack.add(out);
                }
            }
            nodes.add(b.build());
            for (String out : castBack) {
                nodes.add(cast(half.get(out), out, FLOAT, used));
            }
        }

        Set<String> produced = new HashSet<>(graphInputs);
        nodes.forEach(n -> produced.addAll(n.getOutputList()));
        produced.addAll(newInitializers.keySet());
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearNode().addAllNode(nodes).clearInitializer()
                .addAllInitializer(newInitializers.values()).clearValueInfo();
        // value_info of tensors that changed type or vanished would mislead the runtime (an FP16 output cast back keeps its
        // float32 name and type)
        graph.getValueInfoList().stream().filter(v -> produced.contains(v.getName()) && !inPlace.contains(v.getName()))
                .forEach(g::addValueInfo);
        return new Result(model.toBuilder().setGraph(g).build(), new ArrayList<>(decided.values()));
    }

    /**
     * A float op (ReLU6's Clip, MaxPool, Reshape…) that reads only dequantized values and feeds only quantizers: ONNX
     * Runtime fuses it into the int8 chain, and Casts around it would break that.
     */
    private static boolean betweenQdq(OnnxMl.NodeProto n, Map<String, OnnxMl.NodeProto> producers,
                                      Map<String, List<OnnxMl.NodeProto>> consumers) {
        OnnxMl.NodeProto first = n.getInputCount() == 0 ? null : producers.get(n.getInput(0));
        if (first == null || !first.getOpType().equals("DequantizeLinear")) {
            return false;
        }
        List<OnnxMl.NodeProto> readers = new ArrayList<>();
        n.getOutputList().forEach(o -> readers.addAll(consumers.getOrDefault(o, List.of())));
        return !readers.isEmpty() && readers.stream().allMatch(r -> r.getOpType().equals("QuantizeLinear"));
    }

    private static NodePrecision decide(OnnxMl.NodeProto n, Set<String> int8Nodes, Predicate<String> wantsFp16,
                                        Map<String, Double> absMax, Map<String, OnnxMl.TypeProto.Tensor> types,
                                        Map<String, OnnxMl.TensorProto> initializers) {
        String name = n.getName();
        if (int8Nodes.contains(name)) {
            return new NodePrecision(name, n.getOpType(), Precision.INT8, "quantized (Q/DQ)");
        }
        if (!wantsFp16.test(name)) {
            return new NodePrecision(name, n.getOpType(), Precision.FP32, "kept float (floatPrecision fp32)");
        }
        switch (OpRegistry.fp16(n)) {
            case NEEDS_FP32 -> {
                return fp32(n, n.getOpType() + " needs FP32 (reduction, exponential or normalization)");
            }
            case UNKNOWN -> {
                return fp32(n, "no FP16 rule for " + (Graphs.isDefaultDomain(n.getDomain()) ? "" : n.getDomain() + ".") + n.getOpType());
            }
            case CONVERT -> {
                // handled below
            }
        }
        double largest = 0;
        for (String out : n.getOutputList()) {
            if (out.isEmpty()) {
                continue;
            }
            int t = elemType(types, out);
            if (t == 0) {
                return fp32(n, "type of output '" + out + "' unknown");
            }
            if (t != FLOAT) {
                continue;
            }
            Double seen = absMax.get(out);
            if (seen == null) {
                return fp32(n, "range of output '" + out + "' not observed");
            }
            if (seen > DATA_MAX) {
                return fp32(n, String.format(Locale.ROOT, "output |x| up to %.4g exceeds %.0f (FP16 headroom)", seen, DATA_MAX));
            }
            largest = Math.max(largest, seen);
        }
        for (String in : n.getInputList()) {
            OnnxMl.TensorProto w = initializers.get(in);
            if (w != null && w.getDataType() == FLOAT) {
                for (float v : Graphs.floats(w)) {
                    if (Math.abs(v) > Half.MAX) {
                        return fp32(n, "weight '" + in + "' exceeds the FP16 range");
                    }
                }
            }
        }
        return new NodePrecision(name, n.getOpType(), Precision.FP16, String.format(Locale.ROOT, "observed |x| ≤ %.4g", largest));
    }

    private static NodePrecision fp32(OnnxMl.NodeProto n, String reason) {
        return new NodePrecision(n.getName(), n.getOpType(), Precision.FP32, reason);
    }

    private static int elemType(Map<String, OnnxMl.TypeProto.Tensor> types, String tensor) {
        OnnxMl.TypeProto.Tensor t = types.get(tensor);
        return t == null ? 0 : t.getElemType();
    }

    private static OnnxMl.NodeProto cast(String from, String to, int type, Set<String> used) {
        String name = Graphs.uniqueName(used, to + ".cast");
        used.add(name);
        return OnnxMl.NodeProto.newBuilder().setOpType("Cast").setName(name).addInput(from).addOutput(to)
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("to").setType(OnnxMl.AttributeProto.AttributeType.INT).setI(type))
                .build();
    }

    private static OnnxMl.TensorProto toHalf(OnnxMl.TensorProto t, String name) {
        float[] values = Graphs.floats(t);
        ByteBuffer raw = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putShort(Half.fromFloat(v));
        }
        return OnnxMl.TensorProto.newBuilder().setName(name).setDataType(FLOAT16).addAllDims(t.getDimsList())
                .setRawData(ByteString.copyFrom(raw.array())).build();
    }

    private static void collectSubgraphReads(OnnxMl.AttributeProto a, Set<String> out) {
        List<OnnxMl.GraphProto> graphs = new ArrayList<>(a.getGraphsList());
        if (a.hasG()) {
            graphs.add(a.getG());
        }
        for (OnnxMl.GraphProto g : graphs) {
            for (OnnxMl.NodeProto n : g.getNodeList()) {
                out.addAll(n.getInputList());
                n.getAttributeList().forEach(inner -> collectSubgraphReads(inner, out));
            }
        }
    }
}
