package dev.quantforge.platform;

import java.nio.file.Path;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/** Every knob of the service (prefix {@code qf}); the README's configuration table lists them. */
@Validated
@ConfigurationProperties(prefix = "qf")
public record QfProperties(
        @NotNull Path dataDir,
        @NotNull List<String> roles,
        String serverUrl,
        String apiToken,
        @Valid Db db,
        @Valid Upload upload,
        @Valid Jobs jobs,
        @Valid Worker worker,
        @Valid Security security,
        @Valid Temp temp,
        @Valid Webhooks webhooks,
        @Valid Shutdown shutdown) {

    public QfProperties {
        // resolved once: a relative ./data means the directory the service was started in, whatever changes later
        dataDir = dataDir == null ? null : dataDir.toAbsolutePath().normalize();
        temp = temp == null ? new Temp(null, null) : temp;
        webhooks = webhooks == null ? new Webhooks(null, null, null, null, null, null) : webhooks;
        shutdown = shutdown == null ? new Shutdown(null) : shutdown;
    }

    /**
     * SIGTERM: the process first reports not-ready and keeps serving for {@code drainSeconds} (so a load balancer or
     * Kubernetes takes it out of rotation before the port closes), stops leasing jobs and hands running ones back to
     * the queue, then lets in-flight requests finish (up to {@code spring.lifecycle.timeout-per-shutdown-phase}).
     */
    public record Shutdown(@Min(0) @Max(300) Integer drainSeconds) {
        public static final int DEFAULT_DRAIN_SECONDS = 0;

        public Shutdown {
            drainSeconds = drainSeconds == null ? DEFAULT_DRAIN_SECONDS : drainSeconds;
        }
    }

    public record Db(@Min(1) @Max(65535) int embeddedPort) {
    }

    public record Upload(@Min(1) long maxBytes, @Min(1) long maxUncompressedBytes) {
    }

    public record Jobs(@Min(5) @Max(86400) int leaseSeconds, @Min(1) @Max(3600) int reaperIntervalSeconds) {
    }

    public record Worker(@Min(0) @Max(64) int concurrency, String name, @Min(10) @Max(60000) int pollMillis) {
    }

    /**
     * @param publicMetrics {@code /actuator/prometheus} answers without the API token (scrapers inside the cluster)
     * @param openAccess    without QF_API_TOKEN, who may call without a key (as the default project's admin): {@code loopback}
     *                      (the default), {@code true} (every address: compose and Helm without a token) or {@code false}
     */
    public record Security(boolean publicMetrics, String openAccess) {
        public static final String DEFAULT_OPEN_ACCESS = "loopback";

        public Security {
            openAccess = openAccess == null || openAccess.isBlank() ? DEFAULT_OPEN_ACCESS : openAccess;
        }
    }

    /**
     * Crash leftovers in the temp area: cleaned at start-up and every {@code cleanupIntervalMinutes};
     * an untracked entry of a live process counts as a leftover once unchanged for {@code maxAgeMinutes}.
     */
    public record Temp(@Min(1) @Max(1440) Integer cleanupIntervalMinutes, @Min(1) @Max(100000) Integer maxAgeMinutes) {
        // the defaults' one place (application.yml leaves them unset; the remote worker reads them here too)
        public static final int DEFAULT_CLEANUP_INTERVAL_MINUTES = 10;
        public static final int DEFAULT_MAX_AGE_MINUTES = 60;

        public Temp {
            cleanupIntervalMinutes = cleanupIntervalMinutes == null ? DEFAULT_CLEANUP_INTERVAL_MINUTES : cleanupIntervalMinutes;
            maxAgeMinutes = maxAgeMinutes == null ? DEFAULT_MAX_AGE_MINUTES : maxAgeMinutes;
        }
    }

    /**
     * Webhook deliveries: retried after {@code retryInitialMillis}, doubling up to {@code retryMaxMillis}, until
     * {@code maxAttempts} attempts failed; each POST may take {@code timeoutMillis}; due deliveries are looked for every
     * {@code pollMillis}. Receivers must have public addresses unless {@code allowPrivateAddresses} (default false).
     */
    public record Webhooks(@Min(10) @Max(3600000) Integer retryInitialMillis, @Min(10) @Max(86400000) Integer retryMaxMillis,
                           @Min(1) @Max(100) Integer maxAttempts, @Min(100) @Max(300000) Integer timeoutMillis,
                           @Min(10) @Max(60000) Integer pollMillis, Boolean allowPrivateAddresses) {
        // the defaults' one place (application.yml leaves them unset)
        public static final int DEFAULT_RETRY_INITIAL_MILLIS = 1000;
        public static final int DEFAULT_RETRY_MAX_MILLIS = 3600000;
        public static final int DEFAULT_MAX_ATTEMPTS = 15;
        public static final int DEFAULT_TIMEOUT_MILLIS = 10000;
        public static final int DEFAULT_POLL_MILLIS = 500;

        public Webhooks {
            retryInitialMillis = retryInitialMillis == null ? DEFAULT_RETRY_INITIAL_MILLIS : retryInitialMillis;
            retryMaxMillis = retryMaxMillis == null ? DEFAULT_RETRY_MAX_MILLIS : retryMaxMillis;
            maxAttempts = maxAttempts == null ? DEFAULT_MAX_ATTEMPTS : maxAttempts;
            timeoutMillis = timeoutMillis == null ? DEFAULT_TIMEOUT_MILLIS : timeoutMillis;
            allowPrivateAddresses = allowPrivateAddresses != null && allowPrivateAddresses;
            pollMillis = pollMillis == null ? DEFAULT_POLL_MILLIS : pollMillis;
        }
    }

    public boolean hasRole(String role) {
        return roles.stream().anyMatch(r -> r.trim().equalsIgnoreCase(role));
    }
}
