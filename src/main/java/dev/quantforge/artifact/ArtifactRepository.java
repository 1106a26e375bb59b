package dev.quantforge.artifact;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import dev.quantforge.platform.access.ProjectAccess;

/** Files a job produced (quantized models, histograms, logs...); bytes live in the blob store. */
@Repository
public class ArtifactRepository {

    public record Artifact(UUID id, UUID jobId, String kind, String name, String sha256, long sizeBytes, Instant createdAt) {
    }

    private static final RowMapper<Artifact> ROW = (rs, i) -> new Artifact(rs.getObject("id", UUID.class),
            rs.getObject("job_id", UUID.class), rs.getString("kind"), rs.getString("name"), rs.getString("sha256"),
            rs.getLong("size_bytes"), rs.getObject("created_at", Timestamp.class).toInstant());

    private final JdbcClient jdbc;

    public ArtifactRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Records an artifact; a second write of the same (job, kind, name) — a job that ran twice —
     * replaces the first, so a job keeps one set of artifacts. Returns the artifact's id.
     */
    public UUID upsert(UUID jobId, String kind, String name, String sha256, long size) {
        return jdbc.sql("insert into artifact (id, job_id, kind, name, sha256, size_bytes) values (:id, :job, :kind, :name, :sha, :size) "
                        + "on conflict (job_id, kind, name) do update set sha256 = excluded.sha256, size_bytes = excluded.size_bytes, "
                        + "created_at = now() returning id")
                .param("id", UUID.randomUUID()).param("job", jobId).param("kind", kind).param("name", name)
                .param("sha", sha256).param("size", size)
                .query(UUID.class).single();
    }

    /** The artifact, if the caller's project may see its job (ProjectAccess.scope(): null for the service itself). */
    public Optional<Artifact> find(UUID id) {
        return jdbc.sql("select * from artifact where id = :id and " + "(cast(:scope as uuid) is null or job_id in (select j.id from job j where j.project_id = cast(:scope as uuid)))")
                .param("id", id).param("scope", ProjectAccess.scope()).query(ROW).optional();
    }

    public List<Artifact> forJob(UUID jobId) {
        return jdbc.sql("select * from artifact where job_id = :j order by created_at, name").param("j", jobId).query(ROW).list();
    }
}
