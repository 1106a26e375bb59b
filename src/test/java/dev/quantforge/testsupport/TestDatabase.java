package dev.quantforge.testsupport;

import dev.quantforge.platform.db.EmbeddedPostgresServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL that integration tests use; one server per test JVM, chosen once:
 *
 * <ol>
 *   <li>{@code TEST_DB_URL} set (env, or system property of that name), e.g.
 *       {@code jdbc:postgresql://127.0.0.1:5432/test}, with {@code TEST_DB_USER} (default
 *       {@code postgres}) and {@code TEST_DB_PASSWORD} (default empty): that server, but each JVM
 *       gets its own fresh database {@code qf_test_<random>}, dropped at JVM exit (best effort).
 *       If it is set but unusable there is no fallback: the setting was explicit.</li>
 *   <li>Docker available: a Testcontainers PostgreSQL 15.</li>
 *   <li>Otherwise an {@link EmbeddedPostgresServer} in a temp dir on a free port, stopped and
 *       deleted at JVM exit (binaries cached under {@code java.io.tmpdir}).</li>
 * </ol>
 *
 * <p>With {@code REQUIRE_DB=true}, if nothing works every accessor throws with the reasons;
 * otherwise they abort the calling test via JUnit {@link Assumptions} (reported as skipped).
 *
 * <p>{@link #jdbcUrl()} is the JVM's primary database (the same on every call: tests that
 * simulate a service restart keep using it); {@link #newDatabase()} creates another fresh one
 * on the same server for tests that need isolation.
 */
public final class TestDatabase {

    private static final String PREFIX = "qf_test_";

    private static Server server;
    private static String primaryUrl;
    private static String failure;

    private TestDatabase() {
    }

    /** The JDBC URL of this JVM's fresh test database. */
    public static String jdbcUrl() {
        assumeAvailable();
        return primaryUrl;
    }

    public static String username() {
        assumeAvailable();
        return server.user;
    }

    public static String password() {
        assumeAvailable();
        return server.password;
    }

    /** Creates another empty database on the same server; returns its JDBC URL. */
    public static String newDatabase() {
        assumeAvailable();
        return server.createDatabase();
    }

    /** Aborts (skips) the calling test if no database can be had; fails instead with REQUIRE_DB=true. */
    public static void assumeAvailable() {
        init();
        if (failure != null) {
            if (requireDb()) {
                throw new IllegalStateException("REQUIRE_DB=true but no test database is available:\n" + failure);
            }
            Assumptions.assumeTrue(false, "no test database available:\n" + failure);
        }
    }

    /** Which kind of server backs the tests (for messages): "TEST_DB_URL", "testcontainers" or "embedded". */
    public static String mode() {
        assumeAvailable();
        return server.mode;
    }

    // ---------------------------------------------------------------------------------------------

    private static synchronized void init() {
        if (server != null || failure != null) {
            return;
        }
        List<String> reasons = new ArrayList<>();
        String url = setting("TEST_DB_URL");
        if (url != null && !url.isBlank()) {
            String user = orDefault(setting("TEST_DB_USER"), "postgres");
            String password = orDefault(setting("TEST_DB_PASSWORD"), "");
            try {
                use(new Server("TEST_DB_URL", url.trim(), user, password, true, null));
            } catch (RuntimeException e) {
                reasons.add("TEST_DB_URL=" + url + ": " + describe(e));
            }
        } else {
            if (!tryContainer(reasons)) {
                tryEmbedded(reasons);
            }
        }
        if (server == null) {
            failure = String.join("\n", reasons);
        }
    }

    private static boolean tryContainer(List<String> reasons) {
        try {
            if (!DockerClientFactory.instance().isDockerAvailable()) {
                reasons.add("Testcontainers: Docker is not available");
                return false;
            }
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:15");
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "qf-test-db-container-stop"));
            use(new Server("testcontainers", container.getJdbcUrl(), container.getUsername(),
                    container.getPassword(), false, null));
            return true;
        } catch (Throwable e) { // NoClassDefFoundError etc. included: Testcontainers is optional
            reasons.add("Testcontainers: " + describe(e));
            return false;
        }
    }

    private static void tryEmbedded(List<String> reasons) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("qf-test-pg-");
            Path binCache = Path.of(System.getProperty("java.io.tmpdir"), "quantforge-pg-bin");
            long t0 = System.nanoTime();
            EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, binCache, 0);
            System.err.printf(Locale.ROOT, "[TestDatabase] embedded PostgreSQL on port %d started in %d ms%n",
                    pg.port(), (System.nanoTime() - t0) / 1_000_000);
            Path toDelete = dir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } finally {
                    deleteQuietly(toDelete);
                }
            }, "qf-test-db-embedded-stop"));
            use(new Server("embedded", pg.jdbcUrl("postgres"), pg.username(), pg.password(), false, pg));
        } catch (RuntimeException | IOException e) {
            reasons.add("embedded PostgreSQL: " + describe(e));
            if (dir != null) {
                deleteQuietly(dir);
            }
        }
    }

    private static void use(Server s) {
        String url = s.createDatabase(); // proves the server works before we commit to it
        server = s;
        primaryUrl = url;
    }

    // ---------------------------------------------------------------------------------------------

    /** A server on which we may create databases, reached through {@code adminUrl}. */
    private static final class Server {
        final String mode;
        final String adminUrl;
        final String user;
        final String password;
        final boolean dropAtExit;
        final EmbeddedPostgresServer embedded; // kept reachable for the JVM's lifetime
        private final List<String> created = new ArrayList<>();
        private boolean hookInstalled;

        Server(String mode, String adminUrl, String user, String password, boolean dropAtExit,
               EmbeddedPostgresServer embedded) {
            this.mode = mode;
            this.adminUrl = adminUrl;
            this.user = user;
            this.password = password;
            this.dropAtExit = dropAtExit;
            this.embedded = embedded;
        }

        Connection connect() throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", user);
            p.setProperty("password", password);
            p.setProperty("connectTimeout", "10");
            return DriverManager.getConnection(adminUrl, p);
        }

        synchronized String createDatabase() {
            String name = PREFIX + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
            try (Connection c = connect(); Statement st = c.createStatement()) {
                st.execute("create database " + name);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot create database " + name + " via " + adminUrl
                        + " as " + user + ": " + e.getMessage(), e);
            }
            created.add(name);
            if (dropAtExit && !hookInstalled) {
                hookInstalled = true;
                Runtime.getRuntime().addShutdownHook(new Thread(this::dropCreated, "qf-test-db-drop"));
            }
            return withDatabase(adminUrl, name);
        }

        private synchronized void dropCreated() {
            try (Connection c = connect(); Statement st = c.createStatement()) {
                for (String name : created) {
                    try {
                        st.execute("drop database if exists " + name + " with (force)");
                    } catch (SQLException e) {
                        // best effort
                    }
                }
            } catch (SQLException e) {
                // best effort: server gone
            }
        }
    }

    /** Replaces the database in {@code jdbc:postgresql://host[:port][,host2...]/db[?params]}. */
    static String withDatabase(String url, String database) {
        String prefix = "jdbc:postgresql://";
        if (!url.startsWith(prefix)) {
            throw new IllegalArgumentException("not a jdbc:postgresql:// URL: " + url);
        }
        int hostStart = prefix.length();
        int q = url.indexOf('?', hostStart);
        String params = q < 0 ? "" : url.substring(q);
        String main = q < 0 ? url : url.substring(0, q);
        int slash = main.indexOf('/', hostStart);
        String hosts = slash < 0 ? main : main.substring(0, slash);
        return hosts + "/" + database + params;
    }

    // ---------------------------------------------------------------------------------------------

    private static String setting(String name) {
        String v = System.getProperty(name);
        return v != null && !v.isBlank() ? v : System.getenv(name);
    }

    private static String orDefault(String v, String def) {
        return v == null ? def : v;
    }

    private static boolean requireDb() {
        return "true".equalsIgnoreCase(orDefault(setting("REQUIRE_DB"), "").trim());
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }

    /**
     * A fresh database on the test server, migrated by Flyway, behind a Hikari pool of {@code poolSize}
     * connections — for tests and benchmarks of the persistence layer without a running service.
     */
    public static com.zaxxer.hikari.HikariDataSource newMigratedDataSource(int poolSize) {
        assumeAvailable();
        String url = newDatabase();
        org.flywaydb.core.Flyway.configure().dataSource(url, username(), password()).load().migrate();
        com.zaxxer.hikari.HikariConfig cfg = new com.zaxxer.hikari.HikariConfig();
        cfg.setJdbcUrl(url);
        cfg.setUsername(username());
        cfg.setPassword(password());
        cfg.setMaximumPoolSize(poolSize);
        return new com.zaxxer.hikari.HikariDataSource(cfg);
    }

    /** Inserts a placeholder model row (jobs reference a model) and returns its id. */
    public static java.util.UUID insertPlaceholderModel(org.springframework.jdbc.core.simple.JdbcClient jdbc) {
        java.util.UUID id = java.util.UUID.randomUUID();
        jdbc.sql("insert into model (id, name, sha256, size_bytes, summary, project_id) values (:id, 'm', :sha, 1, '{}', '00000000-0000-0000-0000-000000000001')")
                .param("id", id).param("sha", "0".repeat(64)).update();
        return id;
    }
}
