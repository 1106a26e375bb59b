package dev.quantforge.report;

import java.sql.Timestamp;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import dev.quantforge.platform.access.ProjectAccess;

/** The results database: accuracy + latency of every layer configuration ever measured. */
@Repository
public class ReportRepository {

    private final JdbcClient jdbc;
    private final ObjectMapper json;
    private final RowMapper<ReportView> row;

    public ReportRepository(JdbcClient jdbc, ObjectMapper json) {
        this.jdbc = jdbc;
        this.json = json;
        this.row = (rs, i) -> new ReportView(rs.getObject("id", UUID.class), rs.getObject("job_id", UUID.class),
                rs.getObject("model_id", UUID.class), rs.getString("config_hash"), json.readTree(rs.getString("config")),
                json.readTree(rs.getString("metrics")), json.readTree(rs.getString("runtime")), json.readTree(rs.getString("layers")),
                rs.getObject("created_at", Timestamp.class).toInstant());
    }

    /**
     * Stores a report; the same configuration written again by the same job (a re-run attempt)
     * replaces the earlier row, so results writes are idempotent. Returns the report id.
     */
    public UUID upsert(UUID jobId, UUID modelId, JsonNode config, JsonNode metrics, JsonNode runtime, JsonNode layers) {
        return jdbc.sql("insert into report (id, job_id, model_id, config_hash, config, metrics, runtime, layers) "
                        + "values (:id, :job, :model, :hash, cast(:config as jsonb), cast(:metrics as jsonb), cast(:runtime as jsonb), cast(:layers as jsonb)) "
                        + "on conflict (job_id, config_hash) do update set metrics = excluded.metrics, runtime = excluded.runtime, "
                        + "layers = excluded.layers, config = excluded.config, created_at = now() returning id")
                .param("id", UUID.randomUUID()).param("job", jobId).param("model", modelId).param("hash", ConfigHash.of(config))
                .param("config", json.writeValueAsString(config)).param("metrics", json.writeValueAsString(metrics))
                .param("runtime", json.writeValueAsString(runtime)).param("layers", json.writeValueAsString(layers))
                .query(UUID.class).single();
    }

    private static final String SELECT = "select id, job_id, model_id, config_hash, config::text as config, metrics::text as metrics, "
            + "runtime::text as runtime, layers::text as layers, created_at from report ";

    /** Reports of jobs of the caller's project (ProjectAccess.scope(): null for the service itself). */
    private static final String VISIBLE = "(cast(:scope as uuid) is null or job_id in (select j.id from job j where j.project_id = cast(:scope as uuid)))";

    /** The report, if the caller's project may see it. */
    public Optional<ReportView> find(UUID id) {
        return jdbc.sql(SELECT + "where id = :id and " + VISIBLE).param("id", id).param("scope", ProjectAccess.scope()).query(row).optional();
    }

    public List<ReportView> forJob(UUID jobId) {
        return jdbc.sql(SELECT + "where job_id = :j order by created_at, id").param("j", jobId).query(row).list();
    }

    public List<UUID> idsForJob(UUID jobId) {
        return jdbc.sql("select id from report where job_id = :j order by created_at, id").param("j", jobId).query(UUID.class).list();
    }

    /** Whether the model was ever uploaded (a deleted model keeps its row and its results) and the caller may see it. */
    public boolean modelExists(UUID modelId) {
        return jdbc.sql("select exists(select 1 from model where id = :id and (cast(:scope as uuid) is null or project_id = cast(:scope as uuid)))")
                .param("id", modelId).param("scope", ProjectAccess.scope()).query(Boolean.class).single();
    }

    public boolean jobExists(UUID jobId) {
        return jdbc.sql("select exists(select 1 from job where id = :id and (cast(:scope as uuid) is null or project_id = cast(:scope as uuid)))")
                .param("id", jobId).param("scope", ProjectAccess.scope()).query(Boolean.class).single();
    }

    public List<ReportView> forModel(UUID modelId) {
        return jdbc.sql(SELECT + "where model_id = :m order by created_at, id").param("m", modelId).query(row).list();
    }
}
