package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds inference-mode BatchNormalization into the Conv (or Gemm / 2-D MatMul, see {@link #foldIntoMatrix}) that
 * produces its input:
 * {@code W' = W · γ/√(σ²+ε)} per output channel and {@code b' = (b − μ) · γ/√(σ²+ε) + β}.
 * A BN is folded only when its input is the first output of a default-domain Conv that has no other
 * consumer and is not a graph output, its four parameters and the Conv's weight (and bias, if any) are
 * float initializers of matching size, and no training-mode output is used. The BN's output becomes
 * the Conv's output, so downstream names do not change. Grouped and depthwise Conv work the same way
 * (the weight's first axis is the output channel).
 */
final class BatchNormFolder {

    private BatchNormFolder() {
    }

    static void fold(OnnxMl.GraphProto.Builder graph, List<String> steps) {
        List<OnnxMl.NodeProto> nodes = new ArrayList<>(graph.getNodeList());
        Map<String, Integer> producers = Graphs.producers(nodes);
        Map<String, List<Integer>> consumers = Graphs.consumers(nodes);
        Map<String, OnnxMl.TensorProto> initializers = new LinkedHashMap<>();
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        Set<String> graphOutputs = new HashSet<>();
        graph.getOutputList().forEach(v -> graphOutputs.add(v.getName()));
        Set<String> graphInputs = new HashSet<>();
        graph.getInputList().forEach(v -> graphInputs.add(v.getName()));
        Set<String> usedNames = Graphs.allNames(graph.build());

        Set<Integer> removedNodes = new HashSet<>();
        Set<String> maybeUnused = new HashSet<>();
        Set<String> removedValues = new HashSet<>();
        int folded = 0;
        int foldedMatrix = 0;
        Map<String, Integer> ranks = null;
        for (int bnIndex = 0; bnIndex < nodes.size(); bnIndex++) {
            OnnxMl.NodeProto bn = nodes.get(bnIndex);
            if (!bn.getOpType().equals("BatchNormalization") || !Graphs.isDefaultDomain(bn.getDomain())
                    || bn.getInputCount() != 5 || !inferenceOnly(bn, consumers, graphOutputs)) {
                continue;
            }
            String x = bn.getInput(0);
            Integer convIndex = producers.get(x);
            if (convIndex == null || removedNodes.contains(convIndex)) {
                continue;
            }
            OnnxMl.NodeProto conv = nodes.get(convIndex);
            if (!Graphs.isDefaultDomain(conv.getDomain()) || !conv.getOutput(0).equals(x) || graphOutputs.contains(x)
                    || consumers.getOrDefault(x, List.of()).size() != 1 || conv.getInputCount() < 2) {
                continue;
            }
            if (conv.getOpType().equals("Gemm") || conv.getOpType().equals("MatMul")) {
                if (ranks == null) {
                    ranks = Ranks.of(graph.build());
                }
                OnnxMl.NodeProto gemm = foldIntoMatrix(conv, bn, initializers, graphInputs, consumers, usedNames, ranks);
                if (gemm != null) {
                    nodes.set(convIndex, gemm);
                    removedNodes.add(bnIndex);
                    removedValues.add(x);
                    for (int k = 1; k < 5; k++) {
                        maybeUnused.add(bn.getInput(k));
                    }
                    conv.getInputList().stream().skip(1).forEach(maybeUnused::add);
                    foldedMatrix++;
                }
                continue;
            }
            if (!conv.getOpType().equals("Conv")) {
                continue;
            }
            OnnxMl.TensorProto w = constant(initializers, graphInputs, conv.getInput(1));
            boolean hasBias = conv.getInputCount() > 2 && !conv.getInput(2).isEmpty();
            OnnxMl.TensorProto b = hasBias ? constant(initializers, graphInputs, conv.getInput(2)) : null;
            OnnxMl.TensorProto[] params = new OnnxMl.TensorProto[4];
            boolean ok = w != null && w.getDimsCount() >= 1 && (!hasBias || b != null);
            for (int k = 0; k < 4 && ok; k++) {
                params[k] = constant(initializers, graphInputs, bn.getInput(k + 1));
                ok = params[k] != null;
            }
            if (!ok) {
                continue;
            }
            int channels = Math.toIntExact(w.getDims(0));
            float[] gamma = Graphs.floats(params[0]);
            float[] beta = Graphs.floats(params[1]);
            float[] mean = Graphs.floats(params[2]);
            float[] var = Graphs.floats(params[3]);
            float[] bias = hasBias ? Graphs.floats(b) : new float[channels];
            if (gamma.length != channels || beta.length != channels || mean.length != channels
                    || var.length != channels || bias.length != channels) {
                continue;
            }
            double epsilon = Graphs.attribute(bn, "epsilon").map(a -> (double) a.getF()).orElse(1e-5);

            float[] weights = Graphs.floats(w);
            int perChannel = weights.length / channels;
            float[] newWeights = new float[weights.length];
            float[] newBias = new float[channels];
            for (int c = 0; c < channels; c++) {
                double s = gamma[c] / Math.sqrt((double) var[c] + epsilon);
                for (int j = 0; j < perChannel; j++) {
                    newWeights[c * perChannel + j] = (float) (weights[c * perChannel + j] * s);
                }
                newBias[c] = (float) ((bias[c] - (double) mean[c]) * s + beta[c]);
            }

            String weightName = replacement(conv.getInput(1), consumers, usedNames);
            String biasName = hasBias ? replacement(conv.getInput(2), consumers, usedNames)
                    : Graphs.uniqueName(usedNames, conv.getInput(1) + "_bias");
            initializers.put(weightName, Graphs.floatTensor(weightName, toArray(w.getDimsList()), newWeights));
            initializers.put(biasName, Graphs.floatTensor(biasName, new long[] {channels}, newBias));

            OnnxMl.NodeProto.Builder newConv = conv.toBuilder().clearInput()
                    .addInput(conv.getInput(0)).addInput(weightName).addInput(biasName)
                    .setOutput(0, bn.getOutput(0));
            nodes.set(convIndex, newConv.build());
            removedNodes.add(bnIndex);
            removedValues.add(x);
            for (int k = 1; k < 5; k++) {
                maybeUnused.add(bn.getInput(k));
            }
            maybeUnused.add(conv.getInput(1));
            if (hasBias) {
                maybeUnused.add(conv.getInput(2));
            }
            folded++;
        }
        if (folded + foldedMatrix == 0) {
            return;
        }

        List<OnnxMl.NodeProto> kept = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (!removedNodes.contains(i)) {
                kept.add(nodes.get(i));
            }
        }
        Set<String> stillUsed = new HashSet<>();
        kept.forEach(n -> stillUsed.addAll(n.getInputList()));
        graphOutputs.forEach(stillUsed::add);
        graphInputs.forEach(stillUsed::add);
        int removedInitializers = 0;
        List<OnnxMl.TensorProto> keptInitializers = new ArrayList<>();
        for (OnnxMl.TensorProto t : initializers.values()) {
            if (maybeUnused.contains(t.getName()) && !stillUsed.contains(t.getName())) {
                removedInitializers++;
            } else {
                keptInitializers.add(t);
            }
        }
        List<OnnxMl.ValueInfoProto> valueInfo = new ArrayList<>();
        for (OnnxMl.ValueInfoProto v : graph.getValueInfoList()) {
            if (!removedValues.contains(v.getName()) && !(maybeUnused.contains(v.getName()) && !stillUsed.contains(v.getName()))) {
                valueInfo.add(v);
            }
        }
        graph.clearNode().addAllNode(kept);
        graph.clearInitializer().addAllInitializer(keptInitializers);
        graph.clearValueInfo().addAllValueInfo(valueInfo);
        String into = foldedMatrix == 0 ? folded + " BatchNormalization into Conv"
                : folded == 0 ? foldedMatrix + " BatchNormalization into Gemm/MatMul"
                : (folded + foldedMatrix) + " BatchNormalization (" + folded + " into Conv, " + foldedMatrix + " into Gemm/MatMul)";
        steps.add("folded " + into + (removedInitializers > 0 ? " (removed " + removedInitializers + " unused initializers)" : ""));
    }

    /**
     * BN over the columns of a matrix product ({@code Y[N, M]}, BN axis 1 = M): the weight's column c and the bias are
     * scaled by {@code s = γ/√(σ²+ε)}, {@code C' = (β_gemm·C − μ)·s + β}. A MatMul (2-D activation, 2-D constant weight)
     * becomes the equivalent Gemm. Null when the shapes do not allow it.
     */
    private static OnnxMl.NodeProto foldIntoMatrix(OnnxMl.NodeProto mm, OnnxMl.NodeProto bn, Map<String, OnnxMl.TensorProto> initializers,
                                                   Set<String> graphInputs, Map<String, List<Integer>> consumers, Set<String> usedNames,
                                                   Map<String, Integer> ranks) {
        boolean gemm = mm.getOpType().equals("Gemm");
        if (!gemm && (mm.getInputCount() != 2 || ranks.getOrDefault(mm.getInput(0), -1) != 2)) {
            return null; // a MatMul over 3-D activations: BN's axis 1 is not its output column
        }
        if (gemm && Graphs.intAttribute(mm, "transA", 0) != 0 && ranks.getOrDefault(mm.getInput(0), 2) != 2) {
            return null;
        }
        OnnxMl.TensorProto w = constant(initializers, graphInputs, mm.getInput(1));
        if (w == null || w.getDimsCount() != 2) {
            return null;
        }
        boolean transB = gemm && Graphs.intAttribute(mm, "transB", 0) != 0;
        int rows = Math.toIntExact(w.getDims(0));
        int cols = Math.toIntExact(w.getDims(1));
        int channels = transB ? rows : cols;
        boolean hasBias = gemm && mm.getInputCount() > 2 && !mm.getInput(2).isEmpty();
        OnnxMl.TensorProto c = hasBias ? constant(initializers, graphInputs, mm.getInput(2)) : null;
        if (hasBias && (c == null || Graphs.elementCount(c) != channels)) {
            return null; // a scalar or [N, M] bias: not folded
        }
        OnnxMl.TensorProto[] params = new OnnxMl.TensorProto[4];
        for (int k = 0; k < 4; k++) {
            params[k] = constant(initializers, graphInputs, bn.getInput(k + 1));
            if (params[k] == null || Graphs.elementCount(params[k]) != channels) {
                return null;
            }
        }
        double epsilon = Graphs.attribute(bn, "epsilon").map(a -> (double) a.getF()).orElse(1e-5);
        float gemmBeta = gemm ? Graphs.attribute(mm, "beta").map(OnnxMl.AttributeProto::getF).orElse(1f) : 1f;
        float[] gamma = Graphs.floats(params[0]);
        float[] beta = Graphs.floats(params[1]);
        float[] mean = Graphs.floats(params[2]);
        float[] var = Graphs.floats(params[3]);
        float[] bias = hasBias ? Graphs.floats(c) : new float[channels];
        float[] weights = Graphs.floats(w);
        float[] newWeights = new float[weights.length];
        float[] newBias = new float[channels];
        for (int ch = 0; ch < channels; ch++) {
            double sc = gamma[ch] / Math.sqrt((double) var[ch] + epsilon);
            newBias[ch] = (float) ((gemmBeta * (double) bias[ch] - mean[ch]) * sc + beta[ch]);
            for (int j = 0; j < (transB ? cols : rows); j++) {
                int at = transB ? ch * cols + j : j * cols + ch;
                newWeights[at] = (float) (weights[at] * sc);
            }
        }
        String weightName = replacement(mm.getInput(1), consumers, usedNames);
        String biasName = hasBias ? replacement(mm.getInput(2), consumers, usedNames) : Graphs.uniqueName(usedNames, mm.getInput(1) + "_bias");
        initializers.put(weightName, Graphs.floatTensor(weightName, toArray(w.getDimsList()), newWeights));
        initializers.put(biasName, Graphs.floatTensor(biasName, new long[] {channels}, newBias));
        OnnxMl.NodeProto.Builder out = mm.toBuilder().setOpType("Gemm").clearInput().addInput(mm.getInput(0)).addInput(weightName)
                .addInput(biasName).setOutput(0, bn.getOutput(0));
        if (gemm) {
            out.clearAttribute();
            mm.getAttributeList().stream().filter(a -> !a.getName().equals("beta")).forEach(out::addAttribute);
        }
        return out.build();
    }

    /** Only the first output is used, and the node is not in training mode (opset 14+ attribute). */
    private static boolean inferenceOnly(OnnxMl.NodeProto bn, Map<String, List<Integer>> consumers, Set<String> graphOutputs) {
        if (Graphs.attribute(bn, "training_mode").map(a -> a.getI() != 0).orElse(false)) {
            return false;
        }
        if (Graphs.attribute(bn, "spatial").map(a -> a.getI() == 0).orElse(false)) {
            return false;
        }
        for (int k = 1; k < bn.getOutputCount(); k++) {
            String out = bn.getOutput(k);
            if (!out.isEmpty() && (consumers.containsKey(out) || graphOutputs.contains(out))) {
                return false;
            }
        }
        return bn.getOutputCount() >= 1 && !bn.getOutput(0).isEmpty();
    }

    /** A float32 initializer that is a real constant (not overridable as a graph input), else null. */
    private static OnnxMl.TensorProto constant(Map<String, OnnxMl.TensorProto> initializers, Set<String> graphInputs,
                                               String name) {
        OnnxMl.TensorProto t = initializers.get(name);
        if (t == null || graphInputs.contains(name) || t.getDataType() != 1
                || t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            return null;
        }
        return t;
    }

    /** The same name when only this Conv reads the tensor (rewritten in place), else a fresh name. */
    private static String replacement(String name, Map<String, List<Integer>> consumers, Set<String> usedNames) {
        if (consumers.getOrDefault(name, List.of()).size() == 1) {
            return name;
        }
        return Graphs.uniqueName(usedNames, name + "_folded");
    }

    private static long[] toArray(List<Long> dims) {
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
