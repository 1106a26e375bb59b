package dev.quantforge.system;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import tools.jackson.databind.JsonNode;

import dev.quantforge.platform.db.EmbeddedPostgresServer;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ChildJvm;
import dev.quantforge.testsupport.S3Proxy;
import dev.quantforge.testsupport.SharedData;

/**
 * The fault campaign of the deployment Quantforge is built for — N API replicas, M remote workers, one PostgreSQL,
 * one object store — in real processes on loopback: a PostgreSQL of its own (the product's embedded server on a free
 * port: the campaign restarts it, which it must not do to the machine's server the other test classes use), a
 * dedicated s3proxy, two API replicas and three remote workers as child JVMs. A client submits short real jobs
 * (evaluate / benchmark / ptq on mnist-8 and the CIFAR net) to both replicas while a seeded schedule kill -9s a random
 * worker every few seconds (and starts it again), kill -9s one API replica and starts it again, restarts PostgreSQL
 * once and takes the object store away for 10 s. {@link #run()} returns what happened; the callers assert on it.
 */
public final class FaultCampaign {

    /** Sizes of a run (system properties {@code campaign.*}). */
    public record Settings(long seed, int jobs, int maxAttempts, Duration chaosAtLeast, Duration deadline) {
        public static Settings fromSystemProperties(int defaultJobs, Duration defaultChaos) {
            return new Settings(Long.getLong("campaign.seed", 20261203L), Integer.getInteger("campaign.jobs", defaultJobs),
                    Integer.getInteger("campaign.maxAttempts", 5),
                    Duration.ofSeconds(Long.getLong("campaign.chaosSeconds", defaultChaos.toSeconds())),
                    Duration.ofSeconds(Long.getLong("campaign.deadlineSeconds", 600)));
        }
    }

    /** A request the client saw answered 5xx. */
    public record ServerError(String request, int status, boolean retryAfter, String body) {
    }

    /** One job as it ended. */
    public record EndedJob(String id, String type, String state, int attempts, String errorCode, boolean errorRetryable,
                           int succeededLogLines, List<String> orphanReports, List<String> duplicateArtifactKinds) {
    }

    /** Everything the assertions and the figures need. */
    public record Outcome(Settings settings, List<EndedJob> jobs, List<String> unfinished, List<ServerError> serverErrors,
                          int status503, Map<String, Integer> kills, List<Double> waitsAfterWorkerDeathSeconds,
                          List<String> missingBlobs, List<String> unhealthyAfter, int reads, List<String> notHandedBack,
                          int handedBack, double seconds, String logs) {

        /** The figures, one per line. */
        public String figures() {
            Map<String, Integer> byState = new TreeMap<>();
            Map<String, Integer> byType = new TreeMap<>();
            Map<Integer, Integer> attempts = new TreeMap<>();
            for (EndedJob j : jobs) {
                byState.merge(j.state(), 1, Integer::sum);
                byType.merge(j.type(), 1, Integer::sum);
                attempts.merge(j.attempts(), 1, Integer::sum);
            }
            List<Double> waits = new ArrayList<>(waitsAfterWorkerDeathSeconds);
            Collections.sort(waits);
            return String.join("\n",
                    "fault campaign: seed " + settings.seed() + ", " + jobs.size() + " jobs in " + String.format(Locale.ROOT, "%.0f s", seconds),
                    "  jobs by type:  " + byType,
                    "  jobs by state: " + byState + (unfinished.isEmpty() ? "" : ", unfinished " + unfinished.size()),
                    "  kills:         " + kills,
                    "  attempts:      " + attempts + " (attempts → jobs; an attempt a killed worker lost counts, a SIGTERM hand-back does not)",
                    "  reads:         " + reads + " during the faults (models and datasets streamed, job lists)",
                    "  SIGTERM:       " + handedBack + " running job(s) handed back by a stopping worker"
                            + (notHandedBack.isEmpty() ? "" : ", " + notHandedBack.size() + " not"),
                    "  503 answers:   " + status503 + " (all with Retry-After: " + serverErrors.stream().allMatch(ServerError::retryAfter) + ")",
                    "  other 5xx:     " + serverErrors.stream().filter(e -> e.status() != 503).count(),
                    "  waits of a job after its worker was killed, s: " + (waits.isEmpty() ? "none"
                            : "n=" + waits.size() + ", median " + fmt(waits.get(waits.size() / 2)) + ", max " + fmt(waits.get(waits.size() - 1))),
                    "  blobs missing: " + missingBlobs.size());
        }

        private static String fmt(double d) {
            return String.format(Locale.ROOT, "%.1f", d);
        }
    }

    private static final int API_REPLICAS = 2;
    private static final int WORKERS = 3;
    private static final int LEASE_SECONDS = 8;
    private static final List<String> JVM = List.of("-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k",
            "-Daws.accessKeyId=" + S3Proxy.ACCESS_KEY, "-Daws.secretAccessKey=" + S3Proxy.SECRET_KEY);

    private final Settings settings;
    private final Random random;
    private final Path root;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<ServerError> serverErrors = new CopyOnWriteArrayList<>();
    private final AtomicInteger status503 = new AtomicInteger();
    private final Map<String, Integer> kills = new ConcurrentHashMap<>();
    private final List<Double> waits = new CopyOnWriteArrayList<>();
    private final AtomicBoolean chaos = new AtomicBoolean(true);
    private final AtomicInteger workerStops = new AtomicInteger();
    /** Jobs a SIGTERM'd worker held: each must have been handed back (its log says so). */
    private final List<String> handedBack = new CopyOnWriteArrayList<>();

    private EmbeddedPostgresServer pg;
    private Path pgDir;
    private Path pgBin;
    private int pgPort;
    private S3Proxy s3;
    private String bucket;
    private final List<ChildJvm> apis = new ArrayList<>();
    private final List<Integer> apiPorts = new ArrayList<>();
    private final List<ChildJvm> workers = new ArrayList<>();

    public FaultCampaign(Settings settings) throws IOException {
        this.settings = settings;
        this.random = new Random(settings.seed());
        this.root = Files.createTempDirectory("qf-campaign-");
    }

    public Outcome run() throws Exception {
        long t0 = System.nanoTime();
        try {
            startSystem();
            Inputs in = upload();
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            Thread client = new Thread(() -> submitAll(in, ids), "campaign-client");
            Thread faults = new Thread(this::faults, "campaign-faults");
            Thread reader = new Thread(() -> read(in), "campaign-reader");
            reader.setDaemon(true);
            client.start();
            faults.start();
            reader.start();
            client.join();
            long chaosUntil = t0 + settings.chaosAtLeast().toNanos();
            while (System.nanoTime() < chaosUntil && !allFinal(ids)) {
                Thread.sleep(1000);
            }
            chaos.set(false);
            faults.join();
            long deadline = t0 + settings.deadline().toNanos();
            while (System.nanoTime() < deadline && !allFinal(ids)) {
                Thread.sleep(1000);
            }
            reading.set(false);
            reader.join();
            List<EndedJob> ended = new ArrayList<>();
            List<String> unfinished = new ArrayList<>();
            inspect(ids, ended, unfinished);
            List<String> missing = missingBlobs();
            List<String> unhealthy = unhealthy();
            List<String> notHandedBack = notHandedBack();
            return new Outcome(settings, ended, unfinished, List.copyOf(serverErrors), status503.get(), new TreeMap<>(kills),
                    List.copyOf(waits), missing, unhealthy, reads.get(), notHandedBack, handedBack.size() - notHandedBack.size(),
                    (System.nanoTime() - t0) / 1e9, logTails());
        } finally {
            stopSystem();
        }
    }

    // ------------------------------------------------------------------ the system

    private void startSystem() throws Exception {
        pgDir = root.resolve("postgres");
        pgBin = Path.of(System.getProperty("java.io.tmpdir"), "quantforge-pg-bin");
        pg = EmbeddedPostgresServer.start(pgDir, pgBin, 0);
        pgPort = pg.port();
        pg.createDatabaseIfMissing("campaign");
        s3 = S3Proxy.dedicated();
        bucket = s3.newBucket();
        for (int i = 0; i < API_REPLICAS; i++) {
            apiPorts.add(freePort());
        }
        for (int i = 0; i < API_REPLICAS; i++) {
            apis.add(ChildJvm.start("api-" + i, "dev.quantforge.QuantforgeApplication", JVM, apiArgs(i), Map.of(),
                    root.resolve("api-" + i + ".log")));
        }
        for (int i = 0; i < API_REPLICAS; i++) {
            awaitHealthy(i, Duration.ofMinutes(3));
        }
        String servers = String.join(",", apiPorts.stream().map(p -> "http://127.0.0.1:" + p).toList());
        for (int i = 0; i < WORKERS; i++) {
            Path dir = Files.createDirectories(root.resolve("worker-" + i));
            workers.add(ChildJvm.start("worker-" + i, "dev.quantforge.QuantforgeApplication", JVM,
                    List.of("--qf.roles=worker", "--qf.server-url=" + servers, "--qf.data-dir=" + dir, "--qf.worker.name=campaign-worker-" + i),
                    Map.of(), root.resolve("worker-" + i + ".log")));
        }
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (liveWorkers() < WORKERS) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("the workers did not register within 3 minutes:\n" + logTails());
            }
            Thread.sleep(500);
        }
    }

    private List<String> apiArgs(int i) {
        List<String> args = new ArrayList<>(List.of("--server.port=" + apiPorts.get(i),
                "--spring.datasource.url=" + pg.jdbcUrl("campaign"), "--spring.datasource.username=" + pg.username(),
                "--spring.datasource.password=" + pg.password(), "--spring.datasource.hikari.maximum-pool-size=6",
                "--spring.datasource.hikari.connection-timeout=2000", "--qf.data-dir=" + root.resolve("api-" + i),
                "--qf.roles=api", "--qf.worker.concurrency=0", "--qf.jobs.lease-seconds=" + LEASE_SECONDS,
                "--qf.jobs.reaper-interval-seconds=1", "--spring.jmx.enabled=false", "--spring.main.banner-mode=off"));
        args.addAll(List.of("--qf.storage.type=s3", "--qf.storage.s3.endpoint=" + s3.endpoint(), "--qf.storage.s3.bucket=" + bucket,
                "--qf.storage.s3.path-style=true", "--qf.storage.s3.part-size-mb=5"));
        return args;
    }

    private void stopSystem() {
        List<ChildJvm> children = new ArrayList<>(workers);
        children.addAll(apis);
        for (ChildJvm c : children) {
            try {
                c.kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (s3 != null) {
            try {
                s3.kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (pg != null) {
            pg.close();
        }
    }

    private void awaitHealthy(int replica, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (!apis.get(replica).alive()) {
                throw new IllegalStateException("API replica " + replica + " exited:\n" + apis.get(replica).logTail(4000));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base(replica) + "/actuator/health/readiness"))
                        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(300);
        }
        throw new IllegalStateException("API replica " + replica + " not ready within " + timeout + ":\n" + apis.get(replica).logTail(4000));
    }

    private String base(int replica) {
        return "http://127.0.0.1:" + apiPorts.get(replica);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Connection db() throws Exception {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort + "/campaign", pg.username(), pg.password());
    }

    private int liveWorkers() {
        try (Connection c = db(); ResultSet rs = c.createStatement().executeQuery(
                "select count(*) from worker where name like 'campaign-worker-%' and last_heartbeat_at > now() - interval '16 seconds'")) {
            rs.next();
            return rs.getInt(1);
        } catch (Exception notNow) {
            return 0;
        }
    }

    // ------------------------------------------------------------------ the client

    /** What the client calls; every answer's status is counted, 5xx kept. */
    private Api.Res call(String method, String path, byte[] body, String contentType, String idempotencyKey, int preferred)
            throws InterruptedException {
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        int replica = preferred;
        while (true) {
            String url = base(replica) + path;
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
                if (contentType != null) {
                    b.header("Content-Type", contentType);
                }
                if (idempotencyKey != null) {
                    b.header("Idempotency-Key", idempotencyKey);
                }
                b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
                HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() >= 500) {
                    boolean retryAfter = r.headers().firstValue("Retry-After").isPresent();
                    if (r.statusCode() == 503 && retryAfter) {
                        status503.incrementAndGet();
                    } else {
                        serverErrors.add(new ServerError(method + " " + url, r.statusCode(), retryAfter, r.body()));
                    }
                    if (r.statusCode() == 503 && System.nanoTime() < end) {
                        Thread.sleep(1000);
                        replica = (replica + 1) % API_REPLICAS;
                        continue;
                    }
                }
                String ct = r.headers().firstValue("Content-Type").orElse("");
                JsonNode json = ct.contains("json") && !r.body().isEmpty() ? Api.JSON.readTree(r.body()) : null;
                return new Api.Res(r.statusCode(), ct, r.body(), json);
            } catch (IOException down) {
                // this replica is down (killed, restarting): the other one
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("no API replica answered " + method + " " + path + " for 3 minutes", down);
                }
                replica = (replica + 1) % API_REPLICAS;
                Thread.sleep(300);
            }
        }
    }

    private record Inputs(String mnist, String mnistCalib, String mnistEval, String cifar, String cifarCalib, String cifarEval) {
    }

    private Inputs upload() throws Exception {
        return new Inputs(
                uploadFile("/api/v1/models", "mnist-8.onnx", Files.readAllBytes(SharedData.file("mnist/mnist-8.onnx")), Map.of()),
                uploadFile("/api/v1/datasets", "mnist8-calib.npz", Files.readAllBytes(SharedData.file("mnist/mnist8-calib.npz")), Map.of()),
                uploadFile("/api/v1/datasets", "mnist8-eval.npz", Files.readAllBytes(SharedData.file("mnist/mnist8-eval.npz")), Map.of()),
                uploadFile("/api/v1/models", "model_ic.onnx", Files.readAllBytes(SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx")), Map.of()),
                uploadFile("/api/v1/datasets", "cifar-calib.zip", SharedData.cifarZip(900, 964), Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING)),
                uploadFile("/api/v1/datasets", "cifar-eval.zip", SharedData.cifarZip(0, 100), Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING)));
    }

    private String uploadFile(String path, String filename, byte[] content, Map<String, String> fields) throws Exception {
        String boundary = "qfcampaign" + UUID.randomUUID().toString().replace("-", "");
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n" + f.getValue() + "\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        body.write(content);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Api.Res r = call("POST", path, body.toByteArray(), "multipart/form-data; boundary=" + boundary, null, 0);
        if (r.status() != 201 && r.status() != 200) {
            throw new IllegalStateException("upload of " + filename + " answered " + r.status() + ": " + r.body());
        }
        return r.json().path("id").asString();
    }

    /** The job mix: mostly mnist-8 (tiny), some ptq of the CIFAR net; seeded. */
    private Map<String, Object> nextJob(Inputs in, Random mix) {
        int pick = mix.nextInt(100);
        Map<String, Object> job = new LinkedHashMap<>();
        if (pick < 35) {
            job.put("type", "evaluate");
            job.put("modelId", in.mnist());
            job.put("evaluationDatasetId", in.mnistEval());
            job.put("config", Map.of("evaluation", Map.of("maxSamples", 300)));
        } else if (pick < 60) {
            job.put("type", "benchmark");
            job.put("modelId", mix.nextBoolean() ? in.mnist() : in.cifar());
            job.put("config", Map.of("benchmark", Map.of("iterations", 300, "warmup", 10)));
        } else if (pick < 90) {
            ptq(job, in.mnist(), in.mnistCalib(), in.mnistEval(), 64, 200, 20);
        } else {
            ptq(job, in.cifar(), in.cifarCalib(), in.cifarEval(), 32, 50, 10);
        }
        job.put("maxAttempts", settings.maxAttempts());
        return job;
    }

    private static void ptq(Map<String, Object> job, String model, String calibration, String evaluation, int calibrationSamples,
                            int evaluationSamples, int iterations) {
        job.put("type", "ptq");
        job.put("modelId", model);
        job.put("calibrationDatasetId", calibration);
        job.put("evaluationDatasetId", evaluation);
        job.put("config", Map.of("calibration", Map.of("maxSamples", calibrationSamples),
                "evaluation", Map.of("maxSamples", evaluationSamples), "benchmark", Map.of("iterations", iterations)));
    }

    private void submitAll(Inputs in, List<String> ids) {
        Random mix = new Random(settings.seed() ^ 0x5EEDL);
        // spread over most of the fault period: the client meets every fault
        long pace = Math.max(100, settings.chaosAtLeast().toMillis() * 7 / 10 / Math.max(1, settings.jobs()));
        try {
            for (int i = 0; i < settings.jobs(); i++) {
                byte[] body = Api.JSON.writeValueAsBytes(nextJob(in, mix));
                // the key makes a resubmission after a lost answer (replica killed, 503) the same job
                Api.Res r = call("POST", "/api/v1/jobs", body, "application/json", "campaign-" + settings.seed() + "-" + i, i % API_REPLICAS);
                if (r.status() != 201 && r.status() != 200) {
                    throw new IllegalStateException("job " + i + " was refused: " + r.status() + " " + r.body());
                }
                ids.add(r.json().path("id").asString());
                Thread.sleep(pace);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asked through the API, as a user would (its answers are counted like every other). */
    private boolean allFinal(List<String> ids) throws InterruptedException {
        if (ids.size() < settings.jobs()) {
            return false;
        }
        for (String state : List.of("queued", "running")) {
            Api.Res r = call("GET", "/api/v1/jobs?state=" + state + "&limit=1", null, null, null, random.nextInt(API_REPLICAS));
            if (r.status() != 200 || r.json().path("total").asLong() > 0) {
                return false;
            }
        }
        return true;
    }

    private final AtomicBoolean reading = new AtomicBoolean(true);

    /** A user reading while the faults happen: models (streamed from the bucket), datasets, the job list. */
    private void read(Inputs in) {
        Random r = new Random(settings.seed() ^ 0xBEEFL);
        List<String> paths = List.of("/api/v1/models/" + in.mnist() + "/content", "/api/v1/models/" + in.cifar() + "/content",
                "/api/v1/datasets/" + in.mnistEval() + "/content", "/api/v1/jobs?limit=20", "/api/v1/workers", "/api/v1/models");
        try {
            while (reading.get()) {
                String path = paths.get(r.nextInt(paths.size()));
                Api.Res res = call("GET", path, null, null, null, r.nextInt(API_REPLICAS));
                if (res.status() != 200) {
                    serverErrors.add(new ServerError("GET " + path + " (a read that must succeed once retried)", res.status(),
                            false, res.body()));
                }
                reads.incrementAndGet();
                Thread.sleep(300);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final AtomicInteger reads = new AtomicInteger();

    // ------------------------------------------------------------------ the faults

    /**
     * The seeded schedule: a worker killed every 3–6 s (started again 1–3 s later), and once each, spread over the
     * first minute: an API replica killed (started again 3 s later), PostgreSQL restarted, the object store gone 10 s.
     */
    private void faults() {
        long t0 = System.nanoTime();
        List<String> once = new ArrayList<>(List.of("api", "postgres", "s3"));
        Collections.shuffle(once, random);
        Map<String, Double> at = new HashMap<>();
        for (int i = 0; i < once.size(); i++) {
            at.put(once.get(i), 12.0 + i * 18 + random.nextDouble() * 6);
        }
        Set<String> done = new HashSet<>();
        double nextWorkerKill = 3 + random.nextDouble() * 3;
        try {
            while (chaos.get() || done.size() < once.size()) {
                double t = (System.nanoTime() - t0) / 1e9;
                for (String f : once) {
                    if (!done.contains(f) && t >= at.get(f)) {
                        done.add(f);
                        switch (f) {
                            case "api" -> killApiReplica();
                            case "postgres" -> restartPostgres();
                            default -> objectStoreOutage();
                        }
                    }
                }
                if (chaos.get() && t >= nextWorkerKill) {
                    killWorker();
                    nextWorkerKill = (System.nanoTime() - t0) / 1e9 + 3 + random.nextDouble() * 3;
                }
                Thread.sleep(100);
            }
        } catch (Exception e) {
            throw new IllegalStateException("the fault schedule failed", e);
        }
    }

    private void killWorker() throws Exception {
        int i = random.nextInt(WORKERS);
        ChildJvm w = workers.get(i);
        if (!w.alive()) {
            return;
        }
        // the job it holds, if any, and its attempts now (after the kill it is requeued: attempts + 1 once re-leased)
        String held = null;
        int attempts = 0;
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement("select j.id::text, j.attempts from job j join worker w "
                + "on j.lease_owner = w.id::text where w.name = ? and j.state = 'running'")) {
            ps.setString(1, "campaign-worker-" + i);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    held = rs.getString(1);
                    attempts = rs.getInt(2);
                }
            }
        } catch (Exception postgresDown) {
            // (the database may be restarting: the kill happens anyway, without a wait measured)
        }
        long killedAt = System.nanoTime();
        if (workerStops.incrementAndGet() % 4 == 0) {
            // a graceful stop now and then (a rolling update): the job is handed back, its attempt not counted
            w.terminate(30);
            kills.merge("worker SIGTERM", 1, Integer::sum);
            if (held != null) {
                handedBack.add(held);
            }
        } else {
            w.kill();
            kills.merge("worker kill -9", 1, Integer::sum);
            if (held != null) {
                watchRequeue(held, attempts, killedAt);
            }
        }
        long back = 1000 + random.nextInt(2000);
        Thread restart = new Thread(() -> {
            try {
                Thread.sleep(back);
                w.restart();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "restart-" + w.name());
        restart.setDaemon(true);
        restart.start();
    }

    /** Measures how long the job a killed worker held waited until another attempt of it ran (or it ended). */
    private void watchRequeue(String jobId, int attemptsAtKill, long killedAt) {
        Thread t = new Thread(() -> {
            long end = killedAt + Duration.ofMinutes(5).toNanos();
            while (System.nanoTime() < end) {
                try (Connection c = db(); PreparedStatement ps = c.prepareStatement("select state, attempts from job where id = ?::uuid")) {
                    ps.setString(1, jobId);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        String state = rs.getString(1);
                        boolean ended = Set.of("succeeded", "failed", "cancelled").contains(state);
                        if (ended || state.equals("running") && rs.getInt(2) > attemptsAtKill) {
                            waits.add((System.nanoTime() - killedAt) / 1e9);
                            return;
                        }
                    }
                } catch (Exception postgresDown) {
                    // try again
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "watch-" + jobId);
        t.setDaemon(true);
        t.start();
    }

    private void killApiReplica() throws Exception {
        int i = random.nextInt(API_REPLICAS);
        apis.get(i).kill();
        kills.merge("api replica kill -9", 1, Integer::sum);
        Thread.sleep(3000);
        apis.get(i).restart();
        awaitHealthy(i, Duration.ofMinutes(3));
    }

    private void restartPostgres() {
        pg.close();
        kills.merge("postgresql restart", 1, Integer::sum);
        pg = EmbeddedPostgresServer.start(pgDir, pgBin, pgPort);
    }

    private void objectStoreOutage() throws Exception {
        s3.kill();
        kills.merge("object store down 10 s", 1, Integer::sum);
        Thread.sleep(10_000);
        s3.restart();
    }

    // ------------------------------------------------------------------ what is left

    private void inspect(List<String> ids, List<EndedJob> ended, List<String> unfinished) throws Exception {
        try (Connection c = db()) {
            for (String id : ids) {
                String type;
                String state;
                int attempts;
                String errorCode;
                String result;
                try (PreparedStatement ps = c.prepareStatement("select type, state, attempts, error_code, result::text from job where id = ?::uuid")) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        type = rs.getString(1);
                        state = rs.getString(2);
                        attempts = rs.getInt(3);
                        errorCode = rs.getString(4);
                        result = rs.getString(5);
                    }
                }
                if (!Set.of("succeeded", "failed", "cancelled").contains(state)) {
                    unfinished.add(id + " " + type + " " + state + " after " + attempts + " attempts");
                    continue;
                }
                int succeededLines = count(c, "select count(*) from job_log where job_id = ?::uuid and message = 'succeeded'", id);
                List<String> orphanReports = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("select id::text from report where job_id = ?::uuid")) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            // a report the final result does not name would be a leftover of another completion
                            if (result == null || !result.contains(rs.getString(1))) {
                                orphanReports.add(rs.getString(1));
                            }
                        }
                    }
                }
                List<String> duplicateKinds = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("select kind from artifact where job_id = ?::uuid group by kind having count(*) > 1")) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            duplicateKinds.add(rs.getString(1));
                        }
                    }
                }
                ended.add(new EndedJob(id, type, state, attempts, errorCode, retryable(errorCode), succeededLines, orphanReports, duplicateKinds));
            }
        }
    }

    /** The causes a job may fail with after maxAttempts in a campaign of crashes: all about workers and outages. */
    private static boolean retryable(String errorCode) {
        return errorCode != null && Set.of("worker_lost", "internal_error", "worker_error").contains(errorCode);
    }

    private static int count(Connection c, String sql, String id) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Jobs a SIGTERM'd worker held that it did not hand back (the log line of the release endpoint is missing). */
    private List<String> notHandedBack() throws Exception {
        List<String> missing = new ArrayList<>();
        try (Connection c = db()) {
            for (String id : handedBack) {
                // (the job may have finished in the moment between the look-up and the signal: then there was nothing to hand back)
                if (count(c, "select count(*) from job_log where job_id = ?::uuid and message like '%handed this attempt back%'", id) == 0
                        && count(c, "select count(*) from job_log where job_id = ?::uuid and message = 'succeeded'", id) == 0) {
                    missing.add(id);
                }
            }
        }
        return missing;
    }

    /** Rows whose content is not in the bucket. */
    private List<String> missingBlobs() throws Exception {
        Set<String> keys = new HashSet<>();
        for (String k : s3.keys(bucket, "")) {
            keys.add(k.substring(k.lastIndexOf('/') + 1));
        }
        List<String> missing = new ArrayList<>();
        try (Connection c = db(); ResultSet rs = c.createStatement().executeQuery(
                "select 'model ' || id, sha256 from model where deleted_at is null "
                        + "union all select 'dataset ' || id, sha256 from dataset where deleted_at is null "
                        + "union all select 'dataset tokenizer ' || id, tokenizer_sha256 from dataset where deleted_at is null and tokenizer_sha256 is not null "
                        + "union all select 'artifact ' || id || ' (' || kind || ')', sha256 from artifact")) {
            while (rs.next()) {
                if (!keys.contains(rs.getString(2))) {
                    missing.add(rs.getString(1) + " sha256 " + rs.getString(2));
                }
            }
        }
        return missing;
    }

    private List<String> unhealthy() throws Exception {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < API_REPLICAS; i++) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base(i) + "/actuator/health"))
                        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    problems.add("API replica " + i + " health " + r.statusCode() + ": " + r.body());
                }
            } catch (IOException e) {
                problems.add("API replica " + i + " does not answer: " + e);
            }
        }
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (liveWorkers() < WORKERS && System.nanoTime() < end) {
            Thread.sleep(500);
        }
        if (liveWorkers() < WORKERS) {
            problems.add("only " + liveWorkers() + " of " + WORKERS + " workers are live");
        }
        return problems;
    }

    private String logTails() {
        StringBuilder b = new StringBuilder();
        for (ChildJvm c : apis) {
            b.append("---- ").append(c.name()).append(" (").append(c.log()).append(")\n").append(c.logTail(3000)).append('\n');
        }
        for (ChildJvm c : workers) {
            b.append("---- ").append(c.name()).append(" (").append(c.log()).append(")\n").append(c.logTail(1500)).append('\n');
        }
        return b.toString();
    }
}
