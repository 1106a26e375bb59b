package dev.quantforge.platform;

/** An upload passed the configured size limit; nothing of it is kept. */
public class UploadTooLargeException extends RuntimeException {
    public UploadTooLargeException(String message) {
        super(message);
    }
}
