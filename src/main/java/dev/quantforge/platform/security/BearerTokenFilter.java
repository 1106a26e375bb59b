package dev.quantforge.platform.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Authenticates {@code Authorization: Bearer <token>} against the configured API token (constant-time
 * comparison). It only authenticates: whether the request needed it is decided by the filter chain's
 * authorization rules, on the firewalled path. A wrong token is remembered on the request so the 401
 * can say so.
 */
final class BearerTokenFilter extends OncePerRequestFilter {

    static final String INVALID_TOKEN = BearerTokenFilter.class.getName() + ".invalid";

    private final byte[] token;

    BearerTokenFilter(byte[] token) {
        this.token = token;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        if (token != null && header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
            // constant-time comparison: the answer time says nothing about how much of the token matched
            if (MessageDigest.isEqual(given, token)) {
                SecurityContextHolder.getContext().setAuthentication(UsernamePasswordAuthenticationToken.authenticated("api-token", null,
                        List.of(new SimpleGrantedAuthority("SCOPE_admin"))));
            } else {
                request.setAttribute(INVALID_TOKEN, Boolean.TRUE);
            }
        } else if (token != null && header != null) {
            request.setAttribute(INVALID_TOKEN, Boolean.TRUE);
        }
        chain.doFilter(request, response);
    }
}
