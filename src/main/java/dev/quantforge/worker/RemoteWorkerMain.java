package dev.quantforge.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.platform.QfProperties;

/**
 * Entry point of the remote worker mode of the jar: {@code --qf.roles=worker --qf.server-url=http://...}
 * (or QF_ROLES / QF_SERVER_URL). No database and no web server start: the worker talks only to
 * the API. The task handlers are the same beans the in-process workers use.
 */
public final class RemoteWorkerMain {

    private RemoteWorkerMain() {
    }

    /** True when the arguments and environment ask for a remote worker and no API role. */
    public static boolean requested(String[] args) {
        String roles = setting(args, "qf.roles", "QF_ROLES", "api,worker");
        String server = setting(args, "qf.server-url", "QF_SERVER_URL", "");
        return !server.isBlank() && !List.of(roles.replace(" ", "").split(",")).contains("api");
    }

    public static void run(String[] args) throws Exception {
        String server = setting(args, "qf.server-url", "QF_SERVER_URL", "");
        Path dataDir = Path.of(setting(args, "qf.data-dir", "QF_DATA_DIR", "./data")).toAbsolutePath().normalize();
        // logs the data directory; a restarted worker's scratch (work folders, partial downloads) is deleted
        InstanceDirectory instance = InstanceDirectory.claim(dataDir, Duration.ofMinutes(
                Integer.parseInt(setting(args, "qf.temp.max-age-minutes", "QF_TEMP_MAX_AGE_MINUTES", "" + QfProperties.Temp.DEFAULT_MAX_AGE_MINUTES))));
        long cleanEvery = Integer.parseInt(setting(args, "qf.temp.cleanup-interval-minutes", "QF_TEMP_CLEANUP_INTERVAL_MINUTES",
                "" + QfProperties.Temp.DEFAULT_CLEANUP_INTERVAL_MINUTES));
        ScheduledExecutorService cleaner = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "temp-cleaner");
            t.setDaemon(true);
            return t;
        });
        cleaner.scheduleWithFixedDelay(instance::deleteLeftovers, cleanEvery, cleanEvery, TimeUnit.MINUTES);
        int concurrency = Integer.parseInt(setting(args, "qf.worker.concurrency", "QF_WORKER_CONCURRENCY", "1"));
        String name = setting(args, "qf.worker.name", "QF_WORKER_NAME", "remote@" + LocalCapabilities.hostName());
        List<String> tags = java.util.Arrays.stream(setting(args, "qf.worker.tags", "QF_WORKER_TAGS", "").split(","))
                .map(String::trim).filter(t -> !t.isEmpty()).toList();
        List<JobHandler> handlers;
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
        List<Thread> threads = new ArrayList<>();
        List<RemoteWorkerAgent> agents = new ArrayList<>();
        for (int i = 0; i < Math.max(1, concurrency); i++) {
            // one identity per worker thread, the same after a restart (derived from the data dir's instance identity)
            java.util.UUID identity = concurrency > 1
                    ? java.util.UUID.nameUUIDFromBytes((instance.id() + "#" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    : instance.id();
            RemoteWorkerAgent agent = new RemoteWorkerAgent(server, dataDir, concurrency > 1 ? name + "#" + i : name, handlers, tags)
                    .withApiToken(setting(args, "qf.api-token", "QF_API_TOKEN", "")).withInstance(instance).withIdentity(identity)
                    .withTensorRt(setting(args, "qf.trtexec", "QF_TRTEXEC", ""), setting(args, "qf.nvidia-smi", "QF_NVIDIA_SMI", ""));
            agents.add(agent);
            agent.register();
            Thread t = new Thread(() -> {
                try {
                    agent.runLoop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "remote-worker-" + i);
            t.start();
            threads.add(t);
        }
        int stopWait = Integer.parseInt(setting(args, "qf.worker.stop-wait-seconds", "QF_WORKER_STOP_WAIT_SECONDS", "" + DEFAULT_STOP_WAIT_SECONDS));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopGracefully(agents, threads, stopWait), "worker-shutdown"));
        for (Thread t : threads) {
            t.join();
        }
    }

    /** Seconds SIGTERM waits for running jobs to reach a stop point before handing them back anyway (Kubernetes' grace is 30 s). */
    static final int DEFAULT_STOP_WAIT_SECONDS = 15;

    /**
     * SIGTERM: no more leases; running jobs stop at their next progress point and go back to the queue (the attempt
     * not counted) so another worker starts them at once; one that does not stop in time is handed back anyway.
     */
    private static void stopGracefully(List<RemoteWorkerAgent> agents, List<Thread> threads, int waitSeconds) {
        agents.forEach(RemoteWorkerAgent::shutdown);
        long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        agents.forEach(RemoteWorkerAgent::handBackIfStillRunning);
        agents.forEach(RemoteWorkerAgent::close);
    }

    static String setting(String[] args, String property, String env, String dflt) {
        for (String a : args) {
            if (a.startsWith("--" + property + "=")) {
                return a.substring(property.length() + 3);
            }
        }
        String sys = System.getProperty(property);
        if (sys != null) {
            return sys;
        }
        String e = System.getenv(env);
        return e != null ? e : dflt;
    }
}
