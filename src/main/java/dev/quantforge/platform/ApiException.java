package dev.quantforge.platform;

import java.util.List;

import org.springframework.http.HttpStatus;

/**
 * A request the service refuses, with a detail written for the user (what to fix).
 * Rendered as application/problem+json by {@link ProblemHandler}.
 */
public class ApiException extends RuntimeException {

    private final HttpStatus status;
    private final String title;
    private final List<FieldError> errors;

    public ApiException(HttpStatus status, String title, String detail, List<FieldError> errors) {
        super(detail);
        this.status = status;
        this.title = title;
        this.errors = errors == null ? List.of() : List.copyOf(errors);
    }

    public static ApiException notFound(String what, Object id) {
        return new ApiException(HttpStatus.NOT_FOUND, "Not found", what + " " + id + " does not exist", null);
    }

    /**
     * 404 for a resource that was deleted: its record is kept only so that the jobs that used it keep
     * its id, and the detail says so.
     */
    public static ApiException deleted(String what, Object id, String name, java.time.Instant deletedAt) {
        return new ApiException(HttpStatus.NOT_FOUND, "Not found", what + " " + id + " (" + name + ") was deleted at " + deletedAt
                + "; upload it again to use it (jobs that used it keep its id)", null);
    }

    public static ApiException badRequest(String detail) {
        return new ApiException(HttpStatus.BAD_REQUEST, "Bad request", detail, null);
    }

    public static ApiException invalid(List<FieldError> errors) {
        String detail = errors.size() == 1
                ? errors.get(0).field() + ": " + errors.get(0).message()
                : errors.size() + " invalid fields: " + String.join("; ", errors.stream().map(e -> e.field() + ": " + e.message()).toList());
        return new ApiException(HttpStatus.BAD_REQUEST, "Invalid request", detail, errors);
    }

    public static ApiException conflict(String detail) {
        return new ApiException(HttpStatus.CONFLICT, "Conflict", detail, null);
    }

    /** 422: the request is well-formed but contradicts an earlier one (e.g. a reused Idempotency-Key). */
    public static ApiException unprocessable(String title, String detail, List<FieldError> errors) {
        return new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, title, detail, errors);
    }

    public HttpStatus status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<FieldError> errors() {
        return errors;
    }

    /** One invalid field: a JSON path into the request ("config.evaluation.maxSamples") and what is wrong. */
    public record FieldError(String field, String message) {
    }
}
