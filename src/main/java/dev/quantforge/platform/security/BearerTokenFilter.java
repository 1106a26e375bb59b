package dev.quantforge.platform.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.quantforge.platform.access.Caller;
import dev.quantforge.platform.access.ProjectService;

/**
 * Authenticates {@code Authorization: Bearer <key>}: the service token (QF_API_TOKEN, constant-time comparison) or a
 * project's API key (looked up by its SHA-256 on every request, so a revoked key fails on its next request). Without the
 * header, open access (no QF_API_TOKEN) makes the request the default project's admin — from loopback only unless
 * QF_OPEN_ACCESS=true. It only authenticates: what the caller may do is decided by the filter chain's authorization
 * rules, on the firewalled path. A wrong key is remembered on the request so the 401 can say so.
 */
final class BearerTokenFilter extends OncePerRequestFilter {

    static final String INVALID_TOKEN = BearerTokenFilter.class.getName() + ".invalid";
    static final String NOT_LOOPBACK = BearerTokenFilter.class.getName() + ".notLoopback";

    private final byte[] token;
    private final OpenAccess openAccess;
    private final ProjectService projects;

    BearerTokenFilter(byte[] token, OpenAccess openAccess, ProjectService projects) {
        this.token = token;
        this.openAccess = openAccess;
        this.projects = projects;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        Optional<Caller> caller = Optional.empty();
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String given = header.substring(7).trim();
            // constant-time comparison: the answer time says nothing about how much of the token matched
            if (token != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token)) {
                caller = Optional.of(Caller.service("QF_API_TOKEN"));
            } else {
                caller = projects.authenticate(given);
            }
            if (caller.isEmpty()) {
                request.setAttribute(INVALID_TOKEN, Boolean.TRUE);
            }
        } else if (header != null) {
            request.setAttribute(INVALID_TOKEN, Boolean.TRUE);
        } else if (token == null && openAccess != OpenAccess.OFF) {
            if (openAccess == OpenAccess.ANY || isLoopback(request.getRemoteAddr())) {
                caller = Optional.of(Caller.service("open access"));
            } else {
                request.setAttribute(NOT_LOOPBACK, Boolean.TRUE);
            }
        }
        caller.ifPresent(c -> SecurityContextHolder.getContext().setAuthentication(UsernamePasswordAuthenticationToken.authenticated(c, null,
                c.scopes().stream().map(s -> new SimpleGrantedAuthority(s.authority())).toList())));
        chain.doFilter(request, response);
    }

    /** The container's remote address is a literal IP: 127.0.0.0/8 or ::1. */
    static boolean isLoopback(String address) {
        return address != null && (address.startsWith("127.") || address.equals("::1") || address.equals("0:0:0:0:0:0:0:1")
                || address.equals("[::1]"));
    }

    /** Who gets in without a key when QF_API_TOKEN is not set (QF_OPEN_ACCESS). */
    enum OpenAccess {
        LOOPBACK, ANY, OFF;

        static OpenAccess of(String setting) {
            return switch (setting == null ? "loopback" : setting.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "", "loopback" -> LOOPBACK;
                case "true", "any" -> ANY;
                case "false", "off" -> OFF;
                default -> throw new IllegalStateException("QF_OPEN_ACCESS must be loopback (the default), true or false, got '"
                        + setting + "'");
            };
        }
    }
}
