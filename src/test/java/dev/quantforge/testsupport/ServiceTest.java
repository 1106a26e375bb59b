package dev.quantforge.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.quantforge.QuantforgeApplication;

/**
 * Base of the integration tests: the whole service on a random port against a real PostgreSQL
 * (TestDatabase: TEST_DB_URL, else Testcontainers, else embedded), with a data dir of its own.
 * Tests talk to it over HTTP like a user.
 */
@SpringBootTest(classes = QuantforgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"qf.jobs.lease-seconds=10", "qf.jobs.reaper-interval-seconds=1", "qf.worker.poll-millis=100",
                "qf.worker.concurrency=2",
                // Spring caches a context per property set: keep each one's pool small so several fit one server
                "spring.datasource.hikari.maximum-pool-size=8", "spring.datasource.hikari.minimum-idle=1"})
public abstract class ServiceTest {

    protected static final Path DATA_DIR;

    static {
        try {
            DATA_DIR = Files.createTempDirectory("qf-test-data-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @LocalServerPort
    protected int port;

    @Autowired
    protected org.springframework.jdbc.core.simple.JdbcClient jdbc;

    private Api api;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry r) {
        TestDatabase.assumeAvailable();
        r.add("spring.datasource.url", TestDatabase::jdbcUrl);
        r.add("spring.datasource.username", TestDatabase::username);
        r.add("spring.datasource.password", TestDatabase::password);
        r.add("qf.data-dir", DATA_DIR::toString);
    }

    protected Api api() {
        if (api == null) {
            api = new Api(port);
        }
        return api;
    }
}
