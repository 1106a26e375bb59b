package dev.quantforge.quant.ops;

import java.util.List;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.GraphIndex;

/**
 * How the engine treats one ONNX op type when it quantizes (default domain). One entry in the
 * {@link OpRegistry}: the planner asks it which inputs of a node to quantize, the QDQ writer how many
 * output channels its bias has, the inspector and the submission checks whether it is quantizable.
 *
 * @param opType         the ONNX op type
 * @param role           what the op is to Q/DQ placement
 * @param uses           which inputs of a node are quantized (null for roles that quantize no input of their own)
 * @param outputChannels output channels of a node given its weight's dims (for the int32 bias); null when the op has no bias
 * @param floatOutputFuses ONNX Runtime fuses {@code DQ → op} without a Q after it into an integer kernel with a float
 *                       output (Gemm → QGemm; MatMul over 3-D or wider activations → MatMulIntegerToFloat, while a 2-D MatMul
 *                       + bias is turned into a float Gemm first and keeps its Q to become QLinearMatMul): no output Q
 *                       is added unless a quantized node reads the output anyway (Conv needs the Q to become QLinearConv)
 */
public record OpRule(String opType, Role role, QuantizedInputs uses, OutputChannels outputChannels, FloatOutputFuses floatOutputFuses) {

    /**
     * Whether ONNX Runtime fuses this node with dequantized inputs and a float output into an integer kernel (given the
     * ranks of the graph's tensors, {@link dev.quantforge.quant.onnx.Ranks}).
     */
    @FunctionalInterface
    public interface FloatOutputFuses {
        FloatOutputFuses NEVER = (node, ranks) -> false;
        FloatOutputFuses ALWAYS = (node, ranks) -> true;

        boolean test(OnnxMl.NodeProto node, java.util.Map<String, Integer> ranks);
    }

    /** What an op is to Q/DQ placement. */
    public enum Role {
        /**
         * A weight (initializer) and a fused int8 kernel (Conv, ConvTranspose, Gemm, MatMul): its activation
         * inputs and weight get Q/DQ; for ONNX Runtime CPU its output gets a Q too, since ONNX Runtime fuses
         * {@code DQ → op → Q} into QLinearConv/QGemm/QLinearMatMul only with it.
         */
        WEIGHTED,
        /** An Add of two activations (a residual connection): both inputs quantized when quantizeResidualAdd is on. */
        RESIDUAL_ADD,
        /**
         * {@code y = f(x)} with f monotone and value-selecting or clamping (Relu, Clip, MaxPool, Reshape...):
         * {@code Q(f(x)) = f(Q(x))} with shared parameters, so it carries its input's scale and ONNX Runtime can
         * drop the Q/DQ around it and run it on int8.
         */
        SCALE_PASS_THROUGH
    }

    /** Which inputs of one node are quantized, or null when this node is no candidate at all. */
    @FunctionalInterface
    public interface QuantizedInputs {
        NodeUse of(OnnxMl.NodeProto node, GraphIndex index);
    }

    /** Output channels of a node with a weight of {@code weightDims} quantized along {@code weightAxis} (-1: unknown). */
    @FunctionalInterface
    public interface OutputChannels {
        long of(OnnxMl.NodeProto node, long[] weightDims, Integer weightAxis);
    }

    /**
     * The inputs of one node that get Q/DQ.
     *
     * @param activationInputs activation tensors quantized per tensor
     * @param weight           the weight initializer (null: none)
     * @param weightAxis       the weight's output-channel axis for per-channel scales (null: per tensor only)
     * @param bias             a 1-D bias initializer the writer may turn into int32 (null: none)
     * @param notQuantizedWhy  non-null when the node is a candidate that cannot be quantized (shown in reports)
     */
    public record NodeUse(List<String> activationInputs, String weight, Integer weightAxis, String bias, String notQuantizedWhy) {

        public NodeUse {
            activationInputs = List.copyOf(activationInputs);
        }

        static NodeUse refused(String why) {
            return new NodeUse(List.of(), null, null, null, why);
        }
    }
}
