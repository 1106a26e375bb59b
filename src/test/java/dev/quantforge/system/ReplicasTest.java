package dev.quantforge.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobRepository;
import dev.quantforge.job.LeaseReaper;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.S3Proxy;
import dev.quantforge.testsupport.ServiceProcess;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.RemoteWorkerAgent;

/**
 * Two API replicas (one PostgreSQL, one s3proxy bucket, no in-process workers) and a remote worker that knows both
 * behave as one service: a job submitted on A and leased from B streams its events on A and is cancelled through B;
 * when the worker's replica goes away mid-job, the worker carries on through the other one; the lease reaper runs
 * on both at once without requeuing a job twice; replicas starting together on an empty database migrate it once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicasTest {

    private String db;
    private String bucket;
    private ConfigurableApplicationContext a;
    private ConfigurableApplicationContext b;
    private Api apiA;
    private Api apiB;
    private String model;
    private List<JobHandler> handlers;

    @BeforeAll
    void start() throws Exception {
        TestDatabase.assumeAvailable();
        S3Proxy s3 = S3Proxy.get();
        bucket = s3.newBucket();
        db = TestDatabase.newDatabase();
        a = ServiceProcess.start(db, Files.createTempDirectory("qf-rep-a-"), 0, s3.serviceArgs(bucket, ""));
        b = ServiceProcess.start(db, Files.createTempDirectory("qf-rep-b-"), 0, s3.serviceArgs(bucket, ""));
        apiA = ServiceProcess.api(a);
        apiB = ServiceProcess.api(b);
        model = apiA.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
    }

    @AfterAll
    void stop() {
        for (ConfigurableApplicationContext c : new ConfigurableApplicationContext[]{b, a}) {
            if (c != null && c.isActive()) {
                c.close();
            }
        }
    }

    private String url(Api api) {
        return api.uri("").toString().replaceAll("/+$", "");
    }

    private Map<String, Object> benchmark(int iterations) {
        return Map.of("type", "benchmark", "modelId", model, "config", Map.of("benchmark", Map.of("iterations", iterations, "warmup", 0)));
    }

    /** The only worker of these replicas (they run none in-process). */
    private RemoteWorkerAgent worker(String servers) throws Exception {
        return new RemoteWorkerAgent(servers, Files.createTempDirectory("qf-rep-worker-"), "replicas-worker", handlers);
    }

    /** Reads the job's event stream on {@code api} until it ends; the events as "name data" lines. */
    private CompletableFuture<List<String>> follow(Api api, String jobId) {
        return CompletableFuture.supplyAsync(() -> {
            List<String> events = Collections.synchronizedList(new ArrayList<>());
            try {
                HttpResponse<InputStream> resp = api.client().send(HttpRequest.newBuilder(api.uri("/api/v1/jobs/" + jobId + "/events"))
                        .timeout(Duration.ofMinutes(2)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
                    String event = "";
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.startsWith("event:")) {
                            event = line.substring(6).trim();
                        } else if (line.startsWith("data:")) {
                            events.add(event + " " + line.substring(5).trim());
                        }
                    }
                }
            } catch (Exception e) {
                events.add("error " + e);
            }
            return events;
        });
    }

    @Test
    void aJobSubmittedOnALeasedFromBStreamsOnAAndIsCancelledThroughB() throws Exception {
        Api.Res submitted = apiA.postJson("/api/v1/jobs", benchmark(1_000_000));
        assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
        String id = submitted.json().path("id").asString();
        CompletableFuture<List<String>> eventsOnA = follow(apiA, id);
        try (RemoteWorkerAgent agent = worker(url(apiB))) {
            UUID workerId = agent.register();
            Future<Boolean> run = Executors.newSingleThreadExecutor().submit(() -> agent.runOne(5));
            apiA.await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("running")
                    && j.path("progress").path("fraction").asDouble() > 0, Duration.ofSeconds(60));
            Api.Res cancel = apiB.postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
            assertThat(cancel.status()).as(cancel.body()).isEqualTo(200);
            assertThat(run.get(30, TimeUnit.SECONDS)).isTrue();
            List<String> events = eventsOnA.get(30, TimeUnit.SECONDS);
            String all = String.join("\n", events);
            assertThat(all).as("progress reported through B, streamed by A").contains("progress {\"fraction\":")
                    .contains("leased by remote worker replicas-worker (" + workerId + ")")
                    .containsPattern("state \\{[^\n]*\"state\":\"running\"").containsPattern("state \\{[^\n]*\"state\":\"cancelled\"");
            assertThat(apiB.get("/api/v1/jobs/" + id).json().path("state").asString()).isEqualTo("cancelled");
        }
    }

    @Test
    void aWorkerWhoseReplicaGoesAwayMidJobCarriesOnThroughTheOther() throws Exception {
        // a third replica C the worker starts on; C shuts down while the job runs
        ConfigurableApplicationContext c = ServiceProcess.start(db, Files.createTempDirectory("qf-rep-c-"), 0,
                S3Proxy.get().serviceArgs(bucket, ""));
        Api apiC = ServiceProcess.api(c);
        Api.Res submitted = apiA.postJson("/api/v1/jobs", benchmark(300_000));
        assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
        String id = submitted.json().path("id").asString();
        try (RemoteWorkerAgent agent = worker(url(apiC) + "," + url(apiA))) {
            agent.register();
            Future<Boolean> run = Executors.newSingleThreadExecutor().submit(() -> agent.runOne(5));
            apiA.await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("running")
                    && j.path("progress").path("fraction").asDouble() > 0, Duration.ofSeconds(60));
            c.close();
            assertThat(run.get(120, TimeUnit.SECONDS)).isTrue();
            JsonNode done = apiA.awaitJob(id, Duration.ofSeconds(30));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.path("attempts").asInt()).as("the same attempt, its heartbeats and result sent to A").isEqualTo(1);
            assertThat(done.path("result").path("iterations").asInt()).as(done.toString()).isEqualTo(300_000);
        } finally {
            if (c.isActive()) {
                c.close();
            }
        }
    }

    @Test
    void theReaperRunsOnEveryReplicaAtOnceAndRequeuesEachExpiredLeaseOnce() throws Exception {
        JobRepository jobs = a.getBean(JobRepository.class);
        JdbcClient jdbc = a.getBean(JdbcClient.class);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ids.add(apiA.postJson("/api/v1/jobs", benchmark(1_000_000)).json().path("id").asString());
        }
        List<String> claimed = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            claimed.add(jobs.claim("worker-that-died", List.of("onnxruntime", "cpu"), 600).orElseThrow().id().toString());
        }
        assertThat(claimed).containsExactlyInAnyOrderElementsOf(ids);
        jdbc.sql("update job set lease_expires_at = now() - interval '1 second' where lease_owner = 'worker-that-died'").update();
        // eight reaper passes racing, four on each replica
        List<LeaseReaper> reapers = List.of(a.getBean(LeaseReaper.class), b.getBean(LeaseReaper.class));
        ExecutorService pool8 = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> passes = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            LeaseReaper r = reapers.get(i % 2);
            passes.add(pool8.submit(() -> {
                go.await();
                return r.reapOnce();
            }));
        }
        go.countDown();
        int reaped = 0;
        for (Future<Integer> f : passes) {
            reaped += f.get(60, TimeUnit.SECONDS);
        }
        pool8.shutdown();
        // (the replicas' own scheduled reapers may have taken some too: count from the jobs, not the passes)
        for (String id : ids) {
            JsonNode j = apiB.get("/api/v1/jobs/" + id).json();
            assertThat(j.path("state").asString()).as(j.toString()).isEqualTo("queued");
            assertThat(j.path("attempts").asInt()).as("claimed once, requeued once").isEqualTo(1);
            long expiredLines = apiA.get("/api/v1/jobs/" + id + "/logs").json().findValuesAsString("message").stream()
                    .filter(m -> m.contains("lease expired")).count();
            assertThat(expiredLines).as("one requeue of job " + id).isEqualTo(1);
        }
        assertThat(reaped).isBetween(0, 20);
        for (String id : ids) {
            apiA.postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
        }
    }

    @Test
    void replicasStartingTogetherOnAnEmptyDatabaseMigrateItOnce() throws Exception {
        String fresh = TestDatabase.newDatabase();
        ExecutorService starters = Executors.newFixedThreadPool(2);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<ConfigurableApplicationContext>> started = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            started.add(starters.submit(() -> {
                go.await();
                return ServiceProcess.start(fresh, Files.createTempDirectory("qf-rep-migrate-"), 0);
            }));
        }
        go.countDown();
        List<ConfigurableApplicationContext> both = new ArrayList<>();
        try {
            for (Future<ConfigurableApplicationContext> f : started) {
                both.add(f.get(3, TimeUnit.MINUTES));
            }
            JdbcClient jdbc = both.get(0).getBean(JdbcClient.class);
            List<Map<String, Object>> history = jdbc.sql("select version, count(*) as n, bool_and(success) as ok from flyway_schema_history "
                    + "where version is not null group by version order by version").query().listOfRows();
            assertThat(history).isNotEmpty();
            for (Map<String, Object> row : history) {
                assertThat(((Number) row.get("n")).intValue()).as("version " + row.get("version") + " applied once").isEqualTo(1);
                assertThat(row.get("ok")).isEqualTo(true);
            }
            for (ConfigurableApplicationContext c : both) {
                assertThat(ServiceProcess.api(c).get("/actuator/health").status()).isEqualTo(200);
            }
        } finally {
            both.forEach(ConfigurableApplicationContext::close);
            starters.shutdown();
        }
    }
}
