package dev.quantforge.platform;

import java.io.IOException;

import org.apache.catalina.Host;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.boot.webmvc.error.ErrorController;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * problem+json also for what fails outside Spring MVC: Tomcat's own refusals (a malformed or
 * over-long request line, an encoded '/' or NUL in the path, bad headers) are rendered by the host's
 * error valve, and errors the container forwards to {@code /error} by {@link ProblemErrorController}
 * — never an HTML error page, and never a server path or stack trace.
 */
@Configuration(proxyBeanMethods = false)
public class ContainerErrors {

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> problemJsonErrorValve() {
        return factory -> factory.addContextCustomizers(context -> {
            if (context.getParent() instanceof Host host) {
                host.getPipeline().addValve(new ProblemJsonErrorValve());
                if (host instanceof StandardHost standard) {
                    // the host adds its default (HTML) ErrorReportValve only when none of this class is present
                    standard.setErrorReportValveClass(ProblemJsonErrorValve.class.getName());
                }
            }
        });
    }

    /** Tomcat's error report as problem+json. */
    public static class ProblemJsonErrorValve extends ErrorReportValve {

        @Override
        protected void report(Request request, Response response, Throwable throwable) {
            int status = response.getStatus();
            if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
                return;
            }
            String detail = detail(status);
            if (throwable != null && throwable.getMessage() != null && status == 400) {
                // Tomcat's reason, in the user's terms (its message may echo header values: never sent back)
                if (throwable.getMessage().contains("header is too large")) {
                    boolean requestLine = request.getRequestURI() == null || request.getRequestURI().isEmpty();
                    status = requestLine ? 414 : 431;
                    response.setStatus(status);
                    detail = detail(status) + headerLimit(request);
                } else if (throwable.getMessage().contains("header line")) {
                    detail = "a header line is malformed: each must be 'Name: value' without control characters";
                }
            }
            HttpStatus http = HttpStatus.resolve(status);
            try {
                response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
                response.setCharacterEncoding("UTF-8");
                response.getReporter().write(ProblemResponses.body(status, http == null ? "Error" : http.getReasonPhrase(), detail));
                response.finishResponse();
            } catch (IOException | IllegalStateException e) {
                // the client went away; nothing left to tell it
            }
        }
    }

    /** The connector's limit on request line plus headers (server.max-http-request-header-size), as the user reads it. */
    private static String headerLimit(Request request) {
        if (request.getConnector() != null && request.getConnector().getProtocolHandler() instanceof AbstractHttp11Protocol<?> http) {
            return " (the request line and headers may hold " + http.getMaxHttpRequestHeaderSize() / 1024 + " KiB together)";
        }
        return "";
    }

    /** What the user should fix, by status (the container's own message may echo server internals). */
    static String detail(int status) {
        return switch (status) {
            case 400 -> "the request is malformed: check the path (no encoded '/', '\\' or NUL, no '..' above the root), "
                    + "the query string and the headers (no control characters)";
            case 404 -> "no such endpoint; the API lives under /api/v1 (see /v3/api-docs)";
            case 405 -> "this method is not allowed on this path (see /v3/api-docs)";
            case 413 -> "the request body is larger than the limit (QF_UPLOAD_MAX_BYTES)";
            case 414 -> "the request path and query string are too long; send long data in the body";
            case 431 -> "the request headers are too large; shorten the long header (an Idempotency-Key has at most 200 characters)";
            case 505 -> "HTTP version not supported; use HTTP/1.1";
            default -> status >= 500 ? "the service failed unexpectedly; the error was logged" : "the request was refused (HTTP " + status + ")";
        };
    }

    /** Errors the container forwards to /error (thrown by filters, sendError) as problem+json. */
    @RestController
    static class ProblemErrorController implements ErrorController {

        @RequestMapping("/error")
        void error(HttpServletRequest request, HttpServletResponse response) throws IOException {
            Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
            int status = code instanceof Integer i ? i : 500;
            HttpStatus http = HttpStatus.resolve(status);
            if (http == null) {
                http = status >= 500 ? HttpStatus.INTERNAL_SERVER_ERROR : HttpStatus.BAD_REQUEST;
            }
            Object error = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
            if (error instanceof Throwable t && status >= 500) {
                org.slf4j.LoggerFactory.getLogger(ContainerErrors.class).error("Unexpected error", t);
            }
            ProblemResponses.write(response, http, http.getReasonPhrase(), detail(status));
        }
    }
}
