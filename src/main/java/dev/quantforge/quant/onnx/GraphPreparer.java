package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.InvalidInputException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Makes an FP32 ONNX model ready for QDQ quantization:
 * <ol>
 *   <li>upgrades the default-domain opset to 13 when it is lower (per-channel QuantizeLinear needs
 *       13), with the ONNX version converter; the IR version becomes at least 7;</li>
 *   <li>removes initializers from {@code graph.input} (old exporters list them there, and ONNX Runtime
 *       then treats them as overridable inputs instead of constants);</li>
 *   <li>names every node with the {@link NodeNames} rule, so that the names in reports match the
 *       model summary;</li>
 *   <li>folds inference-mode BatchNormalization into the Conv that feeds it (when enabled; the Conv keeps
 *       its name).</li>
 * </ol>
 * The input proto is not modified. The result is deterministic for the same input.
 */
public final class GraphPreparer {

    public static final int TARGET_OPSET = 13;
    static final long MIN_IR_VERSION = 7;

    public PreparedModel prepare(OnnxMl.ModelProto model, PrepareOptions options) {
        if (!model.hasGraph()) {
            throw new InvalidInputException("the ONNX model has no graph");
        }
        List<String> steps = new ArrayList<>();
        OnnxMl.ModelProto current = upgradeOpset(model, steps);

        OnnxMl.GraphProto.Builder graph = current.getGraph().toBuilder();
        removeInitializerInputs(graph, steps);
        // named before folding: a node's name does not depend on whether BatchNorm is folded (QAT trains the
        // unfolded graph and quantizes the folded one), and generated names follow the original node order
        nameNodes(graph, steps);
        if (options.foldBatchNorm()) {
            BatchNormFolder.fold(graph, steps);
        }
        return new PreparedModel(current.toBuilder().setGraph(graph).build(), steps);
    }

    public PreparedModel prepare(OnnxMl.ModelProto model) {
        return prepare(model, PrepareOptions.defaults());
    }

    private static OnnxMl.ModelProto upgradeOpset(OnnxMl.ModelProto model, List<String> steps) {
        Long opset = Graphs.defaultOpset(model);
        if (opset == null) {
            throw new InvalidInputException("the model imports no default-domain (ai.onnx) opset; "
                    + "QDQ quantization needs ai.onnx opset " + TARGET_OPSET + " or later");
        }
        OnnxMl.ModelProto current = model;
        if (opset < TARGET_OPSET) {
            current = OpsetConverter.convert(model, TARGET_OPSET);
            Long converted = Graphs.defaultOpset(current);
            if (converted == null || converted != TARGET_OPSET) {
                throw new InvalidInputException("the ONNX version converter did not reach opset " + TARGET_OPSET
                        + " (got " + converted + ")");
            }
            steps.add("opset " + opset + " → " + TARGET_OPSET);
        }
        if (current.getIrVersion() < MIN_IR_VERSION) {
            steps.add("IR version " + model.getIrVersion() + " → " + MIN_IR_VERSION);
            current = current.toBuilder().setIrVersion(MIN_IR_VERSION).build();
        }
        return current;
    }

    private static void removeInitializerInputs(OnnxMl.GraphProto.Builder graph, List<String> steps) {
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        List<OnnxMl.ValueInfoProto> kept = new ArrayList<>();
        int removed = 0;
        for (OnnxMl.ValueInfoProto input : graph.getInputList()) {
            if (initializers.contains(input.getName())) {
                removed++;
            } else {
                kept.add(input);
            }
        }
        if (removed > 0) {
            graph.clearInput().addAllInput(kept);
            steps.add("removed " + removed + " initializer" + (removed == 1 ? "" : "s") + " from graph inputs");
        }
    }

    private static void nameNodes(OnnxMl.GraphProto.Builder graph, List<String> steps) {
        List<String> names = NodeNames.of(graph.getNodeList());
        int unnamed = 0;
        int duplicates = 0;
        for (int i = 0; i < graph.getNodeCount(); i++) {
            String own = graph.getNode(i).getName();
            if (!own.equals(names.get(i))) {
                if (own.isEmpty()) {
                    unnamed++;
                } else {
                    duplicates++;
                }
                graph.setNode(i, graph.getNode(i).toBuilder().setName(names.get(i)));
            }
        }
        if (unnamed > 0) {
            steps.add("named " + unnamed + " unnamed node" + (unnamed == 1 ? "" : "s"));
        }
        if (duplicates > 0) {
            steps.add("renamed " + duplicates + " node" + (duplicates == 1 ? "" : "s") + " with duplicate names");
        }
    }
}
