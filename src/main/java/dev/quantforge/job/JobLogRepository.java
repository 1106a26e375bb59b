package dev.quantforge.job;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import dev.quantforge.platform.Text;

/** A job's log lines, kept with the job (also streamed as SSE {@code log} events). */
@Repository
public class JobLogRepository {

    /** One log line; {@code seq} orders lines and lets SSE clients resume. */
    public record LogLine(long seq, Instant ts, String level, String message) {
    }

    private final JdbcClient jdbc;

    public JobLogRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void append(UUID jobId, String level, String message) {
        jdbc.sql("insert into job_log (job_id, level, message) values (:j, :l, :m)")
                .param("j", jobId).param("l", level).param("m", Text.storable(message)).update();
    }

    public List<LogLine> after(UUID jobId, long afterSeq, int limit) {
        return jdbc.sql("select id, ts, level, message from job_log where job_id = :j and id > :after order by id limit :limit")
                .param("j", jobId).param("after", afterSeq).param("limit", limit)
                .query((rs, i) -> new LogLine(rs.getLong(1), rs.getObject(2, Timestamp.class).toInstant(), rs.getString(3), rs.getString(4)))
                .list();
    }
}
