package dev.quantforge.quant.qdq;

import ai.onnx.proto.OnnxMl;

import java.util.List;

/** A written QDQ model and what happened to each quantizable node. */
public record QdqModel(OnnxMl.ModelProto model, List<QuantizedLayer> layers) {

    public QdqModel {
        layers = List.copyOf(layers);
    }
}
