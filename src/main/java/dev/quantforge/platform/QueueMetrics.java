package dev.quantforge.platform;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Queue gauges for /actuator/prometheus: jobs per state ({@code qf_jobs{state="queued"}}). Counts
 * are read at most once a second however often they are scraped.
 */
@Component
public class QueueMetrics implements MeterBinder {

    private static final String[] STATES = {"queued", "running", "succeeded", "failed", "cancelled"};

    private final JdbcClient jdbc;
    private final AtomicReference<Map<String, Long>> cached = new AtomicReference<>(Map.of());
    private volatile long readAt;

    public QueueMetrics(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String state : STATES) {
            Gauge.builder("qf.jobs", this, m -> m.count(state)).tag("state", state)
                    .description("jobs by state").register(registry);
        }
    }

    double count(String state) {
        long now = System.currentTimeMillis();
        if (now - readAt > 1000) {
            try {
                Map<String, Long> m = new java.util.HashMap<>();
                jdbc.sql("select state, count(*) from job group by state").query(rs -> {
                    m.put(rs.getString(1), rs.getLong(2));
                });
                cached.set(m);
                readAt = now;
            } catch (RuntimeException e) {
                return Double.NaN;
            }
        }
        return cached.get().getOrDefault(state, 0L);
    }
}
