package dev.quantforge.quant.progress;

/** Thrown at a progress point when the work was asked to stop. */
public class CancelledException extends RuntimeException {
    public CancelledException(String message) {
        super(message);
    }
}
