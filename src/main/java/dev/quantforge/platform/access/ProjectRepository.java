package dev.quantforge.platform.access;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Projects, their API keys (hashes only) and what they use against their quotas. */
@Repository
public class ProjectRepository {

    public record Project(UUID id, String name, Long maxConcurrentJobs, Long maxStorageBytes, Instant createdAt) {
    }

    /** A stored key: never the key itself, only its SHA-256 and the prefix shown in lists. */
    public record ApiKey(UUID id, UUID projectId, String name, String prefix, Set<Scope> scopes, Instant createdAt,
                         Instant lastUsedAt, Instant revokedAt) {
    }

    private static final RowMapper<Project> PROJECT = (rs, i) -> new Project(rs.getObject("id", UUID.class), rs.getString("name"),
            nullableLong(rs, "max_concurrent_jobs"), nullableLong(rs, "max_storage_bytes"),
            instant(rs, "created_at"));

    private static final RowMapper<ApiKey> KEY = (rs, i) -> new ApiKey(rs.getObject("id", UUID.class), rs.getObject("project_id", UUID.class),
            rs.getString("name"), rs.getString("prefix"), scopes(rs.getArray("scopes")), instant(rs, "created_at"),
            instant(rs, "last_used_at"), instant(rs, "revoked_at"));

    private final JdbcClient jdbc;

    public ProjectRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Inserts the project; false when the name is taken. */
    public boolean insert(Project p) {
        return jdbc.sql("insert into project (id, name, max_concurrent_jobs, max_storage_bytes) values (:id, :name, :jobs, :bytes) "
                        + "on conflict (name) do nothing")
                .param("id", p.id()).param("name", p.name()).param("jobs", p.maxConcurrentJobs()).param("bytes", p.maxStorageBytes())
                .update() == 1;
    }

    public Optional<Project> find(UUID id) {
        return jdbc.sql("select * from project where id = :id").param("id", id).query(PROJECT).optional();
    }

    public List<Project> list() {
        return jdbc.sql("select * from project order by created_at, name").query(PROJECT).list();
    }

    public void updateQuotas(UUID id, Long maxConcurrentJobs, Long maxStorageBytes) {
        jdbc.sql("update project set max_concurrent_jobs = :jobs, max_storage_bytes = :bytes where id = :id")
                .param("jobs", maxConcurrentJobs).param("bytes", maxStorageBytes).param("id", id).update();
    }

    public void insertKey(ApiKey k, String keyHash) {
        jdbc.sql("insert into api_key (id, project_id, name, prefix, key_hash, scopes) values (:id, :p, :name, :prefix, :hash, "
                        + "string_to_array(:scopes, ','))")
                .param("id", k.id()).param("p", k.projectId()).param("name", k.name()).param("prefix", k.prefix())
                .param("hash", keyHash).param("scopes", k.scopes().stream().map(Scope::apiName).collect(Collectors.joining(",")))
                .update();
    }

    /** The live key with this hash; marks it used (at most once a second: a burst of requests is one write). */
    public Optional<ApiKey> useKey(String keyHash) {
        Optional<ApiKey> k = jdbc.sql("select * from api_key where key_hash = :h and revoked_at is null").param("h", keyHash)
                .query(KEY).optional();
        k.ifPresent(key -> jdbc.sql("update api_key set last_used_at = now() where id = :id "
                + "and (last_used_at is null or last_used_at < now() - interval '1 second')").param("id", key.id()).update());
        return k;
    }

    public List<ApiKey> keys(UUID projectId) {
        return jdbc.sql("select * from api_key where project_id = :p order by created_at, id").param("p", projectId).query(KEY).list();
    }

    public Optional<ApiKey> key(UUID projectId, UUID keyId) {
        return jdbc.sql("select * from api_key where project_id = :p and id = :id").param("p", projectId).param("id", keyId)
                .query(KEY).optional();
    }

    public void revokeKey(UUID keyId) {
        jdbc.sql("update api_key set revoked_at = coalesce(revoked_at, now()) where id = :id").param("id", keyId).update();
    }

    /** Queued and running jobs of the project. */
    public long activeJobs(UUID projectId) {
        return jdbc.sql("select count(*) from job where project_id = :p and state in ('queued', 'running')").param("p", projectId)
                .query(Long.class).single();
    }

    /** Bytes of the project's live models and datasets (each counted once per project, whatever other projects share). */
    public long storageBytes(UUID projectId) {
        return jdbc.sql("select coalesce((select sum(size_bytes) from model where project_id = :p and deleted_at is null), 0) "
                        + "+ coalesce((select sum(size_bytes) from dataset where project_id = :p and deleted_at is null), 0)")
                .param("p", projectId).query(Long.class).single();
    }

    private static Set<Scope> scopes(Array a) throws SQLException {
        Set<Scope> out = EnumSet.noneOf(Scope.class);
        if (a != null) {
            Arrays.stream((String[]) a.getArray()).map(Scope::fromApiName).forEach(out::add);
        }
        return out;
    }

    private static Long nullableLong(ResultSet rs, String col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : v;
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant();
    }
}
