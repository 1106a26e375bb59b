package dev.quantforge.platform;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.Optional;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.transaction.CannotCreateTransactionException;

/**
 * A dependency of the service (PostgreSQL, the object store) cannot be reached right now: the request may succeed
 * when retried, so it is answered 503 with {@code Retry-After}, not 500. Storage code throws it (an IOException, so
 * it travels through the blob store's signatures); {@link #of(Throwable)} recognises a database outage in the
 * exceptions JDBC, Hikari and Spring raise for one.
 */
public class DependencyUnavailableException extends IOException {

    /** Seconds a client should wait before retrying: a restart of PostgreSQL or an S3 endpoint takes a few. */
    public static final int RETRY_AFTER_SECONDS = 5;

    private final String dependency;

    public DependencyUnavailableException(String dependency, String message, Throwable cause) {
        super(message, cause);
        this.dependency = dependency;
    }

    /** "the database" or "the object store": named in the problem's detail. */
    public String dependency() {
        return dependency;
    }

    /** The outage {@code failure} stands for, if it (or one of its causes) says a dependency is unreachable. */
    public static Optional<DependencyUnavailableException> of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof DependencyUnavailableException d) {
                return Optional.of(d);
            }
            if (t instanceof DataAccessResourceFailureException || t instanceof CannotCreateTransactionException
                    || t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException
                    || t instanceof SQLException sql && (connectionLost(sql.getSQLState()) || closedByThePool(sql))) {
                return Optional.of(new DependencyUnavailableException("the database", t.getMessage(), failure));
            }
        }
        return Optional.empty();
    }

    /**
     * HikariCP's answer on a connection it already evicted as broken (no SQLSTATE): seen when the rollback after a
     * failed statement is what reaches the handler, the statement's own connection error being replaced by it.
     */
    private static boolean closedByThePool(SQLException e) {
        return e.getSQLState() == null && "Connection is closed".equals(e.getMessage());
    }

    /** SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server is shutting down or starting up). */
    private static boolean connectionLost(String state) {
        return state != null && (state.startsWith("08") || state.startsWith("57P"));
    }
}
