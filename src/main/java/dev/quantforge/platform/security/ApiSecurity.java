package dev.quantforge.platform.security;

import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
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
import dev.quantforge.platform.access.ProjectService;
import dev.quantforge.platform.access.Scope;

/**
 * Who may call what. Authentication runs on Spring Security's filter chain, behind its
 * {@link StrictHttpFirewall}: a path with {@code ;} parameters, encoded slashes, dots or percent
 * signs, {@code //}, {@code ..} or control characters is refused (400) before anything matches it,
 * and the matchers below see the decoded, normalised path Spring MVC routes on — so no spelling of a
 * path reaches a controller past the check.
 *
 * <p>Deny by default: with {@code QF_API_TOKEN} set, every request needs
 * {@code Authorization: Bearer <key>} (the token or a project's API key, whose scopes decide what it may call) except
 * the explicitly public ones — the health probes,
 * the OpenAPI document and Swagger UI, the dashboard's page and static files, and {@code /actuator/prometheus} unless
 * {@code QF_METRICS_PUBLIC=false}. Without a token the service is open to loopback (a single-user machine; the
 * start-up log says so), or to every address with {@code QF_OPEN_ACCESS=true}.
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
    SecurityFilterChain apiSecurityFilterChain(HttpSecurity http, QfProperties props, ProjectService projects) throws Exception {
        byte[] token = props.apiToken() == null || props.apiToken().isBlank() ? null : props.apiToken().getBytes(StandardCharsets.UTF_8);
        boolean publicMetrics = props.security() == null || props.security().publicMetrics();
        BearerTokenFilter.OpenAccess open = BearerTokenFilter.OpenAccess.of(props.security() == null ? null : props.security().openAccess());
        if (token == null && open == BearerTokenFilter.OpenAccess.ANY) {
            log.warn("QF_API_TOKEN is not set and QF_OPEN_ACCESS=true: requests without a key act as the admin of project 'default' "
                    + "from ANY address that can reach port {}; set QF_API_TOKEN to require keys", System.getProperty("server.port", "(server.port)"));
        } else if (token == null && open == BearerTokenFilter.OpenAccess.LOOPBACK) {
            log.warn("QF_API_TOKEN is not set: open access from loopback (127.0.0.1/::1) only — requests without a key from this "
                    + "machine act as the admin of project 'default'; other addresses need an API key (set QF_API_TOKEN, or "
                    + "QF_OPEN_ACCESS=true to open it to every address)");
        } else if (token == null) {
            log.info("QF_API_TOKEN is not set and QF_OPEN_ACCESS=false: every request needs a project's API key");
        } else {
            log.info("API key authentication on: every request except health probes, API docs, the dashboard's static files{} needs "
                    + "'Authorization: Bearer <key>' (QF_API_TOKEN or a project's API key)", publicMetrics ? " and metrics" : "");
        }
        http.csrf(AbstractHttpConfigurer::disable)
                .httpBasic(AbstractHttpConfigurer::disable)
                .formLogin(AbstractHttpConfigurer::disable)
                .logout(AbstractHttpConfigurer::disable)
                .requestCache(AbstractHttpConfigurer::disable)
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .addFilterBefore(new BearerTokenFilter(token, open, projects), AuthorizationFilter.class)
                .authorizeHttpRequests(a -> {
                    // an async dispatch (SSE) or an error dispatch continues a request that passed this check
                    a.dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR).permitAll();
                    a.requestMatchers(PUBLIC_PATHS).permitAll();
                    a.requestMatchers(DASHBOARD_PATHS).permitAll();
                    if (publicMetrics) {
                        a.requestMatchers(METRICS_PATH).permitAll();
                    }
                    // scopes (Scope): worker → the worker protocol (listing workers is a read); admin → projects, keys and webhooks; read → GETs; submit → the rest
                    a.requestMatchers(HttpMethod.GET, "/api/v1/workers").hasAuthority(Scope.READ.authority());
                    a.requestMatchers("/api/v1/workers", "/api/v1/workers/**").hasAuthority(Scope.WORKER.authority());
                    a.requestMatchers(HttpMethod.GET, "/api/v1/projects/current").authenticated();
                    a.requestMatchers("/api/v1/projects", "/api/v1/projects/**", "/api/v1/webhooks", "/api/v1/webhooks/**")
                            .hasAuthority(Scope.ADMIN.authority());
                    a.requestMatchers(HttpMethod.GET, "/api/**").hasAuthority(Scope.READ.authority());
                    a.requestMatchers(HttpMethod.HEAD, "/api/**").hasAuthority(Scope.READ.authority());
                    a.requestMatchers("/api/**").hasAuthority(Scope.SUBMIT.authority());
                    a.anyRequest().authenticated();
                })
                .exceptionHandling(e -> e
                        .authenticationEntryPoint((request, response, ex) -> {
                            response.setHeader("WWW-Authenticate", "Bearer realm=\"quantforge\"");
                            ProblemResponses.write(response, HttpStatus.UNAUTHORIZED, "Unauthorized",
                                    request.getAttribute(BearerTokenFilter.INVALID_TOKEN) != null
                                            ? "the API key is not valid (unknown or revoked); send QF_API_TOKEN or a live key of your project"
                                            : request.getAttribute(BearerTokenFilter.NOT_LOOPBACK) != null
                                            ? "send an API key as 'Authorization: Bearer <key>': without QF_API_TOKEN the service is open to "
                                                    + "loopback only (set QF_OPEN_ACCESS=true to open it to every address)"
                                            : "send the API key as 'Authorization: Bearer <key>' (QF_API_TOKEN or a project's API key)");
                        })
                        .accessDeniedHandler((request, response, ex) -> ProblemResponses.write(response, HttpStatus.FORBIDDEN,
                                "Forbidden", "this key's scopes do not allow " + request.getMethod() + " " + request.getRequestURI()
                                        + ": reads need scope read, uploads and jobs submit, projects, keys and webhooks admin, "
                                        + "the worker protocol worker")));
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
