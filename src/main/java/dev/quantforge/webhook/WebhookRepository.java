package dev.quantforge.webhook;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import dev.quantforge.platform.Text;

/**
 * Webhooks and their delivery queue. Deliveries are written by database triggers in the transaction that changed the
 * job (V4 migration), so whichever process — API, in-process worker, remote worker's request, reaper — made the change,
 * the event is queued with it; senders claim due rows with {@code FOR UPDATE SKIP LOCKED} and a claim that lapses, so
 * several API replicas never send one twice at once and a sender that died mid-way leaves the row to the next.
 */
@Repository
public class WebhookRepository {

    public record Webhook(UUID id, UUID projectId, String url, List<String> events, String secret, Instant createdAt) {
    }

    /** One delivery: its id is the event id receivers de-duplicate on. */
    public record Delivery(UUID id, UUID webhookId, String event, UUID jobId, UUID reportId, String state, int attempts,
                           Integer lastStatus, String lastError, Instant createdAt, Instant nextAttemptAt, Instant deliveredAt) {
    }

    /** A claimed delivery with what sending it needs. */
    public record Claimed(UUID id, UUID webhookId, String event, UUID jobId, UUID reportId, String payload, int attempts, String url,
                          String secret) {
    }

    private static final RowMapper<Webhook> WEBHOOK = (rs, i) -> new Webhook(rs.getObject("id", UUID.class),
            rs.getObject("project_id", UUID.class), rs.getString("url"), strings(rs.getArray("events")), rs.getString("secret"),
            instant(rs, "created_at"));

    private static final RowMapper<Delivery> DELIVERY = (rs, i) -> new Delivery(rs.getObject("id", UUID.class),
            rs.getObject("webhook_id", UUID.class), rs.getString("event"), rs.getObject("job_id", UUID.class),
            rs.getObject("report_id", UUID.class), rs.getString("state"), rs.getInt("attempts"),
            rs.getObject("last_status") == null ? null : rs.getInt("last_status"), rs.getString("last_error"),
            instant(rs, "created_at"), rs.getString("state").equals("pending") ? instant(rs, "next_attempt_at") : null,
            instant(rs, "delivered_at"));

    private final JdbcClient jdbc;

    public WebhookRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void insert(Webhook w) {
        jdbc.sql("insert into webhook (id, project_id, url, events, secret) values (:id, :p, :url, string_to_array(:events, ','), :secret)")
                .param("id", w.id()).param("p", w.projectId()).param("url", w.url()).param("events", String.join(",", w.events()))
                .param("secret", w.secret()).update();
    }

    public Optional<Webhook> find(UUID projectId, UUID id) {
        return jdbc.sql("select * from webhook where id = :id and project_id = :p and deleted_at is null")
                .param("id", id).param("p", projectId).query(WEBHOOK).optional();
    }

    public List<Webhook> list(UUID projectId) {
        return jdbc.sql("select * from webhook where project_id = :p and deleted_at is null order by created_at, id")
                .param("p", projectId).query(WEBHOOK).list();
    }

    /** Deletes the webhook; its pending deliveries end as failed ("webhook deleted"), its log stays readable no more. */
    public void delete(UUID id) {
        jdbc.sql("update webhook set deleted_at = now() where id = :id and deleted_at is null").param("id", id).update();
        jdbc.sql("update webhook_delivery set state = 'failed', last_error = 'webhook deleted', updated_at = now() "
                + "where webhook_id = :id and state = 'pending'").param("id", id).update();
    }

    public List<Delivery> deliveries(UUID webhookId, int limit) {
        return jdbc.sql("select * from webhook_delivery where webhook_id = :w order by created_at desc, id limit :n")
                .param("w", webhookId).param("n", limit).query(DELIVERY).list();
    }

    /** Claims up to {@code limit} due deliveries for {@code claimSeconds}. */
    public List<Claimed> claimDue(int limit, double claimSeconds) {
        return jdbc.sql("""
                        update webhook_delivery d set claimed_until = now() + make_interval(secs => :claim), updated_at = now()
                        from webhook w
                        where w.id = d.webhook_id and d.id in (
                            select d2.id from webhook_delivery d2 join webhook w2 on w2.id = d2.webhook_id
                            where d2.state = 'pending' and d2.next_attempt_at <= now()
                              and (d2.claimed_until is null or d2.claimed_until < now()) and w2.deleted_at is null
                            order by d2.next_attempt_at, d2.created_at limit :n for update of d2 skip locked)
                        returning d.id, d.webhook_id, d.event, d.job_id, d.report_id, d.payload, d.attempts, w.url, w.secret""")
                .param("claim", claimSeconds).param("n", limit)
                .query((rs, i) -> new Claimed(rs.getObject("id", UUID.class), rs.getObject("webhook_id", UUID.class), rs.getString("event"),
                        rs.getObject("job_id", UUID.class), rs.getObject("report_id", UUID.class), rs.getString("payload"),
                        rs.getInt("attempts"), rs.getString("url"), rs.getString("secret")))
                .list();
    }

    /** Fixes the body at the first attempt: every retry sends the same bytes. Returns the stored body. */
    public String fixPayload(UUID id, String payload) {
        return jdbc.sql("update webhook_delivery set payload = coalesce(payload, :p) where id = :id returning payload")
                .param("p", payload).param("id", id).query(String.class).single();
    }

    public void delivered(UUID id, int status) {
        jdbc.sql("update webhook_delivery set state = 'delivered', attempts = attempts + 1, last_status = :s, last_error = null, "
                        + "delivered_at = now(), claimed_until = null, updated_at = now() where id = :id")
                .param("s", status).param("id", id).update();
    }

    /** A failed attempt: retried after {@code retrySeconds} unless it was the last one allowed. */
    public void attemptFailed(UUID id, Integer status, String error, double retrySeconds, int maxAttempts) {
        jdbc.sql("update webhook_delivery set attempts = attempts + 1, last_status = :s, last_error = :e, claimed_until = null, "
                        + "state = case when attempts + 1 >= :max then 'failed' else 'pending' end, "
                        + "next_attempt_at = now() + make_interval(secs => :retry), updated_at = now() where id = :id")
                .param("s", status).param("e", Text.storable(error)).param("max", maxAttempts).param("retry", retrySeconds)
                .param("id", id).update();
    }

    /** Gives a claim back untouched (the sender is stopping). */
    public void release(UUID id) {
        jdbc.sql("update webhook_delivery set claimed_until = null where id = :id").param("id", id).update();
    }

    private static List<String> strings(Array a) throws SQLException {
        return a == null ? List.of() : Arrays.asList((String[]) a.getArray());
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant();
    }
}
