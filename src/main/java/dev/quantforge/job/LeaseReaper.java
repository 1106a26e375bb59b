package dev.quantforge.job;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.quantforge.platform.QfProperties;

/**
 * Requeues jobs whose worker died (lease expired) until their attempts run out, then fails them
 * with a clear error; and tells queued jobs when no live worker can serve them. Runs in the api
 * role; several replicas may run it at once (the statements are safe to race).
 */
@Component
public class LeaseReaper implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(LeaseReaper.class);

    private final JobRepository jobs;
    private final JobLogRepository logs;
    private final QfProperties props;
    private final List<LiveWorkers> liveWorkers;
    private ScheduledExecutorService scheduler;

    /** The capability tag sets of workers alive now (implemented by the worker package). */
    public interface LiveWorkers {
        List<List<String>> liveCapabilityTags();
    }

    public LeaseReaper(JobRepository jobs, JobLogRepository logs, QfProperties props, List<LiveWorkers> liveWorkers) {
        this.jobs = jobs;
        this.logs = logs;
        this.props = props;
        this.liveWorkers = liveWorkers;
    }

    /** One pass: reap expired leases, then refresh "no worker can run this" messages. */
    public int reapOnce() {
        List<JobRepository.Reaped> reaped = jobs.reapExpiredLeases();
        for (JobRepository.Reaped r : reaped) {
            String what = r.outcome();
            log.warn("job {}: lease of worker {} expired; {}", r.id(), r.previousOwner(), what);
            logs.append(r.id(), "WARN", "worker " + r.previousOwner() + " stopped responding (lease expired); " + what);
        }
        List<List<String>> live = liveWorkers.stream().flatMap(l -> l.liveCapabilityTags().stream()).toList();
        jobs.markUnservable(live);
        return reaped.size();
    }

    /**
     * A worker registered again under its instance identity after its process restarted: the jobs its previous
     * incarnation held go back to the queue now (or fail, past maxAttempts), not when their leases lapse.
     */
    public int requeueJobsOfRestartedWorker(UUID workerId) {
        List<JobRepository.Reaped> reaped = jobs.requeueHeldBy(workerId.toString());
        for (JobRepository.Reaped r : reaped) {
            String what = r.outcome();
            log.warn("job {}: worker {} restarted while running it; {}", r.id(), workerId, what);
            logs.append(r.id(), "WARN", "worker " + workerId + " died while running this job (its process restarted); " + what);
        }
        return reaped.size();
    }

    @Override
    public void start() {
        if (!props.hasRole("api")) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-reaper");
            t.setDaemon(true);
            return t;
        });
        int every = props.jobs().reaperIntervalSeconds();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                reapOnce();
            } catch (RuntimeException e) {
                log.warn("reaper pass failed: {}", e.toString());
            }
        }, 1, every, TimeUnit.SECONDS);
    }

    @Override
    public void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }

    @Override
    public boolean isRunning() {
        return scheduler != null;
    }
}
