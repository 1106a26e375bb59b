package dev.quantforge.quant.qdq;

import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.GraphIndex;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.onnx.NameAllocator;
import dev.quantforge.quant.onnx.NodeNames;
import dev.quantforge.quant.ops.OpRegistry;
import dev.quantforge.quant.ops.OpRule;
import dev.quantforge.quant.qdq.QdqPlan.PlannedNode;
import dev.quantforge.quant.qdq.QuantizationSettings.ActivationType;
import dev.quantforge.quant.qdq.QuantizedLayer.ActivationQuant;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes an explicit QDQ model from a prepared FP32 model (default-domain opset ≥ 13, unique node
 * names, BatchNorm folded) and a {@link QdqPlan}.
 *
 * <ul>
 *   <li>Activations: one QuantizeLinear → DequantizeLinear pair per tensor, inserted right after its
 *       producer (or first, for graph inputs), shared by every quantized consumer; only quantized
 *       consumers (and, in UINT8 mode, the ops of a fusion chain, see {@link QdqPlanner}) are rewired,
 *       other consumers and graph outputs keep the float tensor.
 *       INT8_SYMMETRIC: scale = amax/127, zero point 0 (int8). UINT8_ASYMMETRIC: the range is widened to
 *       contain 0, scale = (max-min)/255, zero point = round(-min/scale) in [0,255] (uint8).
 *       A degenerate range (amax ≈ 0, a tensor that was constant zero in calibration) is widened to
 *       magnitude 1: zero stays exact, and an int32 bias scale derived from it cannot overflow.</li>
 *   <li>Weights: symmetric int8 in [-127,127] ([-64,64] with {@code reduceRangeWeights}), per output channel ({@code axis} on the DequantizeLinear)
 *       or per tensor, stored as {@code <w>_quantized} with {@code <w>_scale}/{@code <w>_zero_point};
 *       a channel that is all zeros gets scale 1. The float initializer is removed when nothing else uses it.</li>
 *   <li>Bias (Conv, ConvTranspose, Gemm with a 1-D bias) in UINT8_ASYMMETRIC mode: int32, scale =
 *       input scale × weight scale, zero point 0, via a DequantizeLinear (axis 0) — ONNX Runtime fuses to
 *       QLinearConv/QGemm only with it. In INT8_SYMMETRIC mode the bias stays float (TensorRT's rule).</li>
 * </ul>
 */
public final class QdqWriter {

    private QdqWriter() {
    }

    /** Scale and zero point of one activation tensor. */
    record Params(float scale, int zeroPoint, TensorRange range) {
    }

    public static QdqModel write(OnnxMl.ModelProto prepared, QdqPlan plan, Map<String, TensorRange> activationRanges,
                                 QuantizationSettings settings) {
        long opset = prepared.getOpsetImportList().stream()
                .filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(OnnxMl.OperatorSetIdProto::getVersion).max().orElse(0);
        if (opset < 13) {
            throw new IllegalArgumentException("the QDQ writer needs default-domain opset >= 13 (per-axis DequantizeLinear); the model has " + opset);
        }
        boolean uint8 = settings.activationType() == ActivationType.UINT8_ASYMMETRIC;
        OnnxMl.GraphProto graph = prepared.getGraph();
        GraphIndex index = new GraphIndex(graph);
        List<String> nodeNames = NodeNames.of(graph);
        Map<String, Integer> nodeByName = new HashMap<>();
        for (int i = 0; i < nodeNames.size(); i++) {
            nodeByName.put(nodeNames.get(i), i);
        }
        NameAllocator names = new NameAllocator(graph);

        // ---- activation parameters
        Map<String, Params> params = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : plan.quantizedTensors().entrySet()) {
            TensorRange range = activationRanges.get(e.getValue());
            if (range == null) {
                throw new IllegalArgumentException("no calibrated range for tensor '" + e.getValue() + "'");
            }
            params.put(e.getKey(), activationParams(range, uint8));
        }

        // ---- which consumers read the dequantized tensor
        Map<Integer, Map<Integer, String>> rewired = new HashMap<>(); // node → input position → new name
        Map<String, String> dequantizedName = new HashMap<>();
        List<OnnxMl.NodeProto> headNodes = new ArrayList<>();
        Map<Integer, List<OnnxMl.NodeProto>> afterNode = new HashMap<>();
        List<OnnxMl.TensorProto> newInitializers = new ArrayList<>();
        Set<Integer> quantizedNodeIdx = new HashSet<>();
        Map<Integer, PlannedNode> plannedByIdx = new HashMap<>();
        for (PlannedNode p : plan.nodes()) {
            Integer i = nodeByName.get(p.name());
            if (i == null) {
                throw new IllegalArgumentException("planned node '" + p.name() + "' is not in the model");
            }
            plannedByIdx.put(i, p);
            if (p.quantized()) {
                quantizedNodeIdx.add(i);
            }
        }
        int zpType = uint8 ? Graphs.UINT8 : Graphs.INT8;
        for (Map.Entry<String, Params> e : params.entrySet()) {
            String t = e.getKey();
            Params p = e.getValue();
            String scale = names.tensor(t + "_scale");
            String zp = names.tensor(t + "_zero_point");
            String q = names.tensor(t + "_quantized");
            String dq = names.tensor(t + "_dequantized");
            newInitializers.add(Graphs.floatTensor(scale, new long[0], new float[] {p.scale()}));
            newInitializers.add(Graphs.byteTensor(zp, zpType, new long[0], new int[] {p.zeroPoint()}));
            List<OnnxMl.NodeProto> pair = List.of(
                    node(names.node(t + "_QuantizeLinear"), "QuantizeLinear", List.of(t, scale, zp), q, null),
                    node(names.node(t + "_DequantizeLinear"), "DequantizeLinear", List.of(q, scale, zp), dq, null));
            Integer producer = index.producer.get(t);
            if (producer == null) {
                headNodes.addAll(pair);
            } else {
                afterNode.computeIfAbsent(producer, k -> new ArrayList<>()).addAll(pair);
            }
            dequantizedName.put(t, dq);
            // Tensors of a fusion chain (UINT8 mode) and outputs of quantized nodes read dequantized everywhere.
            boolean chainTensor = !plan.quantizedTensors().get(t).equals(t) || outputChain(t, index, graph, plan, quantizedNodeIdx);
            for (int c : index.consumersOf(t)) {
                PlannedNode pc = plannedByIdx.get(c);
                boolean rewire = chainTensor
                        || (pc != null && pc.quantized() && pc.activationInputs().contains(t));
                if (rewire) {
                    OnnxMl.NodeProto cn = graph.getNode(c);
                    // every position that reads it: Add(bias, MatMul_out) reads the quantized output at input 1, and a
                    // consumer left on the float tensor would give the producer two consumers and block ORT's fusion
                    for (int pos = 0; pos < cn.getInputCount(); pos++) {
                        if (cn.getInput(pos).equals(t)) {
                            rewired.computeIfAbsent(c, k -> new HashMap<>()).put(pos, dq);
                        }
                    }
                }
            }
        }

        // ---- weights and biases
        Map<String, WeightQuant> weightCache = new HashMap<>();
        Map<String, WeightQuant> weightOfNode = new HashMap<>();
        for (PlannedNode p : plan.quantizedNodes()) {
            if (p.weight() == null) {
                continue;
            }
            int i = nodeByName.get(p.name());
            OnnxMl.NodeProto n = graph.getNode(i);
            Integer axis = settings.weightsPerChannel() ? p.weightAxis() : null;
            String key = p.weight() + "|" + axis;
            WeightQuant wq = weightCache.get(key);
            if (wq == null) {
                wq = quantizeWeight(index.initializers.get(p.weight()), axis, settings.reduceRangeWeights() ? 64 : 127, names);
                weightCache.put(key, wq);
                newInitializers.addAll(wq.initializers);
                headNodes.add(wq.dequantize);
            }
            weightOfNode.put(p.name(), wq);
            int pos = n.getInputList().indexOf(p.weight());
            rewired.computeIfAbsent(i, k -> new HashMap<>()).put(pos, wq.output);

            if (uint8 && p.bias() != null && !p.activationInputs().isEmpty() && params.containsKey(p.activationInputs().get(0))) {
                float inScale = params.get(p.activationInputs().get(0)).scale();
                OnnxMl.TensorProto bias = index.initializers.get(p.bias());
                float[] b = Graphs.floats(bias);
                int channelDim = wq.axis == null ? -1 : (int) wq.dims[wq.axis];
                OpRule.OutputChannels channels = OpRegistry.of(n).map(OpRule::outputChannels).orElse(null);
                long outChannels = channels == null ? -1 : channels.of(n, wq.dims, p.weightAxis());
                if (bias.getDimsCount() == 1 && b.length == outChannels) {
                    float[] bScale = new float[wq.axis == null ? 1 : b.length];
                    for (int c = 0; c < bScale.length; c++) {
                        bScale[c] = inScale * wq.scales[wq.axis == null ? 0 : c % channelDim];
                    }
                    int[] qb = new int[b.length];
                    for (int c = 0; c < b.length; c++) {
                        double v = Math.rint(b[c] / (double) bScale[bScale.length == 1 ? 0 : c]);
                        qb[c] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
                    }
                    String qName = names.tensor(p.bias() + "_quantized");
                    String sName = names.tensor(p.bias() + "_scale");
                    String zName = names.tensor(p.bias() + "_zero_point");
                    String out = names.tensor(p.bias() + "_dequantized");
                    long[] sDims = bScale.length == 1 ? new long[0] : new long[] {bScale.length};
                    newInitializers.add(Graphs.int32Tensor(qName, new long[] {b.length}, qb));
                    newInitializers.add(Graphs.floatTensor(sName, sDims, bScale));
                    newInitializers.add(Graphs.int32Tensor(zName, sDims, new int[bScale.length]));
                    headNodes.add(node(names.node(p.bias() + "_DequantizeLinear"), "DequantizeLinear",
                            List.of(qName, sName, zName), out, bScale.length == 1 ? null : 0L));
                    rewired.computeIfAbsent(i, k -> new HashMap<>()).put(2, out);
                }
            }
        }

        // ---- assemble
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearNode();
        g.addAllNode(headNodes);
        for (int i = 0; i < graph.getNodeCount(); i++) {
            OnnxMl.NodeProto n = graph.getNode(i);
            Map<Integer, String> r = rewired.get(i);
            if (r != null) {
                OnnxMl.NodeProto.Builder nb = n.toBuilder();
                r.forEach(nb::setInput);
                n = nb.build();
            }
            g.addNode(n);
            g.addAllNode(afterNode.getOrDefault(i, List.of()));
        }
        g.addAllInitializer(newInitializers);
        // drop float initializers nothing reads any more
        Set<String> read = new HashSet<>();
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            read.addAll(n.getInputList());
        }
        g.getOutputList().forEach(o -> read.add(o.getName()));
        g.getInputList().forEach(o -> read.add(o.getName()));
        List<OnnxMl.TensorProto> kept = g.getInitializerList().stream().filter(t -> read.contains(t.getName())).toList();
        g.clearInitializer().addAllInitializer(kept);

        OnnxMl.ModelProto model = prepared.toBuilder().setGraph(g.build()).build();

        List<QuantizedLayer> layers = new ArrayList<>();
        for (PlannedNode p : plan.nodes()) {
            List<ActivationQuant> acts = new ArrayList<>();
            if (p.quantized()) {
                for (String t : p.activationInputs()) {
                    Params pr = params.get(t);
                    acts.add(new ActivationQuant(t, pr.scale(), pr.zeroPoint(), pr.range()));
                }
            }
            WeightQuant wq = weightOfNode.get(p.name());
            layers.add(new QuantizedLayer(p.name(), p.opType(), p.quantized(), p.reason(),
                    wq == null ? null : (wq.axis == null ? "per_tensor" : "per_channel"),
                    wq == null ? null : wq.amaxMax, wq == null ? 0 : wq.scales.length, acts));
        }
        return new QdqModel(model, layers);
    }

    private static boolean outputChain(String t, GraphIndex index, OnnxMl.GraphProto graph, QdqPlan plan, Set<Integer> quantizedNodes) {
        Integer p = index.producer.get(t);
        if (p == null) {
            return false;
        }
        OnnxMl.NodeProto n = graph.getNode(p);
        if (quantizedNodes.contains(p)) {
            return OpRegistry.hasRole(n, OpRule.Role.WEIGHTED);
        }
        return OpRegistry.hasRole(n, OpRule.Role.SCALE_PASS_THROUGH) && n.getInputCount() > 0
                && plan.quantizedTensors().get(t).equals(plan.quantizedTensors().get(n.getInput(0)));
    }

    static Params activationParams(TensorRange range, boolean uint8) {
        if (uint8) {
            double min = Math.min(range.min(), 0);
            double max = Math.max(range.max(), 0);
            if (max - min < 1e-30) {
                max = 1;
            }
            float scale = (float) ((max - min) / 255.0);
            long zp = Math.round(-min / scale);
            return new Params(scale, (int) Math.max(0, Math.min(255, zp)), range);
        }
        double amax = range.amax();
        if (amax < 1e-30) {
            amax = 1;
        }
        return new Params((float) (amax / 127.0), 0, range);
    }

    /** A quantized weight: its initializers, the DequantizeLinear node, scales. */
    private record WeightQuant(List<OnnxMl.TensorProto> initializers, OnnxMl.NodeProto dequantize, String output,
                               Integer axis, long[] dims, float[] scales, double amaxMax) {
    }

    private static WeightQuant quantizeWeight(OnnxMl.TensorProto w, Integer axis, int qmax, NameAllocator names) {
        long[] dims = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
        SymmetricWeights sw = SymmetricWeights.quantize(Graphs.floats(w), dims, axis, qmax);
        String base = w.getName();
        String qName = names.tensor(base + "_quantized");
        String sName = names.tensor(base + "_scale");
        String zName = names.tensor(base + "_zero_point");
        String out = names.tensor(base + "_dequantized");
        long[] sDims = sw.axis() == null ? new long[0] : new long[] {sw.channels()};
        List<OnnxMl.TensorProto> inits = List.of(
                Graphs.byteTensor(qName, Graphs.INT8, dims, sw.values()),
                Graphs.floatTensor(sName, sDims, sw.scales()),
                Graphs.byteTensor(zName, Graphs.INT8, sDims, new int[sw.channels()]));
        OnnxMl.NodeProto dq = node(names.node(base + "_DequantizeLinear"), "DequantizeLinear", List.of(qName, sName, zName), out,
                sw.axis() == null ? null : (long) sw.axis());
        return new WeightQuant(inits, dq, out, sw.axis(), dims, sw.scales(), sw.amaxMax());
    }

    private static OnnxMl.NodeProto node(String name, String op, List<String> inputs, String output, Long axis) {
        OnnxMl.NodeProto.Builder b = OnnxMl.NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(inputs).addOutput(output);
        if (axis != null) {
            b.addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis").setType(OnnxMl.AttributeProto.AttributeType.INT).setI(axis));
        }
        return b.build();
    }
}
