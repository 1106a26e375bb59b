package dev.quantforge.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class TestDatabaseTest {

    @Test
    void freshDatabaseAnswersSelectOne() throws Exception {
        String url = TestDatabase.jdbcUrl();
        System.err.println("[TestDatabase] mode " + TestDatabase.mode() + ": " + url);
        assertThat(url).contains("/qf_test_");
        assertThat(TestDatabase.jdbcUrl()).isEqualTo(url); // stable within the JVM
        try (Connection c = DriverManager.getConnection(url, TestDatabase.username(), TestDatabase.password());
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }

    @Test
    void newDatabaseIsAnotherEmptyDatabase() throws Exception {
        String a = TestDatabase.jdbcUrl();
        String b = TestDatabase.newDatabase();
        assertThat(b).isNotEqualTo(a).contains("/qf_test_");
        try (Connection c = DriverManager.getConnection(a, TestDatabase.username(), TestDatabase.password());
             Statement st = c.createStatement()) {
            st.execute("create table only_in_a (x int)");
        }
        try (Connection c = DriverManager.getConnection(b, TestDatabase.username(), TestDatabase.password());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select count(*) from information_schema.tables where table_name = 'only_in_a'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void withDatabaseReplacesOnlyTheDatabase() {
        assertThat(TestDatabase.withDatabase("jdbc:postgresql://127.0.0.1:5432/test", "x"))
                .isEqualTo("jdbc:postgresql://127.0.0.1:5432/x");
        assertThat(TestDatabase.withDatabase("jdbc:postgresql://h1:1,h2:2/test?ssl=false&a=b", "x"))
                .isEqualTo("jdbc:postgresql://h1:1,h2:2/x?ssl=false&a=b");
        assertThat(TestDatabase.withDatabase("jdbc:postgresql://localhost", "x"))
                .isEqualTo("jdbc:postgresql://localhost/x");
    }
}
