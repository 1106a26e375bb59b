package dev.quantforge.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.orm.jpa.JpaSystemException;
import org.springframework.transaction.CannotCreateTransactionException;

/** Which failures are a database outage (503 with Retry-After) and which are not (a bug: 500; bad input: 4xx). */
class DependencyUnavailableExceptionTest {

    @Test
    void theShapesADatabaseOutageTakesAreRecognised() {
        assertThat(DependencyUnavailableException.of(new CannotGetJdbcConnectionException("no connection",
                new SQLTransientConnectionException("HikariPool-1 - Connection is not available, request timed out after 1000ms")))).isPresent();
        assertThat(DependencyUnavailableException.of(new CannotCreateTransactionException("could not open JPA EntityManager"))).isPresent();
        // PostgreSQL's driver: I/O error (08006), administrator shutdown (57P01), starting up (57P03)
        assertThat(DependencyUnavailableException.of(new RuntimeException(new SQLException("An I/O error occurred", "08006")))).isPresent();
        assertThat(DependencyUnavailableException.of(new RuntimeException(new SQLException("terminating connection", "57P01")))).isPresent();
        assertThat(DependencyUnavailableException.of(new RuntimeException(new SQLException("the database system is starting up", "57P03")))).isPresent();
        // what reached the handler during a PostgreSQL restart: the rollback's error on the connection Hikari had evicted
        JpaSystemException rollback = new JpaSystemException(new RuntimeException("Unable to rollback against JDBC Connection",
                new SQLException("Connection is closed")));
        assertThat(DependencyUnavailableException.of(rollback)).get().extracting(DependencyUnavailableException::dependency)
                .isEqualTo("the database");
    }

    @Test
    void otherFailuresAreNot() {
        assertThat(DependencyUnavailableException.of(new DataIntegrityViolationException("duplicate key",
                new SQLException("duplicate key value violates unique constraint", "23505")))).isEmpty();
        assertThat(DependencyUnavailableException.of(new SQLException("syntax error", "42601"))).isEmpty();
        assertThat(DependencyUnavailableException.of(new IllegalStateException("a bug"))).isEmpty();
        assertThat(DependencyUnavailableException.of(new SQLException("Connection is closed", "42000"))).isEmpty();
    }

    @Test
    void theObjectStoresOwnSignalIsKept() {
        DependencyUnavailableException s3 = new DependencyUnavailableException("the object store", "connection refused", null);
        assertThat(DependencyUnavailableException.of(new java.io.UncheckedIOException(s3))).containsSame(s3);
    }
}
