package dev.quantforge.quant;

/**
 * The input cannot be used as given: a model, a dataset, or a configuration that contradicts them.
 * The message is written for the user — what is wrong and what to fix — and becomes the
 * {@code detail} of a 400 response, or the error of a job that fails without a retry (running it
 * again would fail the same way). Thrown by the engine, the dataset readers and config checks alike.
 */
public class InvalidInputException extends RuntimeException {

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
