package dev.quantforge.worker;

/**
 * A job failed in a way its handler understands: the job's error gets this {@code code} and message (what went
 * wrong and what to change), and it is requeued only when {@code retryable} (another attempt, perhaps on another
 * worker, may succeed: a GPU out of memory) — not when the same input would fail the same way (an unsupported op).
 */
public class JobFailedException extends RuntimeException {

    private final String code;
    private final boolean retryable;

    public JobFailedException(String code, String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.retryable = retryable;
    }

    public String code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }
}
