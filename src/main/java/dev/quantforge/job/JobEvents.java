package dev.quantforge.job;

import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.DependencyUnavailableException;
import dev.quantforge.platform.ShutdownDrain;


/**
 * Server-sent events for a job. Each follower polls the job row and its log (every 500 ms), so
 * events work across API replicas and in-process or remote workers alike: a {@code state} event
 * on every state change, {@code progress} when progress moves, {@code log} per new log line; the
 * stream ends after the job reaches a final state.
 */
@Component
public class JobEvents implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(JobEvents.class);
    private static final long POLL_MILLIS = 500;

    private final JobRepository jobs;
    private final JobLogRepository logs;
    /** Made in {@link #start()}: a paused context (Spring's test context cache) is stopped and started again. */
    private volatile ScheduledExecutorService scheduler;
    private final Map<SseEmitter, ScheduledFuture<?>> followers = new ConcurrentHashMap<>();
    private volatile boolean running;

    public JobEvents(JobRepository jobs, JobLogRepository logs) {
        this.jobs = jobs;
        this.logs = logs;
    }

    /** Streams the job's events; log lines after {@code afterLogLine} only (a reconnecting client's Last-Event-ID). */
    public SseEmitter follow(UUID jobId, long afterLogLine) {
        if (!running) {
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "Service unavailable",
                    "this API replica is shutting down; follow the job's events on another replica", null);
        }
        SseEmitter emitter = new SseEmitter(0L);
        Follower f = new Follower(jobId, emitter, afterLogLine);
        ScheduledFuture<?> task = scheduler.scheduleWithFixedDelay(f::poll, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
        followers.put(emitter, task);
        Runnable stop = () -> {
            ScheduledFuture<?> t = followers.remove(emitter);
            if (t != null) {
                t.cancel(false);
            }
        };
        emitter.onCompletion(stop);
        emitter.onTimeout(stop);
        emitter.onError(e -> stop.run());
        return emitter;
    }

    private final class Follower {
        private final UUID jobId;
        private final SseEmitter emitter;
        private String lastState;
        private String lastProgress;
        private long lastLogSeq;
        private boolean done;

        Follower(UUID jobId, SseEmitter emitter, long afterLogLine) {
            this.jobId = jobId;
            this.emitter = emitter;
            this.lastLogSeq = afterLogLine;
        }

        void poll() {
            if (done) {
                return;
            }
            try {
                Optional<JobRecord> maybe = jobs.find(jobId);
                if (maybe.isEmpty()) {
                    finish();
                    return;
                }
                JobRecord j = maybe.get();
                for (JobLogRepository.LogLine line : logs.after(jobId, lastLogSeq, 500)) {
                    emitter.send(SseEmitter.event().name("log").id(Long.toString(line.seq())).data(line));
                    lastLogSeq = line.seq();
                }
                String progress = j.progressFraction() + "|" + j.progressPhase() + "|" + j.progressMessage();
                if (!Objects.equals(progress, lastProgress)) {
                    emitter.send(SseEmitter.event().name("progress").data(new JobView.Progress(j.progressFraction(), j.progressPhase(), j.progressMessage())));
                    lastProgress = progress;
                }
                if (!Objects.equals(j.state().apiName(), lastState)) {
                    emitter.send(SseEmitter.event().name("state").data(Map.of("state", j.state().apiName(), "attempts", j.attempts())));
                    lastState = j.state().apiName();
                }
                if (j.state().isTerminal()) {
                    finish();
                }
            } catch (IOException | IllegalStateException clientGone) {
                finish();
            } catch (RuntimeException e) {
                if (DependencyUnavailableException.of(e).isPresent()) {
                    // PostgreSQL restarting: the stream stays open and the next poll catches up
                    log.debug("event stream for job {}: database unavailable, polling on", jobId);
                    return;
                }
                log.warn("event stream for job {} failed", jobId, e);
                finish();
            }
        }

        private void finish() {
            done = true;
            ScheduledFuture<?> t = followers.remove(emitter);
            if (t != null) {
                t.cancel(false);
            }
            try {
                emitter.complete();
            } catch (RuntimeException ignored) {
                // already completed
            }
        }
    }

    /**
     * Shutdown ends every stream (after {@link ShutdownDrain}, before the web server waits for in-flight requests,
     * which an open stream would hold up to the shutdown timeout); clients reconnect, to another replica.
     */
    @Override
    public void stop() {
        running = false;
        followers.keySet().forEach(SseEmitter::complete);
        followers.values().forEach(t -> t.cancel(false));
        followers.clear();
        scheduler.shutdownNow();
    }

    @Override
    public void start() {
        scheduler = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "job-events");
            t.setDaemon(true);
            return t;
        });
        running = true;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return ShutdownDrain.PHASE - 1;
    }
}
