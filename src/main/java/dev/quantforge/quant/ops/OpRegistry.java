package dev.quantforge.quant.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.GraphIndex;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.ops.OpRule.NodeUse;
import dev.quantforge.quant.ops.OpRule.Role;

/**
 * The one place that knows how each ONNX op is quantized, in the spirit of ONNX Runtime's
 * {@code quantization/registry.py}: op type → {@link OpRule}. The planner, the QDQ writer, the model
 * inspector and submission-time checks all read it; adding an op is one entry here (plus its
 * conformance case in the tests).
 *
 * <p>Weight axes (per output channel): Conv axis 0 ([M, C/g, kH, kW]); ConvTranspose axis 1
 * ([C, M/g, kH, kW]); Gemm axis 0 when {@code transB=1} ([N, K]) else 1 ([K, N]); MatMul with a constant
 * B of shape [.., K, N] the last axis. A MatMul of two activations quantizes both; a MatMul with a
 * constant A quantizes A per tensor (its rows are output rows, not channels).
 */
public final class OpRegistry {

    private static final Map<String, OpRule> RULES = new LinkedHashMap<>();

    static {
        OpRule.OutputChannels convChannels = (node, dims, axis) -> dims[0];
        add(new OpRule("Conv", Role.WEIGHTED, OpRegistry::convUse, convChannels, OpRule.FloatOutputFuses.NEVER));
        add(new OpRule("ConvTranspose", Role.WEIGHTED, OpRegistry::convUse,
                (node, dims, axis) -> dims[1] * Graphs.intAttribute(node, "group", 1), OpRule.FloatOutputFuses.NEVER));
        OpRule.OutputChannels matrixChannels = (node, dims, axis) -> dims.length == 2 && axis != null ? dims[axis] : -1;
        add(new OpRule("Gemm", Role.WEIGHTED, OpRegistry::gemmUse, matrixChannels, OpRule.FloatOutputFuses.ALWAYS));
        // measured on e5-small-v2 (bench/RESULTS.md): without the output Q, 1.63× FP32 and pooled cosine 0.983; with it
        // (QLinearMatMul) 1.54× and 0.975. A 2-D MatMul + bias becomes a float Gemm in ONNX Runtime without the Q (mnist).
        add(new OpRule("MatMul", Role.WEIGHTED, OpRegistry::matMulUse, null, (n, ranks) -> ranks.getOrDefault(n.getInput(0), 2) >= 3));
        add(new OpRule("Add", Role.RESIDUAL_ADD, OpRegistry::residualAddUse, null, OpRule.FloatOutputFuses.NEVER));
        for (String op : List.of("Relu", "Clip", "MaxPool", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity")) {
            // Average pooling is not one: averaging clamped values differs from clamping the average
            add(new OpRule(op, Role.SCALE_PASS_THROUGH, null, null, OpRule.FloatOutputFuses.NEVER));
        }
    }

    private OpRegistry() {
    }

    private static void add(OpRule rule) {
        RULES.put(rule.opType(), rule);
    }

    /** The rule of a node's op, when the engine knows it (default ONNX domain only). */
    public static Optional<OpRule> of(OnnxMl.NodeProto node) {
        String domain = node.getDomain();
        if (!domain.isEmpty() && !domain.equals("ai.onnx")) {
            return Optional.empty();
        }
        return Optional.ofNullable(RULES.get(node.getOpType()));
    }

    public static boolean hasRole(OnnxMl.NodeProto node, Role role) {
        return of(node).map(r -> r.role() == role).orElse(false);
    }

    /** Op types with this role, sorted. */
    public static Set<String> opTypes(Role role) {
        Set<String> out = new TreeSet<>();
        RULES.values().stream().filter(r -> r.role() == role).forEach(r -> out.add(r.opType()));
        return out;
    }

    /** The op types a model must have for quantization to do anything (the weighted ones), for summaries and messages. */
    public static Set<String> quantizableOpTypes() {
        return opTypes(Role.WEIGHTED);
    }

    // ---------------------------------------------------------------- FP16 (what is not INT8)

    /** How a float op fares in FP16, in the spirit of ModelOpt's AutoCast. */
    public enum Fp16Policy {
        /** Runs in FP16 when its observed values fit (every float input and output of one type T). */
        CONVERT,
        /** Reductions, exponentials and normalizations: FP16 accumulation overflows or loses too much; kept FP32. */
        NEEDS_FP32,
        /** No FP16 rule for this op (e.g. an input that must stay float32, such as Resize's scales); kept FP32. */
        UNKNOWN
    }

    private static final Set<String> FP16_CONVERTIBLE = Set.of("Conv", "ConvTranspose", "MatMul", "Gemm", "Add", "Sub", "Mul",
            "Div", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Clip", "Elu", "Selu", "Softplus",
            "Erf", "Gelu", "Neg", "Abs", "Sqrt", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Concat",
            "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Gather", "Split", "Identity",
            "BatchNormalization", "Pad", "Max", "Min", "Sum", "Mean", "Expand", "Tile", "Where", "DepthToSpace", "SpaceToDepth");
    private static final Set<String> FP16_NEEDS_FP32 = Set.of("Softmax", "LogSoftmax", "LayerNormalization",
            "InstanceNormalization", "GroupNormalization", "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL1", "ReduceL2",
            "ReduceLogSum", "ReduceLogSumExp", "ReduceProd", "Exp", "Pow", "Log", "CumSum");

    /** The FP16 policy of a default-domain op type. */
    public static Fp16Policy fp16(OnnxMl.NodeProto node) {
        if (!Graphs.isDefaultDomain(node.getDomain())) {
            return Fp16Policy.UNKNOWN;
        }
        return FP16_CONVERTIBLE.contains(node.getOpType()) ? Fp16Policy.CONVERT
                : FP16_NEEDS_FP32.contains(node.getOpType()) ? Fp16Policy.NEEDS_FP32 : Fp16Policy.UNKNOWN;
    }

    // ---------------------------------------------------------------- per-op input rules

    private static NodeUse convUse(OnnxMl.NodeProto node, GraphIndex index) {
        List<String> in = node.getInputList();
        if (in.size() < 2) {
            return null;
        }
        if (!index.isInitializer(in.get(1)) || index.isConstant(in.get(0))) {
            return NodeUse.refused("weight is not an initializer");
        }
        String bias = in.size() > 2 && index.isInitializer(in.get(2)) ? in.get(2) : null;
        return new NodeUse(List.of(in.get(0)), in.get(1), node.getOpType().equals("Conv") ? 0 : 1, bias, null);
    }

    private static NodeUse gemmUse(OnnxMl.NodeProto node, GraphIndex index) {
        List<String> in = node.getInputList();
        List<String> acts = new ArrayList<>();
        String weight = null;
        Integer axis = null;
        if (!index.isConstant(in.get(0))) {
            acts.add(in.get(0));
        }
        if (index.isInitializer(in.get(1))) {
            weight = in.get(1);
            axis = Graphs.intAttribute(node, "transB", 0) == 1 ? 0 : 1;
        } else if (!index.isConstant(in.get(1))) {
            acts.add(in.get(1));
        }
        String bias = in.size() > 2 && weight != null && index.isInitializer(in.get(2)) ? in.get(2) : null;
        return acts.isEmpty() ? null : new NodeUse(acts, weight, axis, bias, null);
    }

    private static NodeUse matMulUse(OnnxMl.NodeProto node, GraphIndex index) {
        List<String> in = node.getInputList();
        boolean aConst = index.isConstant(in.get(0));
        boolean bConst = index.isConstant(in.get(1));
        if (aConst == bConst) {
            return aConst ? null : new NodeUse(List.of(in.get(0), in.get(1)), null, null, null, null);
        }
        if (bConst) {
            if (!index.isInitializer(in.get(1))) {
                return new NodeUse(List.of(in.get(0)), null, null, null, null);
            }
            int rank = index.initializers.get(in.get(1)).getDimsCount();
            return new NodeUse(List.of(in.get(0)), in.get(1), rank >= 2 ? rank - 1 : null, null, null);
        }
        return new NodeUse(List.of(in.get(1)), index.isInitializer(in.get(0)) ? in.get(0) : null, null, null, null);
    }

    private static NodeUse residualAddUse(OnnxMl.NodeProto node, GraphIndex index) {
        List<String> in = node.getInputList();
        if (in.size() != 2 || index.isConstant(in.get(0)) || index.isConstant(in.get(1))) {
            return null;
        }
        return new NodeUse(in.get(0).equals(in.get(1)) ? List.of(in.get(0)) : List.of(in.get(0), in.get(1)), null, null, null, null);
    }
}
