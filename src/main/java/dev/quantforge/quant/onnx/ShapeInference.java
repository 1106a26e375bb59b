package dev.quantforge.quant.onnx;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnx.ModelProto;

import static org.bytedeco.onnx.global.onnx.ParseProtoFromBytes;

/**
 * ONNX's own shape and type inference (the C++ library through bytedeco), run on a copy of the model
 * without its bulk weights: only their dims matter, and small tensors (shapes, axes) keep their values.
 */
public final class ShapeInference {

    private ShapeInference() {
    }

    /**
     * The tensor type (element type and, where known, shape) of every tensor inference can tell: graph
     * inputs, value_info and outputs, by name. Empty where ONNX cannot parse or infer the model (callers
     * then work from the structure alone).
     */
    public static Map<String, OnnxMl.TypeProto.Tensor> tensorTypes(OnnxMl.ModelProto model) {
        byte[] bytes = model.toBuilder().setGraph(model.getGraph().toBuilder().clearInitializer()
                .addAllInitializer(model.getGraph().getInitializerList().stream().map(ShapeInference::withoutBulkData).toList())).build().toByteArray();
        Map<String, OnnxMl.TypeProto.Tensor> types = new HashMap<>();
        try (BytePointer in = new BytePointer(bytes); ModelProto source = new ModelProto()) {
            if (!ParseProtoFromBytes(source, in, bytes.length)) {
                return types;
            }
            // with data propagation: BERT exports compute their Reshape shapes from Shape/Gather/Concat at run time
            try (org.bytedeco.onnx.ShapeInferenceOptions options = new org.bytedeco.onnx.ShapeInferenceOptions(false, 0, true)) {
                org.bytedeco.onnx.global.onnx.InferShapes(source, org.bytedeco.onnx.OpSchemaRegistry.Instance(), options, null);
            }
            try (BytePointer serialized = source.SerializeAsString()) {
                CodedInputStream coded = CodedInputStream.newInstance(serialized.asByteBuffer());
                coded.setSizeLimit(Integer.MAX_VALUE);
                OnnxMl.GraphProto g = OnnxMl.ModelProto.parseFrom(coded).getGraph();
                for (var list : List.of(g.getInputList(), g.getValueInfoList(), g.getOutputList())) {
                    for (OnnxMl.ValueInfoProto v : list) {
                        if (v.getType().hasTensorType()) {
                            types.put(v.getName(), v.getType().getTensorType());
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no inference: the caller's structural fallback decides
        }
        for (OnnxMl.TensorProto t : model.getGraph().getInitializerList()) {
            types.putIfAbsent(t.getName(), OnnxMl.TypeProto.Tensor.newBuilder().setElemType(t.getDataType())
                    .setShape(shapeOf(t.getDimsList())).build());
        }
        return types;
    }

    /** The rank of every tensor whose shape inference knows, by name. */
    public static Map<String, Integer> ranks(OnnxMl.ModelProto model) {
        Map<String, Integer> ranks = new HashMap<>();
        tensorTypes(model).forEach((name, t) -> {
            if (t.hasShape()) {
                ranks.put(name, t.getShape().getDimCount());
            }
        });
        return ranks;
    }

    private static OnnxMl.TensorShapeProto shapeOf(List<Long> dims) {
        OnnxMl.TensorShapeProto.Builder b = OnnxMl.TensorShapeProto.newBuilder();
        dims.forEach(d -> b.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d)));
        return b.build();
    }

    /** Weights without their values (shape inference needs their dims; only small tensors such as shapes need values). */
    private static OnnxMl.TensorProto withoutBulkData(OnnxMl.TensorProto t) {
        long elements = t.getDimsList().stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b);
        return elements <= 64 ? t : t.toBuilder().clearRawData().clearFloatData().clearInt64Data().clearInt32Data().clearDoubleData().build();
    }
}
