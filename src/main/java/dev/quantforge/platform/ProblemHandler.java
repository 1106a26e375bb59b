package dev.quantforge.platform;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MissingRequestHeaderException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.multipart.support.MissingServletRequestPartException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

import dev.quantforge.quant.InvalidInputException;

/**
 * Turns every failure into application/problem+json (RFC 9457). Bad input is a 4xx whose
 * detail says what to fix; only a bug in the service is a 500 (logged with its stack trace).
 */
@RestControllerAdvice
public class ProblemHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(ApiException.class)
    ResponseEntity<ProblemDetail> api(ApiException e) {
        ResponseEntity<ProblemDetail> r = problem(e.status(), e.title(), e.getMessage(), e.errors());
        return e.status() == HttpStatus.SERVICE_UNAVAILABLE ? withRetryAfter(r) : r;
    }

    @ExceptionHandler(InvalidInputException.class)
    ResponseEntity<ProblemDetail> dataFormat(InvalidInputException e) {
        return problem(HttpStatus.BAD_REQUEST, "Invalid input", e.getMessage(), List.of());
    }

    @ExceptionHandler(UploadTooLargeException.class)
    ResponseEntity<ProblemDetail> tooLarge(UploadTooLargeException e) {
        return problem(HttpStatus.CONTENT_TOO_LARGE, "Upload too large", e.getMessage(), List.of());
    }

    @ExceptionHandler(MaxUploadSizeExceededException.class)
    ResponseEntity<ProblemDetail> tooLarge(MaxUploadSizeExceededException e) {
        return problem(HttpStatus.CONTENT_TOO_LARGE, "Upload too large",
                "the upload is larger than the limit (QF_UPLOAD_MAX_BYTES); upload a smaller file or raise the limit", List.of());
    }

    @ExceptionHandler({MissingServletRequestPartException.class, MultipartException.class})
    ResponseEntity<ProblemDetail> multipart(Exception e) {
        return problem(HttpStatus.BAD_REQUEST, "Bad request",
                "send the file as multipart/form-data with a part named 'file' (" + e.getMessage() + ")", List.of());
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<ProblemDetail> unreadable(HttpMessageNotReadableException e) {
        String cause = e.getMostSpecificCause().getMessage();
        if (cause != null && cause.length() > 300) {
            cause = cause.substring(0, 300) + "...";
        }
        return problem(HttpStatus.BAD_REQUEST, "Malformed JSON", "the request body is not valid JSON for this endpoint: " + cause, List.of());
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> typeMismatch(MethodArgumentTypeMismatchException e) {
        Class<?> type = e.getRequiredType();
        String expected = type == null ? "" : switch (type.getSimpleName()) {
            case "UUID" -> " (expected a UUID)";
            case "int", "Integer" -> " (expected an integer between " + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE + ")";
            case "long", "Long" -> " (expected an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + ")";
            case "boolean", "Boolean" -> " (expected true or false)";
            default -> "";
        };
        String value = String.valueOf(e.getValue());
        return problem(HttpStatus.BAD_REQUEST, "Bad request",
                "'" + (value.length() > 100 ? value.substring(0, 100) + "..." : value) + "' is not a valid value for '" + e.getName() + "'"
                        + expected,
                List.of(new ApiException.FieldError(e.getName(), "invalid value" + expected)));
    }

    @ExceptionHandler({MissingServletRequestParameterException.class, MissingRequestHeaderException.class})
    ResponseEntity<ProblemDetail> missing(Exception e) {
        return problem(HttpStatus.BAD_REQUEST, "Bad request", e.getMessage(), List.of());
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<ProblemDetail> mediaType(HttpMediaTypeNotSupportedException e) {
        return problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", e.getMessage(), List.of());
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<ProblemDetail> method(HttpRequestMethodNotSupportedException e) {
        return problem(HttpStatus.METHOD_NOT_ALLOWED, "Method not allowed", e.getMessage(), List.of());
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<ProblemDetail> noResource(NoResourceFoundException e) {
        return problem(HttpStatus.NOT_FOUND, "Not found", "no such endpoint: /" + e.getResourcePath(), List.of());
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) {
        Optional<DependencyUnavailableException> outage = DependencyUnavailableException.of(e);
        if (outage.isPresent()) {
            return unavailable(outage.get());
        }
        if (e instanceof org.springframework.web.ErrorResponse er && er.getStatusCode().is4xxClientError()) {
            // any other Spring MVC client error (406, 415, ...): keep its status and detail
            ProblemDetail body = er.getBody();
            return problem(er.getStatusCode(), body.getTitle() == null ? "Bad request" : body.getTitle(),
                    body.getDetail() == null ? e.getMessage() : body.getDetail(), List.of());
        }
        log.error("Unexpected error", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error",
                "the service failed unexpectedly (" + e.getClass().getSimpleName() + "); the error was logged", List.of());
    }

    /** 503 with Retry-After: the request may be sent again as it is (the cause is logged, not shown). */
    static ResponseEntity<ProblemDetail> unavailable(DependencyUnavailableException e) {
        log.warn("503: {} is unavailable: {}", e.dependency(), e.getMessage());
        ResponseEntity<ProblemDetail> r = problem(HttpStatus.SERVICE_UNAVAILABLE, "Service unavailable", e.dependency()
                + " is unavailable right now; retry the request after " + DependencyUnavailableException.RETRY_AFTER_SECONDS
                + " s (a job submission with the same Idempotency-Key is never created twice)", List.of());
        return withRetryAfter(r);
    }

    /** Every 503 of the service says when to come back. */
    private static ResponseEntity<ProblemDetail> withRetryAfter(ResponseEntity<ProblemDetail> r) {
        return ResponseEntity.status(r.getStatusCode()).headers(r.getHeaders())
                .header(HttpHeaders.RETRY_AFTER, String.valueOf(DependencyUnavailableException.RETRY_AFTER_SECONDS)).body(r.getBody());
    }

    static ResponseEntity<ProblemDetail> problem(HttpStatusCode status, String title, String detail, List<ApiException.FieldError> errors) {
        String shown = ServerPaths.redact(detail);
        if (shown != null && !shown.equals(detail)) {
            log.info("refused with {}: {}", status.value(), detail);
        }
        ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, shown);
        pd.setTitle(title);
        pd.setType(URI.create("https://quantforge.dev/problems/" + status.value()));
        if (!errors.isEmpty()) {
            pd.setProperty("errors", errors.stream().map(fe -> Map.of("field", fe.field(), "message", ServerPaths.redact(fe.message()))).toList());
        }
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(pd);
    }
}
