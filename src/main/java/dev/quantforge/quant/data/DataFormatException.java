package dev.quantforge.quant.data;

/**
 * Input data or a model that cannot be used as given. The message is written for the user:
 * it says what is wrong and what to fix (it becomes the {@code detail} of a 400 response).
 */
public class InvalidInputException extends RuntimeException {

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
