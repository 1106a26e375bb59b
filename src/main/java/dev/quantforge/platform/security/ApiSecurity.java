package dev.quantforge.platform.security;

import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.security.web.firewall.StrictHttpFirewall;
import org.springframework.security.web.firewall.HttpFirewall;

import jakarta.servlet.DispatcherType;

import dev.quantforge.platform.ProblemResponses;
import dev.quantforge.platform.QfProperties;

/**
 * Who may call what. Authentication runs on Spring Security's filter chain, behind its
 * {@link StrictHttpFirewall}: a path with {@code ;} parameters, encoded slashes, dots or percent
 * signs, {@code //}, {@code ..} or control characters is refused (400) before anything matches it,
 * and the matchers below see the decoded, normalised path Spring MVC routes on — so no spelling of a
 * path reaches a controller past the check.
 *
 * <p>Deny by default: with {@code QF_API_TOKEN} set, every request needs
 * {@code Authorization: Bearer <token>} except the explicitly public ones — the health probes,
 * the OpenAPI document and Swagger UI, the dashboard's page and static files, and {@code /actuator/prometheus} unless
 * {@code QF_METRICS_PUBLIC=false}. Without a token the service is open (a single-user machine; the
 * start-up log says so).
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
public class ApiSecurity {

    private static final Logger log = LoggerFactory.getLogger(ApiSecurity.class);

    /** Reachable without a token: probes for the platform, the API description for clients. */
    static final String[] PUBLIC_PATHS = {"/actuator/health", "/actuator/health/**", "/v3/api-docs", "/v3/api-docs/**",
            "/v3/api-docs.yaml", "/swagger-ui.html", "/swagger-ui/**"};
    /** The web dashboard's page and static files (its API calls carry the token like any client's). */
    static final String[] DASHBOARD_PATHS = {"/", "/index.html", "/assets/**", "/webjars/echarts/**"};
    static final String METRICS_PATH = "/actuator/prometheus";

    @Bean
    SecurityFilterChain apiSecurityFilterChain(HttpSecurity http, QfProperties props) throws Exception {
        byte[] token = props.apiToken() == null || props.apiToken().isBlank() ? null : props.apiToken().getBytes(StandardCharsets.UTF_8);
        boolean publicMetrics = props.security() == null || props.security().publicMetrics();
        if (token == null) {
            log.warn("QF_API_TOKEN is not set: the API is open to anyone who can reach port {}; set QF_API_TOKEN to require a bearer token",
                    System.getProperty("server.port", "(server.port)"));
        } else {
            log.info("API token authentication on: every request except health probes, API docs, the dashboard's static files{} needs 'Authorization: Bearer <token>'",
                    publicMetrics ? " and metrics" : "");
        }
        http.csrf(AbstractHttpConfigurer::disable)
                .httpBasic(AbstractHttpConfigurer::disable)
                .formLogin(AbstractHttpConfigurer::disable)
                .logout(AbstractHttpConfigurer::disable)
                .requestCache(AbstractHttpConfigurer::disable)
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .addFilterBefore(new BearerTokenFilter(token), AuthorizationFilter.class)
                .authorizeHttpRequests(a -> {
                    // an async dispatch (SSE) or an error dispatch continues a request that passed this check
                    a.dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR).permitAll();
                    a.requestMatchers(PUBLIC_PATHS).permitAll();
                    a.requestMatchers(DASHBOARD_PATHS).permitAll();
                    if (publicMetrics) {
                        a.requestMatchers(METRICS_PATH).permitAll();
                    }
                    if (token == null) {
                        a.anyRequest().permitAll();
                    } else {
                        a.anyRequest().authenticated();
                    }
                })
                .exceptionHandling(e -> e
                        .authenticationEntryPoint((request, response, ex) -> {
                            response.setHeader("WWW-Authenticate", "Bearer realm=\"quantforge\"");
                            ProblemResponses.write(response, HttpStatus.UNAUTHORIZED, "Unauthorized",
                                    request.getAttribute(BearerTokenFilter.INVALID_TOKEN) != null
                                            ? "the API token is not valid; send the token the service was started with (QF_API_TOKEN)"
                                            : "send the API token as 'Authorization: Bearer <token>' (QF_API_TOKEN)");
                        })
                        .accessDeniedHandler((request, response, ex) -> ProblemResponses.write(response, HttpStatus.FORBIDDEN,
                                "Forbidden", "this token may not do that: " + ex.getMessage())));
        return http.build();
    }

    /** The default strict firewall; named so that the rejection handler below answers for it. */
    @Bean
    HttpFirewall httpFirewall() {
        return new StrictHttpFirewall();
    }

    /** A request the firewall refuses gets a problem+json 400 that says why, not an empty body. */
    @Bean
    RequestRejectedHandler requestRejectedHandler() {
        return (request, response, ex) -> ProblemResponses.write(response, HttpStatus.BAD_REQUEST, "Bad request",
                "the request was refused: " + ex.getMessage().replace("\"", "'")
                        + " (paths may not contain ';', encoded '/', '\\\\', '.' or '%', '//', '..' or control characters)");
    }
}
