package dev.quantforge.worker.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import tools.jackson.databind.JsonNode;

import dev.quantforge.compile.TrtexecTestDoubles;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * compile_tensorrt end to end through the API, on the service's own in-process workers, whose trtexec is the
 * trtexec TEST DOUBLE (qf.trtexec, as QF_TRTEXEC would set it) and whose nvidia-smi is an nvidia-smi TEST DOUBLE
 * (qf.nvidia-smi): the double writes the layer info and profile of a real TensorRT engine (the fixtures), so what
 * runs after trtexec is the product's parsing of real TensorRT output. No GPU and no TensorRT here.
 */
class CompileTensorRtJobTest extends ServiceTest {

    private static final Path BIN;

    static {
        try {
            BIN = Files.createTempDirectory("qf-trt-test-double-");
            TrtexecTestDoubles.install(BIN);
            // TEST DOUBLE of nvidia-smi: one NVIDIA H100, the device trtexec's test double says it runs on
            Path smi = BIN.resolve("nvidia-smi");
            Files.writeString(smi, """
                    #!/bin/sh
                    # TEST DOUBLE of nvidia-smi for CompileTensorRtJobTest: prints what a real one prints for these queries
                    case "$1" in
                      --query-gpu=*) echo "NVIDIA H100 80GB HBM3, 9.0, 81559 MiB, 550.54.15" ;;
                      *) echo "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4 |" ;;
                    esac
                    """);
            Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void tensorRt(DynamicPropertyRegistry r) {
        r.add("qf.trtexec", () -> BIN.resolve("trtexec").toString());
        r.add("qf.nvidia-smi", () -> BIN.resolve("nvidia-smi").toString());
    }

    private String mnist8;
    private String evalSet;

    @BeforeEach
    void uploads() throws IOException {
        TrtexecTestDoubles.install(BIN); // the default behaviour: builds
        mnist8 = upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"));
        evalSet = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-eval.npz"));
    }

    @AfterEach
    void defaultDouble() throws IOException {
        TrtexecTestDoubles.install(BIN);
    }

    private String upload(String path, Path file) {
        Api.Res r = api().upload(path, file, Map.of());
        assertThat(r.status()).as(r.body()).isIn(200, 201);
        return r.json().path("id").asString();
    }

    private Api.Res submit(Map<String, Object> body) {
        return api().postJson("/api/v1/jobs", body);
    }

    private String submitted(Map<String, Object> body) {
        Api.Res r = submit(body);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    private String log(String jobId) {
        return api().get("/api/v1/jobs/" + jobId + "/logs?limit=5000").body();
    }

    @Test
    void aWorkerWithTrtexecAdvertisesTensorRtAndItsGpu() {
        JsonNode workers = api().get("/api/v1/workers").json();
        JsonNode local = null;
        for (JsonNode w : workers) {
            if (!w.path("remote").asBoolean() && w.path("state").asString().equals("live")
                    && w.path("capabilities").path("tensorrt").path("trtexec").asString("").equals(BIN.resolve("trtexec").toString())) {
                local = w;
            }
        }
        assertThat(local).as("this service's in-process worker, with the configured trtexec: %s", workers).isNotNull();
        assertThat(local.path("capabilities").path("tensorrt").path("version").asString()).isEqualTo("10.9.0");
        JsonNode gpu = local.path("capabilities").path("gpu");
        assertThat(gpu.path("name").asString()).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(gpu.path("computeCapability").asString()).isEqualTo("9.0");
        assertThat(gpu.path("memoryMiB").asLong()).isEqualTo(81559);
        assertThat(gpu.path("driver").asString()).isEqualTo("550.54.15");
        assertThat(gpu.path("cuda").asString()).isEqualTo("12.4");
        assertThat(local.path("capabilityTags").toString()).contains("\"tensorrt\"", "\"tensorrt=10.9\"", "\"gpu=nvidia-h100-80gb-hbm3\"",
                "\"computeCapability>=8.0\"", "\"computeCapability>=9.0\"").doesNotContain("computeCapability>=10.0");
    }

    @Test
    void compilesAPtqJobsQuantizedModelAndReportsLayersLatencyAndEngineAccuracy() {
        String calib = upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"));
        String ptq = submitted(Map.of("type", "ptq", "modelId", mnist8, "calibrationDatasetId", calib, "evaluationDatasetId", evalSet,
                "config", Map.of("target", "tensorrt", "calibration", Map.of("maxSamples", 100), "evaluation", Map.of("maxSamples", 100),
                        "benchmark", Map.of("iterations", 5))));
        JsonNode ptqDone = api().awaitJob(ptq, Duration.ofMinutes(5));
        assertThat(ptqDone.path("state").asString()).as(ptqDone.toString()).isEqualTo("succeeded");

        // no modelId: the ptq job's model; the requirements name the GPU the worker has, the compute capability, the TensorRT
        String job = submitted(Map.of("type", "compile_tensorrt", "evaluationDatasetId", evalSet, "config", Map.of("fromJobId", ptq,
                "builderOptimizationLevel", 2, "workspaceMiB", 512, "benchmark", Map.of("iterations", 20, "durationSeconds", 0),
                "evaluation", Map.of("maxSamples", 3),
                "requirements", Map.of("gpu", "nvidia h100 80gb hbm3", "minComputeCapability", "8.0", "tensorrtVersion", "10.9"))));
        JsonNode queued = api().get("/api/v1/jobs/" + job).json();
        assertThat(queued.path("modelId").asString()).isEqualTo(mnist8);
        assertThat(queued.path("config").path("evaluate").asBoolean()).as("resolved: an evaluation set is given").isTrue();
        assertThat(queued.path("config").path("precision").asString()).isEqualTo("strongly_typed");
        assertThat(queued.path("config").path("timingCache").asBoolean()).isTrue();
        assertThat(queued.path("requirements").toString()).contains("\"tensorrt\"", "\"gpu=nvidia-h100-80gb-hbm3\"",
                "\"computeCapability>=8.0\"", "\"tensorrt=10.9\"");

        JsonNode done = api().awaitJob(job, Duration.ofMinutes(5));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        JsonNode r = done.path("result");
        assertThat(r.path("tensorrt").path("version").asString()).isEqualTo("10.9.0");
        assertThat(r.path("gpu").path("name").asString()).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(r.path("gpu").path("computeCapability").asString()).isEqualTo("9.0");
        assertThat(r.path("gpu").path("driver").asString()).as("nvidia-smi's entry for the device trtexec used").isEqualTo("550.54.15");
        assertThat(r.path("latencyMs").path("p50").asDouble()).isEqualTo(0.4051);
        assertThat(r.path("latencyMs").path("p90").asDouble()).isEqualTo(0.4213);
        assertThat(r.path("latencyMs").path("p99").asDouble()).isEqualTo(0.5208);
        assertThat(r.path("throughputPerSecond").asDouble()).isEqualTo(2418.71);
        // the double writes the layer info of the real MobileNet engine: 73 layers with precision and time. Their ONNX
        // nodes are MobileNet's, which mnist does not have: onnxNodes lists only nodes of the compiled model, so it is empty
        // here (the join itself is tested on the fixtures' own graphs in the compile package)
        assertThat(r.path("layers")).hasSize(73);
        JsonNode fused = null;
        int int8 = 0;
        for (JsonNode l : r.path("layers")) {
            assertThat(l.path("onnxNodes").isArray()).isTrue();
            assertThat(l.path("onnxNodes")).isEmpty();
            int8 += l.path("precision").asString().equals("int8") ? 1 : 0;
            if (fused == null && l.path("name").asString().contains(" + ")) {
                fused = l;
            }
        }
        assertThat(int8).as("the QAT MobileNet engine runs most layers in INT8").isGreaterThan(30);
        assertThat(fused).as("a fused layer: TensorRT joins the ONNX node names with ' + '").isNotNull();
        assertThat(fused.path("precision").asString()).isIn("int8", "fp16", "fp32");
        assertThat(fused.path("timeMs").isNumber()).isTrue();
        // mnist's planned INT8 nodes are in no MobileNet layer: the plan check says so rather than guessing
        assertThat(r.path("plannedInt8Nodes").asInt()).isPositive();
        assertThat(r.path("warnings").toString()).contains("planned INT8 are named by no engine layer");
        // the engine itself ran over the evaluation set (the double runs the model it embedded) next to ONNX Runtime's QDQ model
        assertThat(r.path("accuracy").path("samples").asLong()).isEqualTo(3);
        assertThat(r.path("accuracy").path("trtexecRuns").asInt()).isEqualTo(3);
        assertThat(r.path("engineTop1").asDouble()).isEqualTo(r.path("qdqTop1").asDouble());
        assertThat(r.path("accuracy").path("agreement").asDouble()).isEqualTo(1.0);

        // artifacts: engine (named by GPU and TensorRT), timing cache, layer info and profile, build log
        Map<String, String> kinds = new HashMap<>();
        done.path("artifacts").forEach(a -> kinds.put(a.path("name").asString(), a.path("kind").asString()));
        assertThat(kinds).containsEntry("model.qdq.nvidia-h100-80gb-hbm3-sm90.trt10.9.0.engine", "engine")
                .containsEntry("model.qdq.nvidia-h100-80gb-hbm3-sm90.trt10.9.0.timing.cache", "timing_cache")
                .containsEntry("layer-info.json", "profile").containsEntry("profile.json", "profile")
                .containsEntry("trtexec-build.log", "log");
        assertThat(r.path("engineArtifactId").asString()).isNotEmpty();
        assertThat(new String(api().getBytes("/api/v1/artifacts/" + r.path("layerInfoArtifactId").asString() + "/content")))
                .contains("\"Layers\"");
        // the timing cache is kept per GPU model and TensorRT version in the worker's cache for the next build
        assertThat(DATA_DIR.resolve("cache/tensorrt-timing-caches/nvidia-h100-80gb-hbm3-sm90-trt10.9.0.cache")).isRegularFile();

        // the report: the layers, latency and the engine's accuracy, with TensorRT, GPU, driver and CUDA as its runtime
        JsonNode report = api().get("/api/v1/reports/" + r.path("reportId").asString()).json();
        assertThat(report.path("runtime").path("engine").asString()).isEqualTo("tensorrt");
        assertThat(report.path("runtime").path("engineVersion").asString()).isEqualTo("10.9.0");
        assertThat(report.path("runtime").path("gpu").asString()).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(report.path("runtime").path("driver").asString()).isEqualTo("550.54.15");
        assertThat(report.path("runtime").path("cuda").asString()).isEqualTo("12.4");
        assertThat(report.path("metrics").path("latencyP50Ms").asDouble()).isEqualTo(0.4051);
        assertThat(report.path("metrics").path("top1").asDouble()).isEqualTo(r.path("engineTop1").asDouble());
        assertThat(report.path("layers")).hasSize(73);
        assertThat(report.path("config").path("fromJobId").asString()).isEqualTo(ptq);

        // the log has trtexec's own lines, streamed as it printed them
        String log = log(job);
        assertThat(log).contains("&&&& RUNNING TensorRT.trtexec", "--stronglyTyped", "--builderOptimizationLevel=2",
                "--memPoolSize=workspace:512", "=== Performance summary ===", "&&&& PASSED");
    }

    @Test
    void anEngineThatComputesSomethingElseThanItsOnnxModelShowsInItsAccuracy() throws IOException {
        // the double's "broken engine": each output row reversed, as a wrongly fused layer would scramble it
        TrtexecTestDoubles.install(BIN, Map.of("TRTEXEC_TEST_DOUBLE_SCRAMBLE_OUTPUTS", "1"));
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", mnist8, "evaluationDatasetId", evalSet,
                "config", Map.of("timingCache", false, "benchmark", Map.of("iterations", 10, "durationSeconds", 0),
                        "evaluation", Map.of("maxSamples", 4))));
        JsonNode done = api().awaitJob(job, Duration.ofMinutes(3));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        JsonNode a = done.path("result").path("accuracy");
        assertThat(a.path("samples").asLong()).isEqualTo(4);
        assertThat(a.path("qdqTop1").asDouble()).as("the ONNX model in ONNX Runtime gets these digits right").isEqualTo(1.0);
        assertThat(a.path("engineTop1").asDouble()).isLessThan(0.5);
        assertThat(a.path("agreement").asDouble()).isLessThan(0.5);
        assertThat(a.path("sqnrDb").asDouble()).isLessThan(10);
    }

    @Test
    void aDynamicModelNeedsShapesAtSubmissionAndCompilesWithThem() throws IOException {
        String tribuo = upload("/api/v1/models", SharedData.file("mnist/tribuo-pytorch_cnn_mnist.onnx"));
        Api.Res noShapes = submit(Map.of("type", "compile_tensorrt", "modelId", tribuo));
        assertThat(noShapes.status()).as(noShapes.body()).isEqualTo(400);
        assertThat(noShapes.contentType()).startsWith("application/problem+json");
        assertThat(noShapes.json().path("errors").get(0).path("field").asString()).isEqualTo("config.shapes");
        assertThat(noShapes.detail()).contains("input 'input_image' has dynamic dimensions", "give shapes.input_image {min, opt, max}");

        Path args = BIN.resolve("args-dynamic.txt");
        TrtexecTestDoubles.install(BIN, Map.of("TRTEXEC_TEST_DOUBLE_ARGS_FILE", args.toString()));
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", tribuo, "config", Map.of("timingCache", false,
                "benchmark", Map.of("iterations", 10, "durationSeconds", 0),
                "shapes", Map.of("input_image", Map.of("min", List.of(1, 1, 28, 28), "opt", List.of(8, 1, 28, 28), "max", List.of(32, 1, 28, 28))))));
        JsonNode done = api().awaitJob(job, Duration.ofMinutes(3));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("config").path("evaluate").asBoolean()).as("no evaluation set: not evaluated").isFalse();
        assertThat(done.path("result").has("accuracy")).isFalse();
        assertThat(done.path("artifacts").toString()).doesNotContain("timing_cache");
        List<String> argv = Files.readAllLines(args);
        assertThat(argv).contains("--minShapes=input_image:1x1x28x28", "--optShapes=input_image:8x1x28x28",
                "--maxShapes=input_image:32x1x28x28").noneMatch(a -> a.startsWith("--timingCacheFile"));
    }

    @Test
    void aFailedBuildFailsTheJobWithTrtexecsTailAndWhatToChange() throws IOException {
        TrtexecTestDoubles.install(BIN, Map.of("TRTEXEC_TEST_DOUBLE_FAIL", "unsupported_op"));
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", mnist8));
        JsonNode done = api().awaitJob(job, Duration.ofMinutes(3));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
        assertThat(done.path("attempts").asInt()).as("the same model fails the same way: not retried").isEqualTo(1);
        assertThat(done.path("error").path("code").asString()).isEqualTo("tensorrt_build_failed");
        assertThat(done.path("error").path("message").asString()).contains("DeformConv", "No importer registered for op: DeformConv",
                "&&&& FAILED TensorRT.trtexec");
        assertThat(log(job)).contains("[8] No importer registered for op: DeformConv");
    }

    @Test
    void theBuildTimeoutKillsTrtexecAndFailsTheJob() throws Exception {
        Path pids = BIN.resolve("pids-timeout.txt");
        Files.deleteIfExists(pids);
        TrtexecTestDoubles.install(BIN, Map.of("TRTEXEC_TEST_DOUBLE_HANG_SECONDS", "120", "TRTEXEC_TEST_DOUBLE_PID_FILE", pids.toString()));
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("buildTimeoutSeconds", 4)));
        JsonNode done = api().awaitJob(job, Duration.ofMinutes(2));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
        assertThat(done.path("error").path("code").asString()).isEqualTo("tensorrt_timeout");
        assertThat(done.path("error").path("message").asString()).contains("within 4 s and was stopped", "buildTimeout");
        assertGone(pids);
    }

    @Test
    void cancelKillsTrtexec() throws Exception {
        Path pids = BIN.resolve("pids-cancel.txt");
        Files.deleteIfExists(pids);
        TrtexecTestDoubles.install(BIN, Map.of("TRTEXEC_TEST_DOUBLE_HANG_SECONDS", "120", "TRTEXEC_TEST_DOUBLE_PID_FILE", pids.toString()));
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", mnist8));
        long end = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!Files.exists(pids) && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertThat(pids).as("trtexec (the double) started and is hanging").exists();
        // streamed: trtexec's lines and the build's progress are visible while it still runs
        api().await("/api/v1/jobs/" + job + "/logs", l -> l.toString().contains("Compiler backend is used during engine build"),
                Duration.ofSeconds(20));
        JsonNode running = api().await("/api/v1/jobs/" + job, j -> j.path("progress").path("message").asString().startsWith("trtexec building"),
                Duration.ofSeconds(20));
        assertThat(running.path("state").asString()).isEqualTo("running");
        assertThat(running.path("progress").path("phase").asString()).isEqualTo("build");
        assertThat(api().postJson("/api/v1/jobs/" + job + "/cancel", Map.of()).status()).isEqualTo(200);
        JsonNode done = api().awaitJob(job, Duration.ofSeconds(30));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("cancelled");
        assertGone(pids);
    }

    /** trtexec and the child it started are no longer running. */
    private static void assertGone(Path pids) throws Exception {
        long[] both = Arrays.stream(Files.readString(pids).trim().split(" ")).mapToLong(Long::parseLong).toArray();
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < end && Arrays.stream(both).anyMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false))) {
            Thread.sleep(100);
        }
        for (long pid : both) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("process %d killed", pid).isFalse();
        }
    }

    @Test
    void aRemoteGpuWorkerTakesTheJobThatRequiresItsGpuAndUploadsTheEngine() throws Exception {
        // TEST DOUBLE of nvidia-smi on another machine: an NVIDIA L4, which the in-process workers (H100) are not
        Path remoteBin = Files.createTempDirectory("qf-trt-remote-");
        Path smi = remoteBin.resolve("nvidia-smi");
        Files.writeString(smi, """
                #!/bin/sh
                # TEST DOUBLE of nvidia-smi for CompileTensorRtJobTest (the remote worker's GPU)
                case "$1" in
                  --query-gpu=*) echo "NVIDIA L4, 8.9, 23034 MiB, 550.90.07" ;;
                  *) echo "| NVIDIA-SMI 550.90.07    Driver Version: 550.90.07    CUDA Version: 12.4 |" ;;
                esac
                """);
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("timingCache", false,
                "benchmark", Map.of("iterations", 10, "durationSeconds", 0), "requirements", Map.of("gpu", "NVIDIA L4"))));
        List<dev.quantforge.worker.JobHandler> handlers;
        try (var ctx = new org.springframework.context.annotation.AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new java.util.ArrayList<>(ctx.getBeansOfType(dev.quantforge.worker.JobHandler.class).values());
        }
        try (var agent = new dev.quantforge.worker.RemoteWorkerAgent("http://127.0.0.1:" + port, Files.createTempDirectory("qf-remote-"),
                "remote-l4", handlers).withTensorRt(BIN.resolve("trtexec").toString(), smi.toString())) {
            java.util.UUID workerId = agent.register();
            assertThat(agent.runOne(10)).as("the L4 worker leases the job that requires an L4").isTrue();
            JsonNode done = api().awaitJob(job, Duration.ofMinutes(2));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.path("workerId").asString()).isEqualTo(workerId.toString());
            assertThat(done.path("artifacts").toString()).contains("\"engine\"", "layer-info.json", "trtexec-build.log");
            assertThat(done.path("result").path("layers")).hasSize(73);
            assertThat(log(job)).contains("leased by remote worker remote-l4", "&&&& PASSED TensorRT.trtexec");
        }
    }

    @Test
    void weakTypingOnATensorRt11WorkerFailsAsBadInputSayingWhatToUse() throws Exception {
        // a remote worker with TensorRT 11 (the double reports v110000 and refuses --int8/--fp16 as TensorRT 11 does)
        Path trt11 = Files.createTempDirectory("qf-trt11-");
        TrtexecTestDoubles.install(trt11, Map.of("TRTEXEC_TEST_DOUBLE_VERSION", "110000"));
        Path smi = trt11.resolve("nvidia-smi");
        Files.writeString(smi, """
                #!/bin/sh
                # TEST DOUBLE of nvidia-smi for CompileTensorRtJobTest (the TensorRT 11 worker's GPU)
                case "$1" in
                  --query-gpu=*) echo "NVIDIA B200, 10.0, 183359 MiB, 580.65.06" ;;
                  *) echo "| NVIDIA-SMI 580.65.06    Driver Version: 580.65.06    CUDA Version: 13.0 |" ;;
                esac
                """);
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("precision", "int8",
                "requirements", Map.of("gpu", "NVIDIA B200"))));
        List<dev.quantforge.worker.JobHandler> handlers;
        try (var ctx = new org.springframework.context.annotation.AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new java.util.ArrayList<>(ctx.getBeansOfType(dev.quantforge.worker.JobHandler.class).values());
        }
        try (var agent = new dev.quantforge.worker.RemoteWorkerAgent("http://127.0.0.1:" + port, Files.createTempDirectory("qf-remote-"),
                "remote-b200", handlers).withTensorRt(trt11.resolve("trtexec").toString(), smi.toString())) {
            agent.register();
            assertThat(agent.runOne(10)).isTrue();
            JsonNode done = api().awaitJob(job, Duration.ofMinutes(2));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
            assertThat(done.path("attempts").asInt()).isEqualTo(1);
            assertThat(done.path("error").path("code").asString()).isEqualTo("invalid_input");
            assertThat(done.path("error").path("message").asString()).contains("TensorRT 11.0.0 no longer has", "strongly_typed");
        }
    }

    @Test
    void aJobNoLiveWorkerCanServeStaysQueuedAndSaysWhatIsMissing() {
        String job = submitted(Map.of("type", "compile_tensorrt", "modelId", mnist8,
                "config", Map.of("requirements", Map.of("gpu", "NVIDIA GeForce RTX 5090", "minComputeCapability", "12.0"))));
        JsonNode waiting = api().await("/api/v1/jobs/" + job, j -> j.path("progress").path("message").asString().startsWith("waiting: no live"),
                Duration.ofSeconds(30));
        assertThat(waiting.path("state").asString()).isEqualTo("queued");
        assertThat(waiting.path("progress").path("message").asString()).contains("gpu=nvidia-geforce-rtx-5090", "computeCapability>=12.0")
                .doesNotContain("has tensorrt,");
        assertThat(api().postJson("/api/v1/jobs/" + job + "/cancel", Map.of()).status()).isEqualTo(200);
    }

    @Test
    void badConfigsAre400sThatSayWhatToFix() {
        String tribuo = upload("/api/v1/models", SharedData.file("mnist/tribuo-pytorch_cnn_mnist.onnx"));
        record Case(Map<String, Object> body, String field, String says) {
        }
        String ghost = "00000000-0000-0000-0000-000000000001";
        List<Case> cases = List.of(
                new Case(Map.of("type", "compile_tensorrt"), "modelId", "config.fromJobId"),
                new Case(Map.of("type", "compile_tensorrt", "config", Map.of("fromJobId", ghost)), "config.fromJobId", "there is no job"),
                new Case(Map.of("type", "compile_tensorrt", "config", Map.of("fromJobId", "nope")), "config.fromJobId", "UUID"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("precision", "int4")), "config.precision",
                        "strongly_typed"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("builderOptimizationLevel", 9)),
                        "config.builderOptimizationLevel", "between 0 and 5"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("workspaceMiB", 0)), "config.workspaceMiB",
                        "between 1"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("evaluate", true)), "evaluationDatasetId",
                        "evaluate true"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("precision", "int8",
                        "requirements", Map.of("tensorrtVersion", "11.0"))), "config.precision", "removed in TensorRT 11"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("requirements",
                        Map.of("minComputeCapability", "sm90"))), "config.requirements.minComputeCapability", "major.minor"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("requirements",
                        Map.of("tensorrtVersion", "ten"))), "config.requirements.tensorrtVersion", "TensorRT version"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("requirements",
                        Map.of("gpu", " - "))), "config.requirements.gpu", "as nvidia-smi prints it"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("shapes", List.of(1, 2))), "config.shapes",
                        "must be an object"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", tribuo, "config", Map.of("shapes", Map.of("input_image",
                        Map.of("min", List.of(8, 1, 28, 28), "opt", List.of(1, 1, 28, 28), "max", List.of(32, 1, 28, 28))))),
                        "config.shapes.input_image", "min <= opt <= max"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", tribuo, "config", Map.of("shapes", Map.of("input_image",
                        Map.of("min", List.of(1, 3, 28, 28), "opt", List.of(1, 3, 28, 28), "max", List.of(1, 3, 28, 28))))),
                        "config.shapes", "fixed at 1"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", tribuo, "config", Map.of("shapes", Map.of("images",
                        Map.of("min", List.of(1), "opt", List.of(1), "max", List.of(1))))), "config.shapes", "input_image"),
                new Case(Map.of("type", "compile_tensorrt", "modelId", mnist8, "config", Map.of("shapes", Map.of("Input3",
                        Map.of("min", List.of(1, 1, 28, 28), "max", List.of(1, 1, 28, 28))))), "config.shapes.Input3.opt", "is required"));
        for (Case c : cases) {
            Api.Res r = submit(c.body());
            assertThat(r.status()).as("%s → %s", c.body(), r.body()).isEqualTo(400);
            assertThat(r.contentType()).startsWith("application/problem+json");
            assertThat(r.json().path("errors").toString()).as(c.body().toString()).contains("\"field\":\"" + c.field() + "\"").contains(c.says());
        }
        // fromJobId must be a succeeded quantizing job with a quantized model
        String evaluate = submitted(Map.of("type", "evaluate", "modelId", mnist8, "evaluationDatasetId", evalSet,
                "config", Map.of("evaluation", Map.of("maxSamples", 10))));
        Api.Res notQuantizing = submit(Map.of("type", "compile_tensorrt", "config", Map.of("fromJobId", evaluate)));
        assertThat(notQuantizing.status()).isEqualTo(400);
        assertThat(notQuantizing.detail()).contains("is a evaluate job", "ptq, qat or auto_quantize");
        Api.Res otherModel = submit(Map.of("type", "compile_tensorrt", "modelId", tribuo, "config", Map.of("fromJobId", evaluate,
                "shapes", Map.of("input_image", Map.of("min", List.of(1, 1, 28, 28), "opt", List.of(1, 1, 28, 28), "max", List.of(1, 1, 28, 28))))));
        assertThat(otherModel.status()).isEqualTo(400);
        api().awaitJob(evaluate, Duration.ofMinutes(2));
    }
}
