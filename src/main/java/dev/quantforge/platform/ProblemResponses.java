package dev.quantforge.platform;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * problem+json written straight to a servlet response, for errors raised before Spring MVC's
 * {@link ProblemHandler} can see them (the security filter chain, the firewall, the container).
 * Same shape as {@link ProblemHandler}'s bodies.
 */
public final class ProblemResponses {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ProblemResponses() {
    }

    public static void write(HttpServletResponse response, HttpStatus status, String title, String detail) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.resetBuffer();
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setCharacterEncoding("UTF-8");
        response.getWriter().write(body(status.value(), title, detail));
        response.flushBuffer();
    }

    /** The JSON text of a problem. */
    public static String body(int status, String title, String detail) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "https://quantforge.dev/problems/" + status);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", ServerPaths.redact(detail));
        return JSON.writeValueAsString(body);
    }
}
