package dev.quantforge.worker;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** Workers (in-process and remote), what they can do, and when they were last heard from. */
@Repository
public class WorkerRegistry implements dev.quantforge.job.LeaseReaper.LiveWorkers {

    /**
     * @param currentJobId the job the worker runs now: only while it holds that job's lease (a dead worker holds none)
     * @param state        {@code live} when heard from within two lease periods, else {@code gone}
     * @param projectId    the project whose jobs it leases (registered with that project's worker key); null: the
     *                     service's shared fleet, which runs every project's jobs
     */
    public record WorkerInfo(UUID id, String name, JsonNode capabilities, List<String> capabilityTags, boolean remote,
                             Instant lastHeartbeatAt, UUID currentJobId, Instant createdAt, boolean live, String state, UUID projectId) {
    }

    private final JdbcClient jdbc;
    private final ObjectMapper json;
    private final int liveSeconds;

    public WorkerRegistry(JdbcClient jdbc, ObjectMapper json, dev.quantforge.platform.QfProperties props) {
        this.jdbc = jdbc;
        this.json = json;
        this.liveSeconds = 2 * props.jobs().leaseSeconds();
    }

    /** A worker is live when heard from within this many seconds. */
    public int liveSeconds() {
        return liveSeconds;
    }

    public UUID register(String name, JsonNode capabilities, boolean remote) {
        return register(name, capabilities, remote, null);
    }

    /** Registers a worker of {@code projectId} (null: the shared fleet). */
    public UUID register(String name, JsonNode capabilities, boolean remote, UUID projectId) {
        UUID id = UUID.randomUUID();
        jdbc.sql("insert into worker (id, name, capabilities, remote, project_id) values (:id, :name, cast(:caps as jsonb), :remote, :p)")
                .param("id", id).param("name", name).param("caps", json.writeValueAsString(capabilities)).param("remote", remote)
                .param("p", projectId).update();
        return id;
    }

    /** Registers the worker under a known id (an in-process worker's instance identity), reviving its row after a restart. */
    public void registerAs(UUID id, String name, JsonNode capabilities, boolean remote) {
        registerAs(id, name, capabilities, remote, null);
    }

    /**
     * Registers (or revives) the worker {@code id} of {@code projectId} (null: the shared fleet); false when that id is
     * another project's worker.
     */
    public boolean registerAs(UUID id, String name, JsonNode capabilities, boolean remote, UUID projectId) {
        return jdbc.sql("insert into worker (id, name, capabilities, remote, project_id) values (:id, :name, cast(:caps as jsonb), :remote, :p) "
                        + "on conflict (id) do update set name = excluded.name, capabilities = excluded.capabilities, "
                        + "remote = excluded.remote, last_heartbeat_at = now(), current_job_id = null "
                        + "where worker.project_id is not distinct from excluded.project_id")
                .param("id", id).param("name", name).param("caps", json.writeValueAsString(capabilities)).param("remote", remote)
                .param("p", projectId).update() == 1;
    }

    /** Records that the worker is alive (and what it runs now); false if it is unknown. */
    public boolean touch(UUID workerId, UUID currentJobId) {
        return jdbc.sql("update worker set last_heartbeat_at = now(), current_job_id = :job where id = :id")
                .param("id", workerId).param("job", currentJobId).update() == 1;
    }

    public Optional<WorkerInfo> find(UUID id, int liveSeconds) {
        return list(liveSeconds).stream().filter(w -> w.id().equals(id)).findFirst();
    }

    public List<WorkerInfo> list(int liveSeconds) {
        return jdbc.sql("select w.id, w.name, w.capabilities::text as caps, w.remote, w.last_heartbeat_at, w.created_at, w.project_id, "
                        + "case when j.id is not null then w.current_job_id end as current_job_id, "
                        + "w.last_heartbeat_at > now() - make_interval(secs => :live) as live from worker w "
                        + "left join job j on j.id = w.current_job_id and j.state = 'running' and j.lease_owner = w.id::text "
                        + "order by w.created_at")
                .param("live", liveSeconds)
                .query((rs, i) -> {
                    JsonNode caps = json.readTree(rs.getString("caps"));
                    return new WorkerInfo(rs.getObject("id", UUID.class), rs.getString("name"), caps, tags(caps),
                            rs.getBoolean("remote"), rs.getObject("last_heartbeat_at", Timestamp.class).toInstant(),
                            rs.getObject("current_job_id", UUID.class), rs.getObject("created_at", Timestamp.class).toInstant(),
                            rs.getBoolean("live"), rs.getBoolean("live") ? "live" : "gone", rs.getObject("project_id", UUID.class));
                }).list();
    }

    /** Tag sets of workers heard from within two lease periods. */
    @Override
    public List<List<String>> liveCapabilityTags() {
        return list(liveSeconds).stream().filter(WorkerInfo::live).map(WorkerInfo::capabilityTags).toList();
    }

    /** Forgets workers not heard from for a long time (their jobs were reaped long before). */
    public int forgetSilent(int seconds) {
        return jdbc.sql("delete from worker where last_heartbeat_at < now() - make_interval(secs => :s)").param("s", seconds).update();
    }

    /**
     * The capability tags a job's requirements are matched against: every key of the
     * capabilities object whose value is true, a non-empty string or an object ("cpu", "onnxruntime",
     * "cuda", "tensorrt", "gpu"), the entries of an explicit "tags" list, and the TensorRT version, GPU and
     * compute-capability tags {@link TensorRtRouting} derives.
     */
    public static List<String> tags(JsonNode capabilities) {
        TreeSet<String> tags = new TreeSet<>();
        if (capabilities != null && capabilities.isObject()) {
            for (var e : capabilities.properties()) {
                JsonNode v = e.getValue();
                if (e.getKey().equals("tags") && v.isArray()) {
                    v.forEach(t -> tags.add(t.asString()));
                } else if ((v.isBoolean() && v.asBoolean()) || (v.isString() && !v.stringValue().isBlank()) || v.isObject()) {
                    tags.add(e.getKey());
                }
            }
            tags.addAll(TensorRtRouting.derivedTags(capabilities));
        }
        return new ArrayList<>(tags);
    }
}
