package dev.quantforge.compile;

/** A file trtexec wrote (layer info, profile, outputs) cannot be read as TensorRT writes it. */
public class EngineReportException extends RuntimeException {
    public EngineReportException(String message) {
        super(message);
    }
}
