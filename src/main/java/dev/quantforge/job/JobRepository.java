package dev.quantforge.job;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import dev.quantforge.platform.Text;
import dev.quantforge.platform.access.ProjectAccess;

/**
 * The job table is the queue. Every state change is one guarded SQL statement, so concurrent
 * workers, API replicas and the reaper never lose or double-run a job:
 * <ul>
 *   <li>claim: {@code FOR UPDATE SKIP LOCKED} picks the oldest highest-priority queued job that
 *       fits the worker's capabilities; claimers never wait on each other;</li>
 *   <li>every write by a worker is fenced by {@code lease_owner} and {@code state='running'}: a
 *       worker whose lease was reaped cannot overwrite the job's new attempt.</li>
 * </ul>
 */
@Repository
public class JobRepository {

    static final String COLUMNS = "id, type, state, model_id, calibration_dataset_id, evaluation_dataset_id, training_dataset_id, "
            + "config::text as config, priority, requirements, attempts, max_attempts, idempotency_key, lease_owner, worker_id, lease_expires_at, "
            + "cancel_requested, progress_fraction, progress_phase, progress_message, result::text as result, error_code, error_message, "
            + "created_at, started_at, finished_at, updated_at, request_hash, project_id";

    private final JdbcClient jdbc;

    public JobRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** A new job to insert, in {@code projectId} (the constructors without it: the caller's project). */
    public record NewJob(UUID id, String type, UUID modelId, UUID calibrationDatasetId, UUID evaluationDatasetId,
                         UUID trainingDatasetId, String configJson, int priority, List<String> requirements,
                         int maxAttempts, String idempotencyKey, String requestHash, UUID projectId) {

        public NewJob(UUID id, String type, UUID modelId, UUID calibrationDatasetId, UUID evaluationDatasetId,
                      UUID trainingDatasetId, String configJson, int priority, List<String> requirements,
                      int maxAttempts, String idempotencyKey, String requestHash) {
            this(id, type, modelId, calibrationDatasetId, evaluationDatasetId, trainingDatasetId, configJson, priority, requirements,
                    maxAttempts, idempotencyKey, requestHash, ProjectAccess.current());
        }

        /** A job inserted without a request body to compare a reused Idempotency-Key against. */
        public NewJob(UUID id, String type, UUID modelId, UUID calibrationDatasetId, UUID evaluationDatasetId,
                      UUID trainingDatasetId, String configJson, int priority, List<String> requirements,
                      int maxAttempts, String idempotencyKey) {
            this(id, type, modelId, calibrationDatasetId, evaluationDatasetId, trainingDatasetId, configJson, priority, requirements,
                    maxAttempts, idempotencyKey, null);
        }
    }

    /** Inserts the job; with an idempotency key already used, inserts nothing and returns false. */
    public boolean insert(NewJob j) {
        int n = jdbc.sql("""
                        insert into job (id, type, state, model_id, calibration_dataset_id, evaluation_dataset_id, training_dataset_id,
                                         config, priority, requirements, max_attempts, idempotency_key, request_hash, progress_phase, progress_message,
                                         project_id)
                        values (:id, :type, 'queued', :model, :calib, :eval, :train, cast(:config as jsonb), :priority,
                                string_to_array(:req, ','), :maxAttempts, :key, :hash, 'queued', 'waiting for a worker', :project)
                        on conflict (project_id, idempotency_key) do nothing""")
                .param("project", j.projectId())
                .param("id", j.id()).param("type", j.type()).param("model", j.modelId())
                .param("calib", j.calibrationDatasetId()).param("eval", j.evaluationDatasetId()).param("train", j.trainingDatasetId())
                .param("config", j.configJson()).param("priority", j.priority())
                .param("req", String.join(",", j.requirements())).param("maxAttempts", j.maxAttempts())
                .param("key", j.idempotencyKey()).param("hash", j.requestHash())
                .update();
        return n == 1;
    }

    /** The job, if the caller's project may see it (ProjectAccess: the service itself sees every job). */
    public Optional<JobRecord> find(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from job where id = :id").param("id", id).query(ROW).optional()
                .filter(j -> ProjectAccess.visible(j.projectId()));
    }

    /** The caller's project's job with this Idempotency-Key. */
    public Optional<JobRecord> findByIdempotencyKey(String key) {
        return jdbc.sql("select " + COLUMNS + " from job where project_id = :p and idempotency_key = :k")
                .param("p", ProjectAccess.current()).param("k", key).query(ROW).optional();
    }

    /** The caller's project's jobs. */
    public List<JobRecord> list(JobState state, String type, UUID modelId, int page, int size) {
        return jdbc.sql("select " + COLUMNS + " from job where " + FILTER + " order by created_at desc, id limit :size offset :offset")
                .param("state", state == null ? null : state.apiName()).param("type", type).param("model", modelId)
                .param("project", ProjectAccess.current())
                .param("size", size).param("offset", (long) page * size)
                .query(ROW).list();
    }

    public long count(JobState state, String type, UUID modelId) {
        return jdbc.sql("select count(*) from job where " + FILTER)
                .param("state", state == null ? null : state.apiName()).param("type", type).param("model", modelId)
                .param("project", ProjectAccess.current())
                .query(Long.class).single();
    }

    private static final String FILTER = "project_id = :project and (cast(:state as text) is null or state = cast(:state as text)) "
            + "and (cast(:type as text) is null or type = cast(:type as text)) and (cast(:model as uuid) is null or model_id = cast(:model as uuid))";

    /**
     * Claims the next queued job whose requirements are all among {@code capabilities}; empty when
     * none fits. Increments attempts and grants a lease of {@code leaseSeconds}.
     */
    public Optional<JobRecord> claim(String workerId, Collection<String> capabilities, int leaseSeconds) {
        return claim(workerId, capabilities, leaseSeconds, null);
    }

    /** As {@link #claim(String, Collection, int)}, among {@code projectId}'s jobs only (null: every project's). */
    public Optional<JobRecord> claim(String workerId, Collection<String> capabilities, int leaseSeconds, UUID projectId) {
        return jdbc.sql("update job set state = 'running', lease_owner = :owner, worker_id = :owner, "
                        + "lease_expires_at = now() + make_interval(secs => :lease), attempts = attempts + 1, "
                        + "started_at = now(), finished_at = null, updated_at = now(), "
                        + "progress_fraction = 0, progress_phase = 'starting', progress_message = 'claimed by worker ' || :owner "
                        + "where id = (select id from job where state = 'queued' and requirements <@ string_to_array(:caps, ',') "
                        + "and (cast(:project as uuid) is null or project_id = cast(:project as uuid)) "
                        + "order by priority desc, created_at, id limit 1 for update skip locked) "
                        + "returning " + COLUMNS)
                .param("owner", workerId).param("lease", leaseSeconds).param("caps", String.join(",", capabilities))
                .param("project", projectId)
                .query(ROW).optional();
    }

    /**
     * Renews the lease and records progress. Returns empty when the worker no longer holds the job
     * (the lease was reaped or the job finished); otherwise whether cancel was requested.
     */
    public Optional<Boolean> heartbeat(UUID jobId, String workerId, int leaseSeconds, Double fraction, String phase, String message) {
        return jdbc.sql("update job set lease_expires_at = now() + make_interval(secs => :lease), updated_at = now(), "
                        + "progress_fraction = coalesce(:fraction, progress_fraction), progress_phase = coalesce(:phase, progress_phase), "
                        + "progress_message = coalesce(:message, progress_message) "
                        + "where id = :id and lease_owner = :owner and state = 'running' returning cancel_requested")
                .param("lease", leaseSeconds).param("fraction", fraction).param("phase", Text.storable(phase))
                .param("message", Text.storable(message))
                .param("id", jobId).param("owner", workerId)
                .query(Boolean.class).optional();
    }

    /** Locks the job row for the rest of the transaction if this worker still holds its lease. */
    public boolean lockIfHeld(UUID jobId, String workerId) {
        return jdbc.sql("select 1 from job where id = :id and lease_owner = :owner and state = 'running' for update")
                .param("id", jobId).param("owner", workerId).query(Integer.class).optional().isPresent();
    }

    /** Marks the job succeeded; false if this worker no longer holds it (its result must be dropped). */
    public boolean complete(UUID jobId, String workerId, String resultJson) {
        return jdbc.sql("update job set state = 'succeeded', result = cast(:result as jsonb), finished_at = now(), updated_at = now(), "
                        + "progress_fraction = 1, progress_phase = 'done', progress_message = 'succeeded', "
                        + "lease_owner = null, lease_expires_at = null, error_code = null, error_message = null "
                        + "where id = :id and lease_owner = :owner and state = 'running'")
                .param("result", resultJson).param("id", jobId).param("owner", workerId).update() == 1;
    }

    /**
     * Records a failure of the current attempt: requeued when retryable and attempts remain, else
     * failed. A cancel request wins over both.
     */
    public Optional<JobState> fail(UUID jobId, String workerId, String code, String message, boolean retryable) {
        return jdbc.sql("update job set state = case when cancel_requested then 'cancelled' "
                        + "when :retryable and attempts < max_attempts then 'queued' else 'failed' end, "
                        + "error_code = :code, error_message = :message, updated_at = now(), "
                        + "finished_at = case when cancel_requested or not (:retryable and attempts < max_attempts) then now() end, "
                        + "progress_message = case when cancel_requested then 'cancelled' "
                        + "when :retryable and attempts < max_attempts then 'attempt ' || attempts || ' failed; requeued' else 'failed' end, "
                        + "lease_owner = null, lease_expires_at = null "
                        + "where id = :id and lease_owner = :owner and state = 'running' returning state")
                .param("retryable", retryable).param("code", Text.storable(code)).param("message", Text.storable(message))
                .param("id", jobId).param("owner", workerId)
                .query((rs, i) -> JobState.fromApiName(rs.getString(1))).optional();
    }

    /**
     * The worker gives the job back unfinished because it is shutting down (SIGTERM, a rolling update): queued again
     * at once, and the attempt is not counted — the job did not fail, so draining workers never use up its
     * {@code maxAttempts}. A cancel request wins. Empty if this worker no longer holds it.
     */
    public Optional<JobState> handBack(UUID jobId, String workerId, String reason) {
        return jdbc.sql("update job set state = case when cancel_requested then 'cancelled' else 'queued' end, "
                        + "attempts = case when cancel_requested then attempts else greatest(attempts - 1, 0) end, "
                        + "finished_at = case when cancel_requested then now() end, "
                        + "progress_message = case when cancel_requested then 'cancelled' else 'handed back (' || :reason || '); requeued' end, "
                        + "lease_owner = null, lease_expires_at = null, updated_at = now() "
                        + "where id = :id and lease_owner = :owner and state = 'running' returning state")
                .param("reason", Text.storable(reason)).param("id", jobId).param("owner", workerId)
                .query((rs, i) -> JobState.fromApiName(rs.getString(1))).optional();
    }

    /** The worker stopped the job because cancel was requested. */
    public boolean markCancelled(UUID jobId, String workerId) {
        return jdbc.sql("update job set state = 'cancelled', finished_at = now(), updated_at = now(), progress_phase = 'cancelled', "
                        + "progress_message = 'cancelled', lease_owner = null, lease_expires_at = null "
                        + "where id = :id and lease_owner = :owner and state = 'running'")
                .param("id", jobId).param("owner", workerId).update() == 1;
    }

    /**
     * Asks a job to stop: a queued job is cancelled at once, a running one is flagged and stops at
     * its next progress point. Returns the state after the request, empty if the job is unknown.
     */
    public Optional<JobState> requestCancel(UUID jobId) {
        int queued = jdbc.sql("update job set state = 'cancelled', cancel_requested = true, finished_at = now(), updated_at = now(), "
                        + "progress_phase = 'cancelled', progress_message = 'cancelled before it started' where id = :id and state = 'queued'")
                .param("id", jobId).update();
        if (queued == 0) {
            jdbc.sql("update job set cancel_requested = true, updated_at = now(), progress_message = 'cancel requested' "
                    + "where id = :id and state = 'running'").param("id", jobId).update();
        }
        return jdbc.sql("select state from job where id = :id").param("id", jobId)
                .query((rs, i) -> JobState.fromApiName(rs.getString(1))).optional();
    }

    /** Requeues a failed or cancelled job with a fresh attempt budget; false if it is in another state. */
    public boolean retry(UUID jobId) {
        return jdbc.sql("update job set state = 'queued', attempts = 0, cancel_requested = false, error_code = null, error_message = null, "
                        + "result = null, finished_at = null, started_at = null, progress_fraction = 0, progress_phase = 'queued', "
                        + "progress_message = 'retry requested; waiting for a worker', updated_at = now() "
                        + "where id = :id and state in ('failed', 'cancelled')")
                .param("id", jobId).update() == 1;
    }

    /** A job whose lease expired: the worker holding it is presumed dead. */
    public record Reaped(UUID id, JobState newState, int attempts, String previousOwner) {

        /** What became of the job, for its log: "requeued for attempt 2", "failed after 3 attempts". */
        public String outcome() {
            return switch (newState) {
                case QUEUED -> "requeued for attempt " + (attempts + 1);
                case FAILED -> "failed after " + attempts + " attempts";
                default -> newState.apiName();
            };
        }
    }

    /**
     * Requeues running jobs whose lease expired (until max attempts; then fails them; cancelled
     * if cancel was requested).
     */
    public List<Reaped> reapExpiredLeases() {
        return reap("lease_expires_at < now()", null, "stopped responding (lease expired)", "worker lost (lease expired)");
    }

    /**
     * Requeues (or fails, past max attempts) the running jobs whose lease {@code owner} holds, without
     * waiting for the leases to lapse: the owner is known dead (a restarted process's previous incarnation).
     */
    public List<Reaped> requeueHeldBy(String owner) {
        return reap("lease_owner = :owner", owner, "died (its process restarted)", "worker restarted");
    }

    /** Requeues, fails (past max attempts) or cancels (when asked) the running jobs matching {@code condition}. */
    private List<Reaped> reap(String condition, String owner, String howLost, String lost) {
        var sql = jdbc.sql("""
                        with expired as (
                            select id, lease_owner from job where state = 'running' and %s for update skip locked
                        )
                        update job j set
                            state = case when j.cancel_requested then 'cancelled' when j.attempts >= j.max_attempts then 'failed' else 'queued' end,
                            error_code = case when j.cancel_requested then j.error_code when j.attempts >= j.max_attempts then 'worker_lost' else j.error_code end,
                            error_message = case when j.cancel_requested then j.error_message when j.attempts >= j.max_attempts
                                then 'the worker running this job ' || :howLost || ' on each of ' || j.attempts || ' attempts'
                                else j.error_message end,
                            finished_at = case when j.cancel_requested or j.attempts >= j.max_attempts then now() end,
                            progress_message = case when j.cancel_requested then 'cancelled' when j.attempts >= j.max_attempts then 'failed: worker lost'
                                else :lost || '; requeued for attempt ' || (j.attempts + 1) end,
                            lease_owner = null, lease_expires_at = null, updated_at = now()
                        from expired e where j.id = e.id
                        returning j.id, j.state, j.attempts, e.lease_owner""".formatted(condition))
                .param("howLost", howLost).param("lost", lost);
        if (owner != null) {
            sql = sql.param("owner", owner);
        }
        return sql.query((rs, i) -> new Reaped(rs.getObject(1, UUID.class), JobState.fromApiName(rs.getString(2)), rs.getInt(3), rs.getString(4)))
                .list();
    }

    /** Queued jobs whose requirements no live worker meets get a message saying so instead of waiting silently. */
    public void markUnservable(List<List<String>> liveCapabilitySets) {
        if (liveCapabilitySets.isEmpty()) {
            jdbc.sql("update job set progress_message = 'waiting: no worker is running' where state = 'queued' "
                    + "and progress_message is distinct from 'waiting: no worker is running'").update();
            return;
        }
        List<String> sets = liveCapabilitySets.stream().map(s -> String.join(",", s)).toList();
        // a queued job is servable when some live worker's capabilities contain all its requirements
        StringBuilder servable = new StringBuilder("false");
        Map<String, Object> params = new java.util.HashMap<>();
        for (int i = 0; i < sets.size(); i++) {
            servable.append(" or requirements <@ string_to_array(:c").append(i).append(", ',')");
            params.put("c" + i, sets.get(i));
        }
        // name what is missing: the required tags no live worker has at all, else (each is somewhere) that none has them all
        params.put("all", String.join(",", new java.util.TreeSet<>(liveCapabilitySets.stream().flatMap(List::stream).toList())));
        jdbc.sql("update job j set progress_message = m.message from (select id, case when cardinality(missing) > 0 "
                        + "then 'waiting: no live worker has the capabilities ' || array_to_string(missing, ', ') || ' (the job requires ' "
                        + "|| array_to_string(requirements, ', ') || ')' "
                        + "else 'waiting: no live worker has all the capabilities ' || array_to_string(requirements, ', ') end as message "
                        + "from (select id, requirements, array(select r from unnest(requirements) r "
                        + "where not (r = any(string_to_array(:all, ',')))) as missing from job "
                        + "where state = 'queued' and not (" + servable + ")) q) m "
                        + "where j.id = m.id and j.state = 'queued' and j.progress_message is distinct from m.message")
                .params(params).update();
        jdbc.sql("update job set progress_message = 'waiting for a worker' where state = 'queued' and (" + servable + ") "
                        + "and progress_message like 'waiting: no%'")
                .params(params).update();
    }

    public Map<String, Long> countByState() {
        Map<String, Long> out = new java.util.TreeMap<>();
        for (JobState s : JobState.values()) {
            out.put(s.apiName(), 0L);
        }
        jdbc.sql("select state, count(*) from job group by state").query(rs -> {
            out.put(rs.getString(1), rs.getLong(2));
        });
        return out;
    }

    public boolean existsActiveForModel(UUID modelId) {
        return jdbc.sql("select exists(select 1 from job where model_id = :m and state in ('queued','running'))")
                .param("m", modelId).query(Boolean.class).single();
    }

    public boolean existsActiveForDataset(UUID datasetId) {
        return jdbc.sql("select exists(select 1 from job where state in ('queued','running') and "
                        + "(calibration_dataset_id = :d or evaluation_dataset_id = :d or training_dataset_id = :d))")
                .param("d", datasetId).query(Boolean.class).single();
    }

    /** The job's input fields whose model or dataset has been deleted since (in field order). */
    public List<String> deletedInputs(JobRecord j) {
        return jdbc.sql("""
                        select field from (
                            select 'modelId' as field, 1 as ord from model where id = :m and deleted_at is not null
                            union all select 'calibrationDatasetId', 2 from dataset where id = :c and deleted_at is not null
                            union all select 'evaluationDatasetId', 3 from dataset where id = :e and deleted_at is not null
                            union all select 'trainingDatasetId', 4 from dataset where id = :t and deleted_at is not null
                        ) d order by ord""")
                .param("m", j.modelId()).param("c", j.calibrationDatasetId()).param("e", j.evaluationDatasetId())
                .param("t", j.trainingDatasetId())
                .query(String.class).list();
    }

    static final RowMapper<JobRecord> ROW = JobRepository::map;

    private static JobRecord map(ResultSet rs, int row) throws SQLException {
        Array req = rs.getArray("requirements");
        List<String> requirements = req == null ? List.of() : new ArrayList<>(Arrays.asList((String[]) req.getArray()));
        return new JobRecord(
                rs.getObject("id", UUID.class),
                rs.getString("type"),
                JobState.fromApiName(rs.getString("state")),
                rs.getObject("model_id", UUID.class),
                rs.getObject("calibration_dataset_id", UUID.class),
                rs.getObject("evaluation_dataset_id", UUID.class),
                rs.getObject("training_dataset_id", UUID.class),
                rs.getString("config"),
                rs.getInt("priority"),
                requirements,
                rs.getInt("attempts"),
                rs.getInt("max_attempts"),
                rs.getString("idempotency_key"),
                rs.getString("lease_owner"),
                rs.getString("worker_id"),
                instant(rs, "lease_expires_at"),
                rs.getBoolean("cancel_requested"),
                rs.getDouble("progress_fraction"),
                rs.getString("progress_phase"),
                rs.getString("progress_message"),
                rs.getString("result"),
                rs.getString("error_code"),
                rs.getString("error_message"),
                instant(rs, "created_at"),
                instant(rs, "started_at"),
                instant(rs, "finished_at"),
                instant(rs, "updated_at"),
                rs.getString("request_hash"),
                rs.getObject("project_id", UUID.class));
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant();
    }
}
