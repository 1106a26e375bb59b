package dev.quantforge.testsupport;

import java.nio.file.Path;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.quantforge.QuantforgeApplication;

/** A whole service started (and stopped) inside a test, on its own data dir and database: for restart tests. */
public final class ServiceProcess {

    private ServiceProcess() {
    }

    public static ConfigurableApplicationContext start(String dbUrl, Path dataDir, int workers, String... extraArgs) {
        return start(dbUrl, dataDir, workers, java.util.List.of(extraArgs));
    }

    /** As {@link #start(String, Path, int, String...)} with more arguments (e.g. the S3 storage of {@link S3Proxy#serviceArgs}). */
    public static ConfigurableApplicationContext start(String dbUrl, Path dataDir, int workers, java.util.List<String> more) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(
                "--spring.datasource.url=" + dbUrl, "--spring.datasource.username=" + TestDatabase.username(),
                "--spring.datasource.password=" + TestDatabase.password(), "--qf.data-dir=" + dataDir, "--server.port=0",
                "--qf.worker.concurrency=" + workers, "--qf.worker.poll-millis=100", "--qf.jobs.reaper-interval-seconds=1"));
        args.addAll(more);
        return new SpringApplicationBuilder(QuantforgeApplication.class).run(args.toArray(String[]::new));
    }

    public static Api api(ConfigurableApplicationContext ctx) {
        return new Api(((WebServerApplicationContext) ctx).getWebServer().getPort());
    }
}
