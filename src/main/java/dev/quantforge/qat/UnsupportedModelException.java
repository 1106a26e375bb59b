package dev.quantforge.qat;

/** The ONNX model uses an op, attribute or element type that {@link TrainableGraph} cannot train. */
public class UnsupportedModelException extends RuntimeException {

    public UnsupportedModelException(String message) {
        super(message);
    }
}
