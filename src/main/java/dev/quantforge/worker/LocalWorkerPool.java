package dev.quantforge.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.dataset.DatasetService;
import dev.quantforge.job.JobLogRepository;
import dev.quantforge.job.JobRecord;
import dev.quantforge.job.JobRepository;
import dev.quantforge.job.LeaseReaper;
import dev.quantforge.model.ModelService;
import dev.quantforge.platform.DependencyUnavailableException;
import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.platform.ServerPaths;
import dev.quantforge.platform.ShutdownDrain;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.storage.BlobStore;

/**
 * In-process workers ({@code qf.worker.concurrency} threads, role {@code worker} without a
 * {@code qf.server-url}): each claims a job from the queue, runs it, and writes the outcome,
 * while a heartbeat renews the lease, publishes progress and picks up cancel requests.
 */
@Component
public class LocalWorkerPool implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(LocalWorkerPool.class);
    /** How long shutdown waits for running attempts to reach a stop point (within Kubernetes' default 30 s grace). */
    static final int STOP_WAIT_SECONDS = 15;

    private final QfProperties props;
    private final JobRepository jobs;
    private final JobLogRepository logs;
    private final JobResults results;
    private final WorkerRegistry registry;
    private final ModelService models;
    private final DatasetService datasets;
    private final BlobStore blobs;
    private final ObjectMapper json;
    private final MeterRegistry meters;
    private final dev.quantforge.artifact.ArtifactRepository artifacts;
    private final dev.quantforge.report.ReportRepository reports;
    private final Map<String, JobHandler> handlers;
    private final Map<UUID, LiveProgress> running = new ConcurrentHashMap<>();
    private final InstanceDirectory instance;

    private volatile boolean active;
    private final List<Thread> threads = new ArrayList<>();
    private ScheduledExecutorService heartbeats;
    private UUID workerId;
    private List<String> capabilityTags;
    private ObjectNode capabilities;
    private final org.springframework.core.env.Environment environment;
    private final LeaseReaper reaper;
    private final ShutdownDrain drain;

    public LocalWorkerPool(QfProperties props, JobRepository jobs, JobLogRepository logs, JobResults results,
                           WorkerRegistry registry, ModelService models, DatasetService datasets, BlobStore blobs,
                           ObjectMapper json, MeterRegistry meters, dev.quantforge.artifact.ArtifactRepository artifacts,
                           dev.quantforge.report.ReportRepository reports, List<JobHandler> handlers, InstanceDirectory instance,
                           org.springframework.core.env.Environment environment, LeaseReaper reaper, ShutdownDrain drain) {
        this.drain = drain;
        this.environment = environment;
        this.reaper = reaper;
        this.instance = instance;
        this.artifacts = artifacts;
        this.reports = reports;
        this.props = props;
        this.jobs = jobs;
        this.logs = logs;
        this.results = results;
        this.registry = registry;
        this.models = models;
        this.datasets = datasets;
        this.blobs = blobs;
        this.json = json;
        this.meters = meters;
        this.handlers = handlers.stream().collect(Collectors.toMap(JobHandler::type, Function.identity()));
    }

    boolean enabled() {
        return props.hasRole("worker") && (props.serverUrl() == null || props.serverUrl().isBlank())
                && props.worker().concurrency() > 0;
    }

    @Override
    public void start() {
        // the in-process workers lease under the instance identity, which a restarted process adopts again
        workerId = instance.id();
        if (instance.restarted()) {
            // the process that held this identity died with jobs running
            reaper.requeueJobsOfRestartedWorker(workerId);
        }
        if (!enabled()) {
            return;
        }
        // qf.trtexec / qf.nvidia-smi, or QF_TRTEXEC / QF_NVIDIA_SMI in the environment (Spring's relaxed binding)
        ObjectNode caps = LocalCapabilities.detect(environment.getProperty("qf.trtexec"), environment.getProperty("qf.nvidia-smi"));
        capabilities = caps;
        capabilityTags = WorkerRegistry.tags(caps);
        String name = props.worker().name() == null || props.worker().name().isBlank()
                ? "local@" + LocalCapabilities.hostName() + "/" + ProcessHandle.current().pid() : props.worker().name();
        registry.registerAs(workerId, name, caps, false);
        heartbeats = Executors.newScheduledThreadPool(1, r -> daemon(r, "worker-heartbeat"));
        long hb = heartbeatMillis();
        heartbeats.scheduleWithFixedDelay(this::heartbeat, hb, hb, TimeUnit.MILLISECONDS);
        active = true;
        for (int i = 0; i < props.worker().concurrency(); i++) {
            Thread t = new Thread(this::loop, "worker-" + i);
            t.start();
            threads.add(t);
        }
        log.info("{} in-process worker thread(s) started as worker {} ({}) with capabilities {}",
                threads.size(), workerId, name, capabilityTags);
    }

    /** Heartbeats often enough that cancel takes effect within seconds and a lease never lapses while alive. */
    long heartbeatMillis() {
        return Math.max(500, Math.min(2000, props.jobs().leaseSeconds() * 1000L / 4));
    }

    private void loop() {
        while (active) {
            try {
                if (drain.draining()) {
                    // the context is closing: no new jobs (stop() follows and hands back the running ones)
                    Thread.sleep(props.worker().pollMillis());
                    continue;
                }
                Optional<JobRecord> claimed = jobs.claim(workerId.toString(), capabilityTags, props.jobs().leaseSeconds());
                if (claimed.isEmpty()) {
                    Thread.sleep(props.worker().pollMillis());
                    continue;
                }
                execute(claimed.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (DependencyUnavailableException.of(e).isPresent()) {
                    log.warn("worker loop: the database is unavailable ({}); retrying", e.getMessage());
                    sleepQuietly(Math.max(1000, props.worker().pollMillis()));
                } else {
                    log.error("worker loop error; retrying", e);
                    sleepQuietly(props.worker().pollMillis());
                }
            }
        }
    }

    private void execute(JobRecord job) {
        JobHandler handler = handlers.get(job.type());
        String owner = workerId.toString();
        if (handler == null) {
            jobs.fail(job.id(), owner, "unsupported_type", "this worker has no handler for job type " + job.type(), false);
            return;
        }
        LiveProgress progress = new LiveProgress();
        running.put(job.id(), progress);
        Path workDir = null;
        Timer.Sample timer = Timer.start(meters);
        String outcomeTag = "failed";
        try {
            workDir = instance.newDirectory("job-" + job.id() + "-");
            logs.append(job.id(), "INFO", "attempt " + job.attempts() + " of " + job.maxAttempts() + " started on worker " + owner);
            LocalJobExecution exec = new LocalJobExecution(job, json, models, datasets, blobs, artifacts, results, reports, owner, logs, progress, workDir,
                    props.dataDir().resolve("cache"), capabilities);
            AttemptRunner.Ended ended = AttemptRunner.run(handler, exec);
            outcomeTag = record(job, owner, ended);
        } catch (InvalidInputException e) {
            // an input went away: running it again cannot succeed
            jobs.fail(job.id(), owner, "invalid_input", e.getMessage(), false);
            logs.append(job.id(), "ERROR", "failed: " + e.getMessage());
        } catch (Exception e) {
            log.error("job {} could not be run", job.id(), e);
            jobs.fail(job.id(), owner, "internal_error", e.getClass().getSimpleName() + ": " + ServerPaths.redact(e.getMessage()), true);
        } finally {
            running.remove(job.id());
            registry.touch(workerId, null);
            AttemptRunner.deleteTree(workDir);
            instance.release(workDir);
            timer.stop(meters.timer("qf.job.duration", "type", job.type(), "outcome", outcomeTag));
        }
    }

    private String record(JobRecord job, String owner, AttemptRunner.Ended ended) {
        if (ended instanceof AttemptRunner.Succeeded s) {
            if (!results.complete(job.id(), job.modelId(), owner, s.outcome())) {
                log.warn("job {} finished but this worker lost its lease; result dropped", job.id());
                return "lease_lost";
            }
            return "succeeded";
        }
        if (ended instanceof AttemptRunner.Stopped st) {
            if (LiveProgress.CANCELLED.equals(st.reason())) {
                jobs.markCancelled(job.id(), owner);
                logs.append(job.id(), "INFO", "cancelled");
                return "cancelled";
            }
            if (LiveProgress.SHUTDOWN.equals(st.reason())) {
                handBack(job.id());
                return "handed_back";
            }
            return "lease_lost";
        }
        AttemptRunner.Failed f = (AttemptRunner.Failed) ended;
        if (!active) {
            // the process is stopping: a failure now may be the runtime going away under the attempt
            handBack(job.id());
            return "handed_back";
        }
        Optional<dev.quantforge.job.JobState> state = jobs.fail(job.id(), owner, f.code(), f.message(), f.retryable());
        logs.append(job.id(), "ERROR", "attempt " + job.attempts() + " failed (" + f.code() + "): " + f.message()
                + state.map(x -> " → " + x.apiName()).orElse(""));
        return "failed";
    }

    private void heartbeat() {
        try {
            registry.touch(workerId, running.keySet().stream().findFirst().orElse(null));
            for (Map.Entry<UUID, LiveProgress> e : running.entrySet()) {
                LiveProgress p = e.getValue();
                Optional<Boolean> answer = jobs.heartbeat(e.getKey(), workerId.toString(), props.jobs().leaseSeconds(),
                        p.fraction(), p.phase(), p.message());
                if (answer.isEmpty()) {
                    p.requestStop(LiveProgress.LEASE_LOST);
                } else if (answer.get()) {
                    p.requestStop(LiveProgress.CANCELLED);
                }
            }
        } catch (RuntimeException e) {
            log.warn("heartbeat failed: {}", e.toString());
        }
    }

    @Override
    public void stop() {
        if (!active) {
            return;
        }
        active = false;
        running.values().forEach(p -> p.requestStop(LiveProgress.SHUTDOWN));
        long deadline = System.nanoTime() + Duration.ofSeconds(STOP_WAIT_SECONDS).toNanos();
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // an attempt that did not reach a stop point in time: given back anyway (its late result is refused: no lease)
        running.keySet().forEach(this::handBack);
        threads.clear();
        heartbeats.shutdownNow();
    }

    /** Queued again at once, the attempt not counted (see JobRepository#handBack). */
    private void handBack(UUID jobId) {
        jobs.handBack(jobId, workerId.toString(), "the worker shut down").ifPresent(state -> {
            log.info("job {} handed back to the queue on shutdown → {}", jobId, state.apiName());
            logs.append(jobId, "INFO", "worker " + workerId + " shut down while running this attempt; handed back to the queue → "
                    + state.apiName() + " (the attempt is not counted)");
        });
    }

    @Override
    public boolean isRunning() {
        return active;
    }

    @Override
    public int getPhase() {
        // the first to stop: running jobs go back to the queue while the web server still serves (see ShutdownDrain)
        return ShutdownDrain.WORKERS_PHASE;
    }

    public UUID workerId() {
        return workerId;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
