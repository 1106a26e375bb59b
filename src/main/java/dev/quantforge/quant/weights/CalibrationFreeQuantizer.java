package dev.quantforge.quant.weights;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnx.proto.OnnxMl;

import dev.quantforge.quant.onnx.GraphIndex;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.NameAllocator;
import dev.quantforge.quant.onnx.NodeNames;
import dev.quantforge.quant.qdq.QdqModel;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QuantizedLayer;
import dev.quantforge.quant.qdq.SymmetricWeights;

/**
 * Quantization that needs no calibration set: the weights of MatMuls with a constant 2-D weight
 * [K, N] are quantized ahead, activations at run time or not at all.
 *
 * <ul>
 *   <li><b>dynamic</b> (ONNX Runtime's {@code quantize_dynamic} form, but weights per output column):
 *       {@code DynamicQuantizeLinear(A) → MatMulInteger(A_q, W_q, A_zp) → Cast → Mul(A_scale · W_scale)}. ONNX
 *       Runtime fuses the group into {@code DynamicQuantizeMatMul} (one uint8 quantization of A per MatMul) or
 *       {@code MatMulIntegerToFloat} when several MatMuls share A's quantization (Q, K and V).</li>
 *   <li><b>weight-only int4</b>: {@code MatMulNBits} (com.microsoft) with asymmetric 4-bit blocks of
 *       {@code blockSize} along K, each with its own scale and zero point; A stays float.</li>
 * </ul>
 * In both, large embedding tables (a {@code Gather} of a float initializer by token ids) are stored as uint8
 * and dequantized after the lookup — only the rows looked up are dequantized.
 */
public final class CalibrationFreeQuantizer {

    /** Embedding tables smaller than this stay float (position/type tables of a few rows gain nothing). */
    static final long MIN_EMBEDDING_ELEMENTS = 4096;
    private static final String MS_DOMAIN = "com.microsoft";

    private CalibrationFreeQuantizer() {
    }

    /**
     * @param plan            the nodes that may be rewritten: its quantized MatMuls with a 2-D weight
     * @param reduceRange     7-bit weights (CPUs without VNNI, whose u8×s8 kernels saturate)
     */
    public static QdqModel dynamic(OnnxMl.ModelProto fp32, QdqPlan plan, boolean reduceRange) {
        return rewrite(fp32, plan, new DynamicMatMul(reduceRange ? 64 : 127));
    }

    /**
     * @param blockSize     weights per scale along K (a power of two ≥ 16)
     * @param accuracyLevel MatMulNBits' {@code accuracy_level}: 4 lets ONNX Runtime quantize A to int8 per block
     */
    public static QdqModel weightOnly(OnnxMl.ModelProto fp32, QdqPlan plan, int blockSize, int accuracyLevel) {
        if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("blockSize must be a power of two >= 16, was " + blockSize);
        }
        return rewrite(fp32, plan, new Int4MatMul(blockSize, accuracyLevel));
    }

    /** How one MatMul(A, W) is replaced: the nodes and initializers that compute the same output. */
    private interface MatMulRewrite {
        Replacement rewrite(OnnxMl.NodeProto matMul, String activation, OnnxMl.TensorProto weight, NameAllocator names,
                            Map<String, String[]> quantizedActivations);

        String granularity();
    }

    /** The nodes replacing one node (in order) and their new initializers. */
    private record Replacement(List<OnnxMl.NodeProto> nodes, List<OnnxMl.TensorProto> initializers, double weightAmax, int channels) {
    }

    private static QdqModel rewrite(OnnxMl.ModelProto fp32, QdqPlan plan, MatMulRewrite how) {
        OnnxMl.GraphProto graph = fp32.getGraph();
        GraphIndex index = new GraphIndex(graph);
        List<String> nodeNames = NodeNames.of(graph);
        NameAllocator names = new NameAllocator(graph);
        Map<String, QdqPlan.PlannedNode> planned = new HashMap<>();
        plan.quantizedNodes().forEach(n -> planned.put(n.name(), n));

        Map<Integer, Replacement> replaced = new LinkedHashMap<>();
        Map<String, String[]> quantizedActivations = new HashMap<>();
        List<QuantizedLayer> layers = new ArrayList<>();
        Set<String> rewrittenNodes = new HashSet<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            OnnxMl.NodeProto n = graph.getNode(i);
            QdqPlan.PlannedNode p = planned.get(nodeNames.get(i));
            if (p == null || !n.getOpType().equals("MatMul") || p.weight() == null || !p.weight().equals(n.getInput(1))) {
                continue;
            }
            OnnxMl.TensorProto w = index.initializers.get(p.weight());
            if (w.getDimsCount() != 2 || w.getDataType() != Graphs.FLOAT) {
                continue;
            }
            Replacement r = how.rewrite(n, n.getInput(0), w, names, quantizedActivations);
            replaced.put(i, r);
            rewrittenNodes.add(nodeNames.get(i));
            layers.add(new QuantizedLayer(nodeNames.get(i), "MatMul", true, null, how.granularity(), r.weightAmax(), r.channels(), List.of()));
        }
        for (QdqPlan.PlannedNode p : plan.nodes()) {
            if (!rewrittenNodes.contains(p.name())) {
                layers.add(new QuantizedLayer(p.name(), p.opType(), false, p.quantized()
                        ? "not a MatMul with a constant 2-D weight: this mode quantizes only those" : p.reason(), null, null, 0, List.of()));
            }
        }
        embeddingLookups(graph, index, names, replaced);
        OnnxMl.ModelProto.Builder model = fp32.toBuilder().setGraph(apply(graph, replaced));
        if (model.getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals(MS_DOMAIN))) {
            model.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1));
        }
        return new QdqModel(model.build(), layers);
    }

    /**
     * {@code model} with its embedding tables (a large float initializer gathered by run-time ids) stored as uint8 and
     * dequantized after the lookup, as in the calibration-free modes: a static model's largest tensors are usually these.
     */
    public static OnnxMl.ModelProto withQuantizedEmbeddings(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto graph = model.getGraph();
        Map<Integer, Replacement> replaced = new LinkedHashMap<>();
        embeddingLookups(graph, new GraphIndex(graph), new NameAllocator(graph), replaced);
        return replaced.isEmpty() ? model : model.toBuilder().setGraph(apply(graph, replaced)).build();
    }

    private static void embeddingLookups(OnnxMl.GraphProto graph, GraphIndex index, NameAllocator names, Map<Integer, Replacement> replaced) {
        for (int i = 0; i < graph.getNodeCount(); i++) {
            OnnxMl.NodeProto n = graph.getNode(i);
            if (!replaced.containsKey(i) && isEmbeddingLookup(n, index)) {
                replaced.put(i, quantizedLookup(n, index.initializers.get(n.getInput(0)), names));
            }
        }
    }

    /** The graph with each replaced node's nodes and initializers in its place, and the float initializers nothing reads dropped. */
    private static OnnxMl.GraphProto apply(OnnxMl.GraphProto graph, Map<Integer, Replacement> replaced) {
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearNode();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            Replacement r = replaced.get(i);
            if (r == null) {
                g.addNode(graph.getNode(i));
            } else {
                g.addAllNode(r.nodes());
                g.addAllInitializer(r.initializers());
            }
        }
        Set<String> read = new HashSet<>();
        g.getNodeList().forEach(n -> read.addAll(n.getInputList()));
        g.getOutputList().forEach(o -> read.add(o.getName()));
        List<OnnxMl.TensorProto> kept = g.getInitializerList().stream().filter(t -> read.contains(t.getName())).toList();
        return g.clearInitializer().addAllInitializer(kept).build();
    }

    private static boolean isEmbeddingLookup(OnnxMl.NodeProto n, GraphIndex index) {
        if (!n.getOpType().equals("Gather") || !Graphs.isDefaultDomain(n.getDomain()) || n.getInputCount() != 2
                || Graphs.intAttribute(n, "axis", 0) != 0) {
            return false;
        }
        OnnxMl.TensorProto table = index.initializers.get(n.getInput(0));
        return table != null && table.getDataType() == Graphs.FLOAT && table.getDimsCount() == 2
                && Graphs.elementCount(table) >= MIN_EMBEDDING_ELEMENTS && !index.isConstant(n.getInput(1));
    }

    /**
     * Gather(table_u8, ids) → Cast → Sub(zero points) → Mul(scales): uint8, asymmetric per column (per hidden dimension),
     * each column's range containing 0. Per column because BERT-style embeddings have a few outlier dimensions: one scale
     * for the whole table cost e5 3 of 330 nearest neighbours (bench/RESULTS.md); per-column scales broadcast over the
     * gathered [.., hidden] rows with plain opset-11 ops (per-axis DequantizeLinear needs opset 13).
     */
    private static Replacement quantizedLookup(OnnxMl.NodeProto gather, OnnxMl.TensorProto table, NameAllocator names) {
        float[] v = Graphs.floats(table);
        int rows = (int) table.getDims(0);
        int cols = (int) table.getDims(1);
        float[] scale = new float[cols];
        float[] zero = new float[cols];
        double amax = 0;
        for (int c = 0; c < cols; c++) {
            double min = 0;
            double max = 0;
            for (int r = 0; r < rows; r++) {
                float x = v[r * cols + c];
                min = Math.min(min, x);
                max = Math.max(max, x);
            }
            amax = Math.max(amax, Math.max(-min, max));
            scale[c] = (float) (max - min > 1e-30 ? (max - min) / 255.0 : 1.0);
            zero[c] = (float) Math.max(0, Math.min(255, Math.round(-min / scale[c])));
        }
        int[] q = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            int c = i % cols;
            q[i] = (int) Math.max(0, Math.min(255, Math.rint(v[i] / scale[c]) + zero[c]));
        }
        String base = table.getName();
        String qName = names.tensor(base + "_quantized");
        String sName = names.tensor(base + "_scale");
        String zName = names.tensor(base + "_zero_point");
        String gathered = names.tensor(gather.getOutput(0) + "_quantized");
        String asFloat = names.tensor(gather.getOutput(0) + "_float");
        String centred = names.tensor(gather.getOutput(0) + "_centred");
        long[] dims = table.getDimsList().stream().mapToLong(Long::longValue).toArray();
        OnnxMl.NodeProto lookup = gather.toBuilder().setInput(0, qName).setOutput(0, gathered).build();
        OnnxMl.NodeProto cast = NameAllocator.node(names.node(gather.getName() + "_Cast"), "Cast", null, List.of(gathered), asFloat)
                .toBuilder().addAttribute(NameAllocator.intAttribute("to", Graphs.FLOAT)).build();
        OnnxMl.NodeProto sub = NameAllocator.node(names.node(gather.getName() + "_SubZeroPoint"), "Sub", null, List.of(asFloat, zName), centred);
        OnnxMl.NodeProto mul = NameAllocator.node(names.node(gather.getName() + "_MulScale"), "Mul", null, List.of(centred, sName),
                gather.getOutput(0));
        return new Replacement(List.of(lookup, cast, sub, mul), List.of(Graphs.byteTensor(qName, Graphs.UINT8, dims, q),
                Graphs.floatTensor(sName, new long[]{cols}, scale), Graphs.floatTensor(zName, new long[]{cols}, zero)), amax, cols);
    }

    /** int8 weights per output column, A quantized to uint8 at run time. */
    private record DynamicMatMul(int qmax) implements MatMulRewrite {
        @Override
        public Replacement rewrite(OnnxMl.NodeProto mm, String a, OnnxMl.TensorProto w, NameAllocator names,
                                   Map<String, String[]> quantizedActivations) {
            List<OnnxMl.NodeProto> nodes = new ArrayList<>();
            String[] aq = quantizedActivations.get(a);
            if (aq == null) {
                // the first MatMul reading A quantizes it; later readers (K and V after Q) share it
                aq = new String[]{names.tensor(a + "_quantized"), names.tensor(a + "_scale"), names.tensor(a + "_zero_point")};
                nodes.add(OnnxMl.NodeProto.newBuilder().setName(names.node(a + "_DynamicQuantizeLinear")).setOpType("DynamicQuantizeLinear")
                        .addInput(a).addOutput(aq[0]).addOutput(aq[1]).addOutput(aq[2]).build());
                quantizedActivations.put(a, aq);
            }
            long[] dims = {w.getDims(0), w.getDims(1)};
            SymmetricWeights sw = SymmetricWeights.quantize(Graphs.floats(w), dims, 1, qmax);
            String base = w.getName();
            String wq = names.tensor(base + "_quantized");
            String ws = names.tensor(base + "_scale");
            String scales = names.tensor(mm.getName() + "_scales");
            String integer = names.tensor(mm.getOutput(0) + "_int32");
            String asFloat = names.tensor(mm.getOutput(0) + "_int32_float");
            nodes.add(NameAllocator.node(names.node(mm.getName() + "_scales_mul"), "Mul", null, List.of(aq[1], ws), scales));
            nodes.add(NameAllocator.node(names.node(mm.getName() + "_quant"), "MatMulInteger", null, List.of(aq[0], wq, aq[2]), integer));
            nodes.add(NameAllocator.node(names.node(mm.getName() + "_cast"), "Cast", null, List.of(integer), asFloat).toBuilder()
                    .addAttribute(NameAllocator.intAttribute("to", Graphs.FLOAT)).build());
            nodes.add(NameAllocator.node(names.node(mm.getName() + "_output_scale_mul"), "Mul", null, List.of(asFloat, scales), mm.getOutput(0)));
            return new Replacement(nodes, List.of(Graphs.byteTensor(wq, Graphs.INT8, dims, sw.values()),
                    Graphs.floatTensor(ws, new long[]{sw.channels()}, sw.scales())), sw.amaxMax(), sw.channels());
        }

        @Override
        public String granularity() {
            return "per_channel";
        }
    }

    /** 4-bit asymmetric blocks along K, MatMulNBits. */
    private record Int4MatMul(int blockSize, int accuracyLevel) implements MatMulRewrite {
        @Override
        public Replacement rewrite(OnnxMl.NodeProto mm, String a, OnnxMl.TensorProto w, NameAllocator names,
                                   Map<String, String[]> quantizedActivations) {
            int k = Math.toIntExact(w.getDims(0));
            int n = Math.toIntExact(w.getDims(1));
            float[] v = Graphs.floats(w);
            int blocks = (k + blockSize - 1) / blockSize;
            int blob = blockSize / 2;
            int zpBytes = (blocks + 1) / 2;
            int[] packed = new int[n * blocks * blob];
            float[] scales = new float[n * blocks];
            int[] zps = new int[n * zpBytes];
            double amax = 0;
            int[] q = new int[blockSize];
            for (int col = 0; col < n; col++) {
                for (int b = 0; b < blocks; b++) {
                    double lo = 0;
                    double hi = 0;
                    for (int r = b * blockSize; r < Math.min(k, (b + 1) * blockSize); r++) {
                        float x = v[r * n + col];
                        lo = Math.min(lo, x);
                        hi = Math.max(hi, x);
                    }
                    amax = Math.max(amax, Math.max(-lo, hi));
                    float scale = (float) (hi - lo > 1e-30 ? (hi - lo) / 15.0 : 1.0);
                    int zp = (int) Math.max(0, Math.min(15, Math.round(-lo / scale)));
                    for (int j = 0; j < blockSize; j++) {
                        int r = b * blockSize + j;
                        q[j] = r < k ? (int) Math.max(0, Math.min(15, Math.rint(v[r * n + col] / scale) + zp)) : zp;
                    }
                    int at = (col * blocks + b) * blob;
                    for (int j = 0; j < blob; j++) {
                        packed[at + j] = q[2 * j] | (q[2 * j + 1] << 4);
                    }
                    scales[col * blocks + b] = scale;
                    zps[col * zpBytes + b / 2] |= b % 2 == 0 ? zp : zp << 4;
                }
            }
            String base = w.getName();
            String bName = names.tensor(base + "_int4");
            String sName = names.tensor(base + "_scales");
            String zName = names.tensor(base + "_zero_points");
            OnnxMl.NodeProto node = NameAllocator.node(names.node(mm.getName() + "_int4"), "MatMulNBits", MS_DOMAIN,
                    List.of(a, bName, sName, zName), mm.getOutput(0)).toBuilder()
                    .addAttribute(NameAllocator.intAttribute("K", k)).addAttribute(NameAllocator.intAttribute("N", n))
                    .addAttribute(NameAllocator.intAttribute("bits", 4)).addAttribute(NameAllocator.intAttribute("block_size", blockSize))
                    .addAttribute(NameAllocator.intAttribute("accuracy_level", accuracyLevel)).build();
            return new Replacement(List.of(node), List.of(Graphs.byteTensor(bName, Graphs.UINT8, new long[]{n, blocks, blob}, packed),
                    Graphs.floatTensor(sName, new long[]{(long) n * blocks}, scales),
                    Graphs.byteTensor(zName, Graphs.UINT8, new long[]{(long) n * zpBytes}, zps)), amax, n * blocks);
        }

        @Override
        public String granularity() {
            return "block" + blockSize;
        }
    }
}
