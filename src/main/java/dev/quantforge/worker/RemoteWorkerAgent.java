package dev.quantforge.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.dataset.DatasetService;
import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.DjlNatives;

/**
 * A worker in another process or on another machine ({@code --qf.roles=worker
 * --qf.server-url=http://api:8080}, several replicas comma-separated): it needs no database, only the API. It
 * registers, leases a job, downloads the inputs (cached by sha256), runs the same handlers as in-process workers,
 * heartbeats progress and logs, and uploads the result and artifacts. An API outage loses nothing it has done: calls
 * move to another replica, and a finished result is delivered again until a replica takes it (or says the lease is
 * gone). {@link #shutdown()} hands the running job back to the queue.
 */
public final class RemoteWorkerAgent implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RemoteWorkerAgent.class);
    /** Seconds one lease request waits for a job (short: a SIGTERM'd worker waits for it to return). */
    static final int LEASE_WAIT_SECONDS = 10;
    static final int RETRY_SECONDS = 2;
    /** How long a finished result (or a failure, a hand-back) is offered again while the API is down. */
    static final Duration DELIVERY_PATIENCE = Duration.ofMinutes(10);
    /** How long an input download waits out an outage before the attempt fails (retryable). */
    static final Duration DOWNLOAD_PATIENCE = Duration.ofMinutes(2);

    private final ApiServers servers;
    private final Path dataDir;
    private final String name;
    private final Map<String, JobHandler> handlers;
    private final ObjectMapper json = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "remote-heartbeat");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean running = true;
    private UUID workerId;
    /** Registered under this id when set (the process's instance identity): a restart requeues what it held at once. */
    private UUID identity;
    /** The running job and its progress (what {@link #shutdown()} stops). */
    private volatile UUID currentJob;
    private volatile LiveProgress currentProgress;

    private final List<String> extraTags;
    private volatile String apiToken;
    private InstanceDirectory instance;
    private String trtexec;
    private String nvidiaSmi;
    private volatile ObjectNode capabilities = JsonNodeFactory.instance.objectNode();

    public RemoteWorkerAgent(String serverUrl, Path dataDir, String name, List<JobHandler> handlers) {
        this(serverUrl, dataDir, name, handlers, List.of());
    }

    /** @param extraTags capability tags to advertise beyond the detected ones (e.g. a pool name jobs can require) */
    public RemoteWorkerAgent(String serverUrl, Path dataDir, String name, List<JobHandler> handlers, List<String> extraTags) {
        this.extraTags = List.copyOf(extraTags);
        this.servers = new ApiServers(serverUrl);
        this.dataDir = dataDir;
        this.name = name;
        this.handlers = handlers.stream().collect(Collectors.toMap(JobHandler::type, Function.identity()));
        // text datasets load the tokenizers' native library: extracted under this worker's cache, as QAT's PyTorch is
        DjlNatives.useCacheDir(dataDir.resolve("cache").resolve("djl"));
    }

    /**
     * Keeps work folders and partial downloads in the instance's scratch folder, where a crash's
     * leftovers are cleaned (without one: {@code <dataDir>/work}).
     */
    public RemoteWorkerAgent withInstance(InstanceDirectory instance) {
        this.instance = instance;
        return this;
    }

    /**
     * The trtexec ({@code qf.trtexec} / QF_TRTEXEC; null or blank: trtexec on PATH) and nvidia-smi ({@code qf.nvidia-smi})
     * this worker advertises and runs compile_tensorrt jobs with.
     */
    public RemoteWorkerAgent withTensorRt(String trtexec, String nvidiaSmi) {
        this.trtexec = trtexec;
        this.nvidiaSmi = nvidiaSmi;
        return this;
    }

    /** Registers under {@code id} (kept across restarts): the API then requeues the previous incarnation's job at once. */
    public RemoteWorkerAgent withIdentity(UUID id) {
        this.identity = id;
        return this;
    }

    /** Sends {@code Authorization: Bearer <token>} with every request (the API's QF_API_TOKEN). */
    public RemoteWorkerAgent withApiToken(String token) {
        this.apiToken = token == null || token.isBlank() ? null : token;
        return this;
    }

    private HttpRequest.Builder auth(HttpRequest.Builder b) {
        return apiToken == null ? b : b.header("Authorization", "Bearer " + apiToken);
    }

    /**
     * Registers with the API (retrying while no replica can be reached: a worker may start before the API); returns
     * the worker id. A refusal (401, 403, 400) is final.
     */
    public UUID register() throws IOException, InterruptedException {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("name", name);
        if (identity != null) {
            body.put("id", identity.toString());
        }
        ObjectNode caps = LocalCapabilities.detect(trtexec, nvidiaSmi);
        capabilities = caps;
        ArrayNode tags = caps.putArray("tags");
        extraTags.forEach(tags::add);
        ArrayNode types = caps.putArray("jobTypes");
        handlers.keySet().stream().sorted().forEach(types::add);
        body.set("capabilities", caps);
        HttpResponse<String> r = deliver("registration", base -> jsonPost(base, "/api/v1/workers", body));
        if (r.statusCode() != 201) {
            throw new IOException("registration refused: HTTP " + r.statusCode() + " " + r.body());
        }
        workerId = UUID.fromString(json.readTree(r.body()).path("id").asString());
        log.info("registered with {} as worker {} ({})", servers, workerId, name);
        return workerId;
    }

    /** Leases and runs jobs until {@link #shutdown()}. */
    public void runLoop() throws InterruptedException {
        while (running) {
            try {
                if (!runOne(LEASE_WAIT_SECONDS)) {
                    continue;
                }
            } catch (IOException e) {
                log.warn("no API replica answers ({}); retrying in {} s", e.toString(), RETRY_SECONDS);
                Thread.sleep(RETRY_SECONDS * 1000L);
            }
        }
    }

    /** Leases one job (waiting up to waitSeconds) and runs it; false when none was offered. */
    public boolean runOne(int waitSeconds) throws IOException, InterruptedException {
        HttpResponse<String> resp = send(base -> HttpRequest.newBuilder(URI.create(base + "/api/v1/workers/" + workerId + "/lease"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"waitSeconds\":" + waitSeconds + "}"))
                .timeout(Duration.ofSeconds(waitSeconds + 30)), HttpResponse.BodyHandlers.ofString());
        if (resp.statusCode() == 204) {
            return false;
        }
        if (resp.statusCode() == 404) {
            // the API forgot this worker (silent too long, or its row was removed): register again
            log.warn("the API no longer knows worker {}; registering again", workerId);
            register();
            return false;
        }
        if (resp.statusCode() != 200) {
            throw new IOException("lease failed: HTTP " + resp.statusCode() + " " + resp.body());
        }
        JsonNode task = json.readTree(resp.body());
        if (!running) {
            // leased while shutting down: straight back to the queue
            release(UUID.fromString(task.path("job").path("id").asString()), "the worker is shutting down");
            return false;
        }
        runTask(task);
        return true;
    }

    private void runTask(JsonNode task) throws IOException, InterruptedException {
        JsonNode job = task.path("job");
        UUID jobId = UUID.fromString(job.path("id").asString());
        String type = job.path("type").asString();
        LiveProgress progress = new LiveProgress();
        currentJob = jobId;
        currentProgress = progress;
        if (!running) {
            progress.requestStop(LiveProgress.SHUTDOWN);
        }
        ConcurrentLinkedQueue<String> logLines = new ConcurrentLinkedQueue<>();
        long hbMillis = Math.max(500, Math.min(2000, task.path("heartbeatSeconds").asLong(5) * 1000));
        var hb = heartbeats.scheduleWithFixedDelay(() -> heartbeat(jobId, progress, logLines), 0, hbMillis, TimeUnit.MILLISECONDS);
        Path workDir = instance != null ? instance.newDirectory("job-" + jobId + "-")
                : Files.createDirectories(dataDir.resolve("work").resolve("job-" + jobId));
        try {
            JobHandler handler = handlers.get(type);
            if (handler == null) {
                fail(jobId, "unsupported_type", "this worker has no handler for job type " + type, false);
                return;
            }
            Path model = download(task.path("model"));
            RemoteExecution exec = new RemoteExecution(task, model, progress, logLines, workDir);
            AttemptRunner.Ended ended = AttemptRunner.run(handler, exec);
            // heartbeats go on while the outcome is delivered: a delivery that waits out an outage keeps the lease
            heartbeat(jobId, progress, logLines);
            if (ended instanceof AttemptRunner.Succeeded s) {
                complete(jobId, s.outcome());
            } else if (ended instanceof AttemptRunner.Stopped st) {
                if (LiveProgress.CANCELLED.equals(st.reason())) {
                    fail(jobId, "cancelled", "cancelled", false);
                } else if (LiveProgress.SHUTDOWN.equals(st.reason())) {
                    release(jobId, "the worker shut down");
                }
            } else {
                AttemptRunner.Failed f = (AttemptRunner.Failed) ended;
                if (!running) {
                    // shutting down: ONNX Runtime's own shutdown hook may have freed its environment under the attempt,
                    // so a failure now says nothing about the job — it goes back to the queue
                    release(jobId, "the worker shut down (the attempt ended " + f.code() + ")");
                } else {
                    fail(jobId, f.code(), f.message(), f.retryable());
                }
            }
        } finally {
            hb.cancel(false);
            currentJob = null;
            currentProgress = null;
            AttemptRunner.deleteTree(workDir);
            if (instance != null) {
                instance.release(workDir);
            }
        }
    }

    private void heartbeat(UUID jobId, LiveProgress progress, ConcurrentLinkedQueue<String> logLines) {
        try {
            List<String> lines = new ArrayList<>();
            String l;
            while ((l = logLines.poll()) != null) {
                lines.add(l);
            }
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            ObjectNode p = body.putObject("progress");
            p.put("fraction", progress.fraction());
            p.put("phase", progress.phase());
            p.put("message", progress.message());
            ArrayNode arr = body.putArray("logs");
            lines.forEach(arr::add);
            HttpResponse<String> resp = send(base -> jsonPost(base, "/api/v1/workers/" + workerId + "/jobs/" + jobId + "/heartbeat", body),
                    HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) {
                // lines not taken are sent with the next heartbeat
                lines.forEach(logLines::add);
                throw new IOException("HTTP " + resp.statusCode() + " " + resp.body());
            }
            JsonNode answer = json.readTree(resp.body());
            if (answer.path("leaseLost").asBoolean()) {
                progress.requestStop(LiveProgress.LEASE_LOST);
            } else if (answer.path("cancelRequested").asBoolean()) {
                progress.requestStop(LiveProgress.CANCELLED);
            }
        } catch (IOException e) {
            log.warn("heartbeat for job {} failed: {}", jobId, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void complete(UUID jobId, JobOutcome outcome) throws IOException, InterruptedException {
        String boundary = "qf" + UUID.randomUUID().toString().replace("-", "");
        ObjectNode meta = JsonNodeFactory.instance.objectNode();
        meta.set("result", outcome.result());
        ArrayNode reports = meta.putArray("reports");
        for (JobOutcome.ReportDraft r : outcome.reports()) {
            ObjectNode o = reports.addObject();
            o.set("config", r.config());
            o.set("metrics", r.metrics());
            o.set("runtime", r.runtime());
            o.set("layers", r.layers());
            if (r.resultField() != null) {
                o.put("resultField", r.resultField());
            }
        }
        ArrayNode arts = meta.putArray("artifacts");
        int i = 0;
        for (JobOutcome.ArtifactDraft a : outcome.artifacts()) {
            String part = "artifact" + i++;
            ObjectNode o = arts.addObject();
            o.put("kind", a.kind());
            o.put("name", a.name());
            o.put("part", part);
            if (a.resultField() != null) {
                o.put("resultField", a.resultField());
            }
        }
        List<HttpRequest.BodyPublisher> parts = new ArrayList<>();
        parts.add(text(boundary, "result", json.writeValueAsString(meta)));
        i = 0;
        for (JobOutcome.ArtifactDraft a : outcome.artifacts()) {
            parts.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"artifact" + i++
                    + "\"; filename=\"" + a.name() + "\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
            parts.add(HttpRequest.BodyPublishers.ofFile(a.file()));
            parts.add(HttpRequest.BodyPublishers.ofString("\r\n"));
        }
        parts.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "--\r\n"));
        HttpResponse<String> resp = deliver("the result of job " + jobId, base -> HttpRequest.newBuilder(
                        URI.create(base + "/api/v1/workers/" + workerId + "/jobs/" + jobId + "/complete"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(parts.toArray(HttpRequest.BodyPublisher[]::new))));
        if (resp.statusCode() == 409) {
            // the lease lapsed during an outage (the job runs elsewhere), or an earlier delivery was taken and its answer lost
            log.warn("result of job {} not taken: {}", jobId, resp.body());
        } else if (resp.statusCode() != 200) {
            log.warn("completing job {} was refused: HTTP {} {}", jobId, resp.statusCode(), resp.body());
        }
    }

    private static HttpRequest.BodyPublisher text(String boundary, String name, String value) {
        return HttpRequest.BodyPublishers.ofString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name
                + "\"\r\nContent-Type: application/json\r\n\r\n" + value + "\r\n", StandardCharsets.UTF_8);
    }

    private void fail(UUID jobId, String code, String message, boolean retryable) throws IOException, InterruptedException {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("code", code);
        body.put("message", message);
        body.put("retryable", retryable);
        HttpResponse<String> resp = deliver("the failure of job " + jobId,
                base -> jsonPost(base, "/api/v1/workers/" + workerId + "/jobs/" + jobId + "/fail", body));
        if (resp.statusCode() != 200) {
            log.warn("reporting failure of job {} was refused: HTTP {} {}", jobId, resp.statusCode(), resp.body());
        }
    }

    /** Hands the job back unfinished: queued again at once, the attempt not counted. */
    private void release(UUID jobId, String reason) throws IOException, InterruptedException {
        release(jobId, reason, true);
    }

    /** @param patient retried across an outage ({@link #deliver}); else one try on each replica (a shutdown hook's last word) */
    private void release(UUID jobId, String reason, boolean patient) throws IOException, InterruptedException {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("reason", reason);
        Function<String, HttpRequest.Builder> request = base -> jsonPost(base, "/api/v1/workers/" + workerId + "/jobs/" + jobId + "/release", body);
        HttpResponse<String> resp = patient ? deliver("the hand-back of job " + jobId, request)
                : send(request, HttpResponse.BodyHandlers.ofString());
        if (resp.statusCode() == 200) {
            log.info("job {} handed back to the queue ({})", jobId, reason);
        } else {
            log.warn("handing back job {} was refused: HTTP {} {}", jobId, resp.statusCode(), resp.body());
        }
    }

    /** Downloads an input into the cache by sha256 (verified), unless it is there already. */
    Path download(JsonNode input) throws IOException, InterruptedException {
        // an outage of the API or of its object store (unreachable, 503, a transfer cut off) is waited out for a while
        // instead of failing the attempt; a corrupt or missing input is not
        long deadline = System.nanoTime() + DOWNLOAD_PATIENCE.toNanos();
        long backoff = 500;
        while (true) {
            try {
                return downloadOnce(input);
            } catch (TransientDownloadFailure e) {
                if (System.nanoTime() > deadline || !running) {
                    throw e;
                }
                log.warn("{}; retrying in {} ms", e.getMessage(), backoff);
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 10_000);
            }
        }
    }

    /** A download that may succeed when tried again. */
    private static final class TransientDownloadFailure extends IOException {
        TransientDownloadFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private Path downloadOnce(JsonNode input) throws IOException, InterruptedException {
        String sha = input.path("sha256").asString();
        Path cache = Files.createDirectories(dataDir.resolve("cache"));
        Path target = cache.resolve(sha);
        if (Files.exists(target)) {
            return target;
        }
        Path tmp = instance != null ? instance.newFile("download-", ".part") : Files.createTempFile(cache, "download-", ".part");
        try {
            String url = input.path("url").asString();
            HttpResponse<InputStream> resp;
            try {
                resp = send(base -> HttpRequest.newBuilder(URI.create(servers.relocate(url, base)))
                        .timeout(Duration.ofMinutes(30)).GET(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException unreachable) {
                throw new TransientDownloadFailure("download of " + url + ": no API replica answers (" + unreachable + ")", unreachable);
            }
            if (resp.statusCode() != 200) {
                resp.body().close();
                String message = "download of " + url + " failed: HTTP " + resp.statusCode();
                throw resp.statusCode() == 503 ? new TransientDownloadFailure(message, null) : new IOException(message);
            }
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (InputStream in = new DigestInputStream(resp.body(), digest); OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            } catch (IOException cut) {
                throw new TransientDownloadFailure("download of " + url + " was cut off (" + cut + ")", cut);
            }
            String got = HexFormat.of().formatHex(digest.digest());
            if (!got.equals(sha)) {
                throw new IOException("download of " + input.path("url").asString() + " is corrupt: sha256 " + got + ", expected " + sha);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            Files.deleteIfExists(tmp);
            if (instance != null) {
                instance.release(tmp);
            }
        }
    }

    private HttpRequest.Builder jsonPost(String base, String path, JsonNode body) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body)));
    }

    /**
     * One call on the current replica; when it cannot be reached or answers 503, the same call on the next one (each
     * replica once). Throws the last connection failure when none could be reached; returns the last 503 when every
     * replica answered so.
     */
    private <T> HttpResponse<T> send(Function<String, HttpRequest.Builder> request, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        IOException unreachable = null;
        HttpResponse<T> unavailable = null;
        for (int i = 0; i < servers.size(); i++) {
            String base = servers.current();
            try {
                HttpResponse<T> r = http.send(auth(request.apply(base)).build(), body);
                if (r.statusCode() != 503) {
                    return r;
                }
                servers.failed(base);
                if (unavailable != null && unavailable.body() instanceof java.io.Closeable c) {
                    c.close();
                }
                unavailable = r;
            } catch (IOException e) {
                servers.failed(base);
                unreachable = e;
            }
        }
        if (unavailable != null) {
            return unavailable;
        }
        throw unreachable;
    }

    /**
     * A call that must arrive (a finished result, a failure, a hand-back, the registration): retried with backoff
     * while no replica can take it (unreachable or 503) for up to {@link #DELIVERY_PATIENCE}; the answer of the replica
     * that took it, whatever it says.
     */
    private HttpResponse<String> deliver(String what, Function<String, HttpRequest.Builder> request) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + DELIVERY_PATIENCE.toNanos();
        long backoff = 500;
        while (true) {
            try {
                HttpResponse<String> r = send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 503 || System.nanoTime() > deadline) {
                    return r;
                }
                log.warn("{}: the API is unavailable (503); retrying in {} ms", what, backoff);
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("could not deliver " + what + " within " + DELIVERY_PATIENCE + ": " + e.getMessage(), e);
                }
                log.warn("{}: no API replica answers ({}); retrying in {} ms", what, e.toString(), backoff);
            }
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, 10_000);
        }
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(base -> HttpRequest.newBuilder(URI.create(base + path)).GET(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Graceful stop (SIGTERM): no more leases, and the running job is asked to stop at its next progress point and is
     * then handed back to the queue (see {@link #handBackIfStillRunning()} for one that does not stop in time).
     */
    public void shutdown() {
        running = false;
        LiveProgress p = currentProgress;
        if (p != null) {
            p.requestStop(LiveProgress.SHUTDOWN);
        }
    }

    /** After {@link #shutdown()} timed out: hands the job back now (its late result will be refused: no lease). */
    public void handBackIfStillRunning() {
        UUID job = currentJob;
        if (job != null) {
            try {
                release(job, "the worker shut down before the job reached a stop point", false);
            } catch (IOException e) {
                log.warn("could not hand back job {}: {} (its lease lapses)", job, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        shutdown();
        heartbeats.shutdownNow();
    }

    /** The job as a remote worker sees it: inputs are downloaded files. */
    private final class RemoteExecution implements JobExecution {
        private final JsonNode task;
        private final Path model;
        private final LiveProgress progress;
        private final ConcurrentLinkedQueue<String> logLines;
        private final Path workDir;

        RemoteExecution(JsonNode task, Path model, LiveProgress progress, ConcurrentLinkedQueue<String> logLines, Path workDir) {
            this.task = task;
            this.model = model;
            this.progress = progress;
            this.logLines = logLines;
            this.workDir = workDir;
        }

        @Override
        public UUID jobId() {
            return UUID.fromString(task.path("job").path("id").asString());
        }

        @Override
        public String type() {
            return task.path("job").path("type").asString();
        }

        @Override
        public JsonNode config() {
            return task.path("job").path("config");
        }

        @Override
        public int attempt() {
            return task.path("job").path("attempts").asInt();
        }

        @Override
        public UUID modelId() {
            return UUID.fromString(task.path("model").path("id").asString());
        }

        @Override
        public Path modelFile() {
            return model;
        }

        @Override
        public List<TensorInfo> modelInputs() {
            return tensors(task.path("model").path("inputs"));
        }

        @Override
        public Optional<DatasetInput> dataset(DatasetRole role) {
            JsonNode d = task.path("datasets").path(role.name().toLowerCase());
            if (d.isMissingNode() || d.isNull()) {
                return Optional.empty();
            }
            return Optional.of(new DatasetInput() {
                @Override
                public UUID id() {
                    return UUID.fromString(d.path("id").asString());
                }

                @Override
                public String name() {
                    return d.path("name").asString();
                }

                @Override
                public List<TensorInfo> tensors() {
                    return RemoteWorkerAgent.tensors(d.path("tensors"));
                }

                @Override
                public SampleSource open() throws IOException {
                    try {
                        Path file = download(d);
                        if (d.path("tokenizer").isObject()) {
                            return DatasetService.openText(file, download(d.path("tokenizer")), d.path("text").stringValue(),
                                    d.path("sampleCount").asLong(), d.path("hasLabels").asBoolean(), json);
                        }
                        String pre = d.path("preprocessing").isString() ? d.path("preprocessing").stringValue() : null;
                        return DatasetService.open(file, d.path("format").asString(), pre, json);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while downloading " + name(), e);
                    }
                }
            });
        }

        @Override
        public Progress progress() {
            return progress;
        }

        @Override
        public void log(String message) {
            logLines.add(message);
        }

        @Override
        public UUID saveReport(JobOutcome.ReportDraft report) throws IOException {
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            body.set("config", report.config());
            body.set("metrics", report.metrics());
            body.set("runtime", report.runtime());
            body.set("layers", report.layers());
            try {
                HttpResponse<String> resp = deliver("a report of job " + jobId(),
                        base -> jsonPost(base, "/api/v1/workers/" + workerId + "/jobs/" + jobId() + "/reports", body));
                if (resp.statusCode() == 409) {
                    throw new dev.quantforge.quant.progress.CancelledException(LiveProgress.LEASE_LOST);
                }
                if (resp.statusCode() != 200) {
                    throw new IOException("storing a report failed: HTTP " + resp.statusCode() + " " + resp.body());
                }
                return UUID.fromString(json.readTree(resp.body()).path("id").asString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        @Override
        public List<JsonNode> savedReports() throws IOException {
            try {
                HttpResponse<String> resp = get("/api/v1/jobs/" + jobId() + "/reports");
                if (resp.statusCode() != 200) {
                    throw new IOException("reading the job's reports failed: HTTP " + resp.statusCode());
                }
                List<JsonNode> out = new ArrayList<>();
                json.readTree(resp.body()).forEach(out::add);
                return out;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        @Override
        public Optional<Path> artifactOf(UUID otherJobId, String kind) throws IOException {
            try {
                HttpResponse<String> resp = get("/api/v1/jobs/" + otherJobId);
                if (resp.statusCode() != 200) {
                    return Optional.empty();
                }
                for (JsonNode a : json.readTree(resp.body()).path("artifacts")) {
                    if (kind.equals(a.path("kind").asString())) {
                        ObjectNode ref = JsonNodeFactory.instance.objectNode();
                        ref.put("sha256", a.path("sha256").asString());
                        ref.put("url", servers.current() + "/api/v1/artifacts/" + a.path("id").asString() + "/content");
                        return Optional.of(download(ref));
                    }
                }
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        @Override
        public JsonNode workerCapabilities() {
            return capabilities;
        }

        @Override
        public Path cacheDir() {
            return dataDir.resolve("cache");
        }

        @Override
        public Path workDir() {
            return workDir;
        }
    }

    static List<TensorInfo> tensors(JsonNode arr) {
        List<TensorInfo> out = new ArrayList<>();
        for (JsonNode t : arr) {
            List<Object> shape = new ArrayList<>();
            for (JsonNode d : t.path("shape")) {
                shape.add(d.isNull() ? null : d.isNumber() ? (Object) d.asLong() : d.asString());
            }
            out.add(new TensorInfo(t.path("name").asString(), ElementType.fromApiName(t.path("elementType").asString()), shape));
        }
        return out;
    }
}
