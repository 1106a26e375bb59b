package dev.quantforge.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPostgresServerTest {

    @TempDir
    Path dir;

    /** One extraction for the tests that don't measure it. */
    @TempDir
    static Path binCache;

    @Test
    void dataSurvivesRestart() throws Exception {
        int port = freePort();
        long t0 = System.nanoTime();
        EmbeddedPostgresServer.extractBinaries(dir.resolve("pg-bin"));
        long extract = ms(t0);
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, port)) {
            long first = ms(t0);
            assertThat(pg.port()).isEqualTo(port);
            assertThat(Files.exists(dir.resolve("postgres/data/PG_VERSION"))).isTrue();
            try (Connection c = connect(pg); Statement st = c.createStatement()) {
                st.execute("create table kv (k text primary key, v text)");
                st.execute("insert into kv values ('hello', 'world')");
            }
            System.err.printf("[timing] first start: %d ms (hash + extract %d ms, initdb + start %d ms)%n",
                    first, extract, first - extract);
        }
        long t1 = System.nanoTime();
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, port)) {
            System.err.printf("[timing] warm restart: %d ms%n", ms(t1));
            try (Connection c = connect(pg); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select v from kv where k = 'hello'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("world");
            }
        }
        long t2 = System.nanoTime();
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, 0)) {
            System.err.printf("[timing] second warm restart (port 0): %d ms%n", ms(t2));
            assertThat(pg.port()).isPositive();
            try (Connection c = connect(pg); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select count(*) from kv")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }

    @Test
    void recoversFromAnOrphanedServerOfADeadJvm() throws Exception {
        EmbeddedPostgresServer orphan = EmbeddedPostgresServer.start(dir, binCache, 0);
        try (Connection c = connect(orphan); Statement st = c.createStatement()) {
            st.execute("create table t (x int)");
            st.execute("insert into t values (42)");
        }
        // as if the owning JVM had died without closing: the postmaster keeps running
        Files.writeString(dir.resolve("postgres/owner.pid"), "2147483646");
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, binCache, 0)) {
            assertThatThrownBy(() -> connect(orphan)).isInstanceOf(SQLException.class);
            assertThat(selectInt(pg, "select x from t")).isEqualTo(42);
        }
    }

    @Test
    void refusesADataDirStillOwnedByALiveProcess() throws Exception {
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, binCache, 0)) {
            assertThatThrownBy(() -> EmbeddedPostgresServer.start(dir, binCache, 0))
                    .hasMessageContaining("already running");
            assertThat(selectInt(pg, "select 1")).isEqualTo(1); // untouched
        }
    }

    @Test
    void recoversAfterThePostmasterWasKilled() throws Exception {
        EmbeddedPostgresServer crashed = EmbeddedPostgresServer.start(dir, binCache, 0);
        try (Connection c = connect(crashed); Statement st = c.createStatement()) {
            st.execute("create table t (x int)");
            st.execute("insert into t values (7)");
        }
        long pid = Long.parseLong(Files.readAllLines(dir.resolve("postgres/data/postmaster.pid")).get(0).trim());
        ProcessHandle ph = ProcessHandle.of(pid).orElseThrow();
        new ProcessBuilder("kill", "-KILL", Long.toString(pid)).inheritIO().start().waitFor();
        ph.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(Files.exists(dir.resolve("postgres/data/postmaster.pid"))).isTrue(); // stale
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, binCache, 0)) {
            assertThat(selectInt(pg, "select x from t")).isEqualTo(7); // crash recovery, committed row kept
        }
    }

    @Test
    void closedServerRefusesConnections() throws Exception {
        EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, binCache, 0);
        String url = pg.jdbcUrl("postgres");
        pg.close();
        pg.close(); // idempotent
        assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "")).isInstanceOf(SQLException.class);
    }

    @Test
    void portInUseFailsNamingThePortAndSetting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> EmbeddedPostgresServer.start(dir, binCache, port))
                    .hasMessageContaining(Integer.toString(port))
                    .hasMessageContaining("QF_DB_EMBEDDED_PORT");
        }
    }

    private static Connection connect(EmbeddedPostgresServer pg) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(EmbeddedPostgresServer.DEFAULT_DATABASE), pg.username(), pg.password());
    }

    private static int selectInt(EmbeddedPostgresServer pg, String sql) throws SQLException {
        try (Connection c = connect(pg); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
