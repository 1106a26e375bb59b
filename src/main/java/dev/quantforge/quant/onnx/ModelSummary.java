package dev.quantforge.quant.onnx;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.TensorInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the service reports about an uploaded ONNX model (the Model fields of the API).
 *
 * @param opsetVersion  opset of the default ("" / "ai.onnx") domain; null when the model imports none
 * @param opsetImports  every imported domain → version (e.g. "ai.onnx.ml" → 1), "" for the default domain
 * @param producer      producer name and version ("CNTK 2.5.1"); null when the model does not say
 * @param inputs        real inputs: graph inputs that are not initializers
 * @param opTypes       op type → node count, most frequent first, ties by name
 * @param quantizableNodes Conv, ConvTranspose, Gemm and MatMul nodes of the default domain, in graph order,
 *                      named by {@link NodeNames}
 */
public record ModelSummary(long irVersion, Integer opsetVersion, Map<String, Long> opsetImports, String producer,
                           List<IoInfo> inputs, List<IoInfo> outputs, int nodeCount,
                           Map<String, Integer> opTypes, List<NodeRef> quantizableNodes) {

    /**
     * A model input or output. Unlike {@link TensorInfo} it can describe non-tensor values:
     * {@code elementType} is the API name of the tensor element type ("float32", "int64") for
     * tensors, or a type expression such as {@code "sequence<map<int64,float32>>"} for other
     * values; {@code shape} is null for non-tensors and for tensors of unknown rank. Shape entries
     * are Long (fixed), String (symbolic) or null (unknown), as in {@link TensorInfo}.
     */
    public record IoInfo(String name, String elementType, List<Object> shape) {

        public boolean isTensor() {
            return toTensorInfo() != null;
        }

        /** This value as an engine tensor, or null when it is not a tensor of a supported element type. */
        public TensorInfo toTensorInfo() {
            if (shape == null || elementType == null) {
                return null;
            }
            try {
                return new TensorInfo(name, ElementType.fromApiName(elementType), shape);
            } catch (IllegalArgumentException notAnElementType) {
                return null;
            }
        }
    }

    public record NodeRef(String name, String opType) {
    }

    /**
     * The inputs as engine tensors (for {@code InputBinding}); an input that is not a plain tensor
     * of a supported type cannot be fed from a dataset and is refused.
     */
    public List<TensorInfo> tensorInputs() {
        List<TensorInfo> tensors = new ArrayList<>();
        for (IoInfo input : inputs) {
            TensorInfo t = input.toTensorInfo();
            if (t == null) {
                throw new InvalidInputException("model input '" + input.name() + "' of type "
                        + input.elementType() + " cannot be fed from a dataset");
            }
            tensors.add(t);
        }
        return tensors;
    }
}
