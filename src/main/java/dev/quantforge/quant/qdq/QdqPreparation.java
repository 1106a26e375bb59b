package dev.quantforge.quant.qdq;

import dev.quantforge.quant.onnx.Graphs;
import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Constant folding that Q/DQ placement needs, on an FP32 model, before {@link QdqPlanner#plan}:
 * <ol>
 *   <li>Constant nodes with a tensor value become initializers.</li>
 *   <li>Initializers listed as graph inputs (IR &lt; 4 style) are dropped from the inputs when
 *       ir_version ≥ 4 — otherwise ONNX Runtime treats them as overridable, non-constant, and will not fuse.</li>
 *   <li>Reshape(initializer, constant shape) becomes an initializer (mnist-8 reshapes its MatMul weight).</li>
 *   <li>Conv → Add(per-channel constant) folds the Add into the Conv bias (CNTK exports, mnist-8): ONNX Runtime
 *       fuses {@code DQ → Conv → Q} only when the bias is inside the Conv.</li>
 * </ol>
 * Node names of the surviving nodes are kept; folded nodes disappear.
 */
public final class QdqPreparation {

    private QdqPreparation() {
    }

    public static OnnxMl.ModelProto apply(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto.Builder g = model.getGraph().toBuilder();
        Map<String, OnnxMl.TensorProto> inits = new LinkedHashMap<>();
        g.getInitializerList().forEach(t -> inits.put(t.getName(), t));
        List<OnnxMl.NodeProto> nodes = new ArrayList<>(g.getNodeList());
        Set<String> outputs = new HashSet<>();
        g.getOutputList().forEach(o -> outputs.add(o.getName()));

        // 1. Constant nodes
        for (int i = nodes.size() - 1; i >= 0; i--) {
            OnnxMl.NodeProto n = nodes.get(i);
            if (n.getOpType().equals("Constant") && n.getDomain().isEmpty() && n.getAttributeCount() == 1
                    && n.getAttribute(0).getName().equals("value") && !outputs.contains(n.getOutput(0))) {
                inits.put(n.getOutput(0), n.getAttribute(0).getT().toBuilder().setName(n.getOutput(0)).build());
                nodes.remove(i);
            }
        }
        // 3. Reshape of an initializer
        for (int i = 0; i < nodes.size(); i++) {
            OnnxMl.NodeProto n = nodes.get(i);
            if (n.getOpType().equals("Reshape") && n.getInputCount() == 2 && inits.containsKey(n.getInput(0))
                    && inits.containsKey(n.getInput(1)) && !outputs.contains(n.getOutput(0))
                    && inits.get(n.getInput(0)).getDataType() == Graphs.FLOAT) {
                OnnxMl.TensorProto data = inits.get(n.getInput(0));
                long[] shape = Graphs.longs(inits.get(n.getInput(1)));
                long total = Graphs.elementCount(data);
                long known = 1;
                int unknown = -1;
                for (int d = 0; d < shape.length; d++) {
                    if (shape[d] == 0) {
                        shape[d] = data.getDims(d);
                    }
                    if (shape[d] == -1) {
                        unknown = d;
                    } else {
                        known *= shape[d];
                    }
                }
                if (unknown >= 0) {
                    shape[unknown] = total / known;
                }
                inits.put(n.getOutput(0), Graphs.floatTensor(n.getOutput(0), shape, Graphs.floats(data)));
                nodes.remove(i--);
            }
        }
        // 4. Conv + Add(bias)
        for (int i = 0; i < nodes.size(); i++) {
            OnnxMl.NodeProto conv = nodes.get(i);
            if (!conv.getOpType().equals("Conv") || conv.getInputCount() < 2 || !inits.containsKey(conv.getInput(1))
                    || outputs.contains(conv.getOutput(0))) {
                continue;
            }
            String y = conv.getOutput(0);
            List<Integer> users = new ArrayList<>();
            for (int j = 0; j < nodes.size(); j++) {
                if (nodes.get(j).getInputList().contains(y)) {
                    users.add(j);
                }
            }
            if (users.size() != 1) {
                continue;
            }
            OnnxMl.NodeProto add = nodes.get(users.get(0));
            if (!add.getOpType().equals("Add") || add.getInputCount() != 2) {
                continue;
            }
            String other = add.getInput(0).equals(y) ? add.getInput(1) : add.getInput(0);
            OnnxMl.TensorProto c = inits.get(other);
            OnnxMl.TensorProto w = inits.get(conv.getInput(1));
            if (c == null || c.getDataType() != Graphs.FLOAT || other.equals(y)) {
                continue;
            }
            long m = w.getDims(0);
            int rank = w.getDimsCount(); // output rank
            if (Graphs.elementCount(c) != m || !perChannel(c.getDimsList(), rank, m)) {
                continue;
            }
            float[] add0 = Graphs.floats(c);
            float[] bias = new float[(int) m];
            if (conv.getInputCount() > 2 && !conv.getInput(2).isEmpty()) {
                OnnxMl.TensorProto b = inits.get(conv.getInput(2));
                if (b == null) {
                    continue;
                }
                bias = Graphs.floats(b);
            }
            for (int k = 0; k < m; k++) {
                bias[k] += add0[k];
            }
            String biasName = unique(conv.getName().isEmpty() ? y : conv.getName(), "_bias", inits, nodes);
            inits.put(biasName, Graphs.floatTensor(biasName, new long[] {m}, bias));
            OnnxMl.NodeProto.Builder nb = conv.toBuilder().setOutput(0, add.getOutput(0));
            if (nb.getInputCount() > 2) {
                nb.setInput(2, biasName);
            } else {
                nb.addInput(biasName);
            }
            nodes.set(i, nb.build());
            nodes.remove((int) users.get(0));
            if (users.get(0) < i) {
                i--;
            }
        }
        // drop unused initializers, and initializers as graph inputs
        Set<String> read = new HashSet<>(outputs);
        nodes.forEach(n -> read.addAll(n.getInputList()));
        g.clearNode().addAllNode(nodes).clearInitializer();
        inits.values().stream().filter(t -> read.contains(t.getName())).forEach(g::addInitializer);
        if (model.getIrVersion() >= 4) {
            List<OnnxMl.ValueInfoProto> inputs = g.getInputList().stream().filter(v -> !inits.containsKey(v.getName())).toList();
            g.clearInput().addAllInput(inputs);
        }
        Set<String> produced = new HashSet<>();
        nodes.forEach(n -> produced.addAll(n.getOutputList()));
        List<OnnxMl.ValueInfoProto> vi = g.getValueInfoList().stream().filter(v -> produced.contains(v.getName())).toList();
        g.clearValueInfo().addAllValueInfo(vi);
        return model.toBuilder().setGraph(g).build();
    }

    /** A constant of shape [M], [M,1,..] or [1,M,1,..] that broadcasts along the channel axis of an NC... output. */
    private static boolean perChannel(List<Long> dims, int outRank, long m) {
        if (dims.size() > outRank) {
            return false;
        }
        // right-align against [N, M, spatial...]
        int offset = outRank - dims.size();
        for (int d = 0; d < dims.size(); d++) {
            int outAxis = d + offset;
            long expected = outAxis == 1 ? m : 1;
            if (dims.get(d) != expected) {
                return false;
            }
        }
        return offset <= 1 || m == 1;
    }

    private static String unique(String base, String suffix, Map<String, OnnxMl.TensorProto> inits, List<OnnxMl.NodeProto> nodes) {
        Set<String> used = new HashSet<>(inits.keySet());
        nodes.forEach(n -> {
            used.addAll(n.getInputList());
            used.addAll(n.getOutputList());
        });
        String candidate = base + suffix;
        for (int k = 1; used.contains(candidate); k++) {
            candidate = base + suffix + "_" + k;
        }
        return candidate;
    }
}
