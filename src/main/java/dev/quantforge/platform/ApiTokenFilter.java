package dev.quantforge.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Optional bearer-token authentication of the REST API ({@code QF_API_TOKEN}). Without a token the
 * API is open (a single-user machine); with one, every {@code /api/**} request — users and remote
 * workers alike — must send {@code Authorization: Bearer <token>}, or gets a 401 problem. Health
 * probes, metrics and the OpenAPI document stay reachable for the platform.
 */
@Component
public class ApiTokenFilter extends OncePerRequestFilter {

    private final byte[] token;

    public ApiTokenFilter(QfProperties props) {
        this.token = props.apiToken() == null || props.apiToken().isBlank() ? null : props.apiToken().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return token == null || !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        byte[] given = header != null && header.startsWith("Bearer ") ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : null;
        // constant-time comparison: the answer time says nothing about how much of the token matched
        if (given != null && MessageDigest.isEqual(given, token)) {
            chain.doFilter(request, response);
            return;
        }
        response.setStatus(HttpStatus.UNAUTHORIZED.value());
        response.setHeader("WWW-Authenticate", "Bearer realm=\"quantforge\"");
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getWriter().write("{\"type\":\"https://quantforge.dev/problems/401\",\"title\":\"Unauthorized\",\"status\":401,"
                + "\"detail\":\"" + (given == null ? "send the API token as 'Authorization: Bearer <token>' (QF_API_TOKEN)"
                : "the API token is not valid") + "\",\"instance\":\"" + request.getRequestURI().replace("\"", "") + "\"}");
    }
}
