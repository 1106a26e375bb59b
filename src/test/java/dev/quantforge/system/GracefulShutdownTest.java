package dev.quantforge.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceProcess;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.RemoteWorkerAgent;

/**
 * SIGTERM (Spring's shutdown hook closes the context exactly as {@code close()} does here): readiness goes false and
 * the process keeps serving for the drain period, hands out no leases, gives its running job back to the queue at
 * once without counting the attempt, lets an upload that is still arriving finish, and exits. A remote worker told
 * to stop hands its job back the same way. Another process then runs the job on its first counted attempt.
 */
class GracefulShutdownTest {

    private static final byte[] MODEL = read("mnist/mnist-8.onnx");

    private static byte[] read(String rel) {
        try {
            return Files.readAllBytes(SharedData.file(rel));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Map<String, Object> longBenchmark(String model) {
        return Map.of("type", "benchmark", "modelId", model, "config", Map.of("benchmark", Map.of("iterations", 1_000_000, "warmup", 0)));
    }

    @Test
    void aStoppingReplicaDrainsHandsItsJobBackAndFinishesAnUploadInFlight() throws Exception {
        TestDatabase.assumeAvailable();
        String db = TestDatabase.newDatabase();
        java.nio.file.Path dataDir = Files.createTempDirectory("qf-drain-");
        ConfigurableApplicationContext a = ServiceProcess.start(db, dataDir, 1,
                "--qf.shutdown.drain-seconds=3");
        Api apiA = ServiceProcess.api(a);
        int portA = apiA.uri("").getPort();
        String model = apiA.upload("/api/v1/models", "mnist-8.onnx", MODEL, Map.of()).json().path("id").asString();
        String id = apiA.postJson("/api/v1/jobs", longBenchmark(model)).json().path("id").asString();
        apiA.await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("running")
                && j.path("progress").path("fraction").asDouble() > 0, Duration.ofSeconds(60));
        String workerOfA = apiA.postJson("/api/v1/workers", Map.of("name", "late-worker", "capabilities", Map.of("onnxruntime", true)))
                .json().path("id").asString();

        // an upload whose first half is sent before the shutdown begins and the rest while it drains
        byte[] copy = MODEL.clone();
        copy[copy.length - 1] ^= 1; // other bytes, another blob (content addressing would return the first model)
        SlowUpload upload = SlowUpload.start(portA, "/api/v1/models", "mnist-8-copy.onnx", copy);

        long t0 = System.nanoTime();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(a::close);
        Api.Res ready = apiA.get("/actuator/health/readiness");
        for (long end = System.nanoTime() + Duration.ofSeconds(2).toNanos(); ready.status() == 200 && System.nanoTime() < end; ) {
            Thread.sleep(50);
            ready = apiA.get("/actuator/health/readiness");
        }
        assertThat(ready.status()).as("not ready while draining: " + ready.body()).isEqualTo(503);
        assertThat(ready.body()).contains("OUT_OF_SERVICE");
        assertThat(apiA.get("/actuator/health/liveness").status()).as("still alive").isEqualTo(200);
        Api.Res lease = apiA.postJson("/api/v1/workers/" + workerOfA + "/lease", Map.of("waitSeconds", 0));
        assertThat(lease.status()).as(lease.body()).isEqualTo(503);
        assertThat(lease.detail()).contains("shutting down");

        JsonNode handedBack = apiA.await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("queued"), Duration.ofSeconds(20));
        assertThat(handedBack.path("attempts").asInt()).as("the attempt is not counted: " + handedBack).isEqualTo(0);
        assertThat(handedBack.path("progress").path("message").asString()).contains("handed back");

        RawResponse uploaded = upload.finish();
        assertThat(uploaded.status()).as("an upload in flight is finished, not cut: " + uploaded.body()).isEqualTo(201);
        closing.get(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(seconds).as("exits within Kubernetes' default 30 s grace period").isLessThan(30);

        // the process started again (same data dir: the pod's volume)
        try (ConfigurableApplicationContext b = ServiceProcess.start(db, dataDir, 1)) {
            Api apiB = ServiceProcess.api(b);
            assertThat(apiB.get("/api/v1/jobs/" + id + "/logs").body()).contains("handed back to the queue");
            assertThat(apiB.getBytes("/api/v1/models/" + uploaded.json().path("id").asString() + "/content")).isEqualTo(copy);
            apiB.await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("running"), Duration.ofSeconds(60));
            assertThat(apiB.get("/api/v1/jobs/" + id).json().path("attempts").asInt()).isEqualTo(1);
            apiB.postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
            assertThat(apiB.awaitJob(id, Duration.ofSeconds(30)).path("state").asString()).isEqualTo("cancelled");
        }
    }

    @Test
    void aRemoteWorkerToldToStopHandsItsJobBack() throws Exception {
        TestDatabase.assumeAvailable();
        List<JobHandler> handlers;
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
        try (ConfigurableApplicationContext service = ServiceProcess.start(TestDatabase.newDatabase(), Files.createTempDirectory("qf-drain-r-"), 0)) {
            Api api = ServiceProcess.api(service);
            String base = api.uri("").toString().replaceAll("/+$", "");
            String model = api.upload("/api/v1/models", "mnist-8.onnx", MODEL, Map.of()).json().path("id").asString();
            String id = api.postJson("/api/v1/jobs", longBenchmark(model)).json().path("id").asString();
            UUID identity = UUID.randomUUID();
            ExecutorService runner = Executors.newSingleThreadExecutor();
            try (RemoteWorkerAgent agent = new RemoteWorkerAgent(base, Files.createTempDirectory("qf-drain-w-"), "stopping", handlers)
                    .withIdentity(identity)) {
                assertThat(agent.register()).isEqualTo(identity);
                Future<Boolean> run = runner.submit(() -> agent.runOne(5));
                api.await("/api/v1/jobs/" + id, j -> j.path("state").asString().equals("running")
                        && j.path("progress").path("fraction").asDouble() > 0, Duration.ofSeconds(60));
                agent.shutdown();
                assertThat(run.get(30, TimeUnit.SECONDS)).isTrue();
                JsonNode j = api.get("/api/v1/jobs/" + id).json();
                assertThat(j.path("state").asString()).as(j.toString()).isEqualTo("queued");
                assertThat(j.path("attempts").asInt()).isEqualTo(0);
                assertThat(api.get("/api/v1/jobs/" + id + "/logs").body()).contains("handed this attempt back");
            }
            // the same worker restarted (same identity) after dying with a job: that job is requeued at registration
            try (RemoteWorkerAgent again = new RemoteWorkerAgent(base, Files.createTempDirectory("qf-drain-w2-"), "restarted", handlers)
                    .withIdentity(identity)) {
                service.getBean(dev.quantforge.job.JobRepository.class).claim(identity.toString(), List.of("onnxruntime", "cpu"), 600)
                        .orElseThrow();
                again.register();
                JsonNode j = api.get("/api/v1/jobs/" + id).json();
                assertThat(j.path("state").asString()).as("requeued when its worker came back, not after the 600 s lease").isEqualTo("queued");
                assertThat(api.get("/api/v1/jobs/" + id + "/logs").body()).contains("its process restarted");
                api.postJson("/api/v1/jobs/" + id + "/cancel", Map.of());
            } finally {
                runner.shutdownNow();
            }
        }
    }

    record RawResponse(int status, String body, JsonNode json) {
    }

    /** A multipart upload over a raw socket, sent in two halves with a pause the test controls. */
    static final class SlowUpload {
        private final Socket socket;
        private final OutputStream out;
        private final byte[] rest;

        private SlowUpload(Socket socket, byte[] rest) throws java.io.IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            this.rest = rest;
        }

        static SlowUpload start(int port, String path, String filename, byte[] content) throws java.io.IOException {
            String boundary = "qfslow" + UUID.randomUUID().toString().replace("-", "");
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.write(content);
            body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            byte[] all = body.toByteArray();
            String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: multipart/form-data; boundary="
                    + boundary + "\r\nContent-Length: " + all.length + "\r\nConnection: close\r\n\r\n";
            Socket s = new Socket("127.0.0.1", port);
            s.setSoTimeout(60_000);
            int half = all.length / 2;
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(all, 0, half);
            s.getOutputStream().flush();
            return new SlowUpload(s, java.util.Arrays.copyOfRange(all, half, all.length));
        }

        RawResponse finish() throws java.io.IOException {
            try (socket) {
                out.write(rest);
                out.flush();
                InputStream in = socket.getInputStream();
                String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                int status = Integer.parseInt(response.substring(9, 12));
                String body = response.substring(response.indexOf("\r\n\r\n") + 4);
                // a chunked body: the JSON object is between the first '{' and the last '}'
                String jsonText = body.contains("{") ? body.substring(body.indexOf('{'), body.lastIndexOf('}') + 1) : "{}";
                return new RawResponse(status, body, Api.JSON.readTree(jsonText));
            }
        }
    }
}
