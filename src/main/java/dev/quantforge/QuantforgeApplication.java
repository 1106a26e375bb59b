package dev.quantforge;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration;

import dev.quantforge.worker.RemoteWorkerMain;

/**
 * One jar, two roles: the API with in-process workers (default), or a remote worker that only
 * talks to an API ({@code --qf.roles=worker --qf.server-url=...}).
 */
// no generated in-memory user: the API authenticates bearer tokens only (platform.security.ApiSecurity)
@SpringBootApplication(exclude = UserDetailsServiceAutoConfiguration.class)
@ConfigurationPropertiesScan
public class QuantforgeApplication {
    public static void main(String[] args) throws Exception {
        if (RemoteWorkerMain.requested(args)) {
            RemoteWorkerMain.run(args);
            return;
        }
        SpringApplication.run(QuantforgeApplication.class, args);
    }
}
