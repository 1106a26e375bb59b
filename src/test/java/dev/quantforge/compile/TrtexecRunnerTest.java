package dev.quantforge.compile;

import dev.quantforge.quant.progress.CancelledException;
import dev.quantforge.quant.progress.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The trtexec runner against the trtexec TEST DOUBLE (src/test/resources/tensorrt/trtexec-test-double): the
 * exact argv, streamed output, cancel and timeout killing the whole process tree, and classified failures.
 */
class TrtexecRunnerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String ADVICE = "Raise buildTimeout";

    @TempDir
    Path dir;

    @Test
    void runsTheBuildArgvAndTheFilesAreWritten() throws IOException {
        Path argsFile = dir.resolve("args.txt");
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_ARGS_FILE", argsFile.toString()));
        CompileRequest request = request(model());
        TrtexecCommand.BuildFiles files = TrtexecCommand.BuildFiles.in(dir.resolve("out"));
        Files.createDirectories(dir.resolve("out"));
        List<String> argv = TrtexecCommand.build(trtexec, request, files, true);

        List<String> log = new ArrayList<>();
        ExternalProcess.Result result = TrtexecRunner.run(argv, dir.resolve("out"), TIMEOUT, log::add, Progress.NONE, "build",
                "building the engine", null, ADVICE);

        assertThat(result.exitCode()).isZero();
        // the double refuses any option trtexec does not have, so a pass means every argument is a trtexec one
        assertThat(Files.readAllLines(argsFile)).containsExactlyElementsOf(argv.subList(1, argv.size()));
        assertThat(log.get(0)).startsWith("&&&& RUNNING TensorRT.trtexec [TensorRT v100900]");
        assertThat(log).last().asString().startsWith("&&&& PASSED TensorRT.trtexec");
        assertThat(result.output()).isEqualTo(log);
        assertThat(Files.readAllBytes(files.layerInfo())).isEqualTo(Files.readAllBytes(Fixtures.layerInfo(Fixtures.MOBILENET_QAT)));
        assertThat(Files.readAllBytes(files.profile())).isEqualTo(Files.readAllBytes(Fixtures.profile(Fixtures.MOBILENET_QAT)));
        assertThat(files.engine()).isRegularFile();
        assertThat(files.timingCache()).isRegularFile();
    }

    @Test
    void streamsEachLineAsTrtexecPrintsIt() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_PAUSE_MS", "2500"));
        List<long[]> arrivals = new CopyOnWriteArrayList<>();
        AtomicInteger progressCalls = new AtomicInteger();
        List<String> lines = new CopyOnWriteArrayList<>();
        ExternalProcess.Result result = TrtexecRunner.run(TrtexecCommand.build(trtexec, request(model()),
                        TrtexecCommand.BuildFiles.in(dir), false), dir, TIMEOUT,
                line -> {
                    lines.add(line);
                    arrivals.add(new long[]{System.nanoTime()});
                }, (fraction, phase, message) -> progressCalls.incrementAndGet(), "build", "building the engine", null, ADVICE);
        long end = System.nanoTime();
        int deviceLine = indexOf(lines, "Selected Device: " + TrtexecTestDouble.GPU);
        assertThat(deviceLine).isNotNegative();
        // printed before the 2.5 s pause, so it reached the consumer long before the process ended
        assertThat(Duration.ofNanos(end - arrivals.get(deviceLine)[0])).isGreaterThan(Duration.ofMillis(2000));
        // the runner asks the progress (the cancel check) at least once a second
        assertThat(progressCalls.get()).isGreaterThanOrEqualTo(3);
        assertThat(result.exitCode()).isZero();
    }

    @Test
    void cancelKillsTrtexecAndTheProcessesItStarted() throws Exception {
        Path pids = dir.resolve("pids");
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_HANG_SECONDS", "120",
                "TRTEXEC_TEST_DOUBLE_PID_FILE", pids.toString()));
        Progress cancelOnceHanging = (fraction, phase, message) -> {
            if (Files.exists(pids)) {
                throw new CancelledException("job cancelled");
            }
        };
        long start = System.nanoTime();
        assertThatThrownBy(() -> TrtexecRunner.run(TrtexecCommand.build(trtexec, request(model()), TrtexecCommand.BuildFiles.in(dir), false),
                dir, TIMEOUT, line -> { }, cancelOnceHanging, "build", "building the engine", null, ADVICE))
                .isInstanceOf(CancelledException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
        assertAllDead(pids);
    }

    @Test
    void aRunPastItsTimeLimitIsKilledAndSaysWhatToChange() throws Exception {
        Path pids = dir.resolve("pids");
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_HANG_SECONDS", "120",
                "TRTEXEC_TEST_DOUBLE_PID_FILE", pids.toString()));
        assertThatThrownBy(() -> TrtexecRunner.run(TrtexecCommand.build(trtexec, request(model()), TrtexecCommand.BuildFiles.in(dir), false),
                dir, Duration.ofSeconds(4), line -> { }, Progress.NONE, "build", "building the engine", null, ADVICE))
                .isInstanceOfSatisfying(TrtexecFailedException.class, e -> {
                    assertThat(e.kind()).isEqualTo(TrtexecFailedException.Kind.TIMEOUT);
                    assertThat(e.getMessage()).startsWith("trtexec did not finish building the engine within 4 s and was stopped. "
                            + ADVICE + ".\nLast lines of trtexec's output:\n");
                    assertThat(e.outputTail()).anySatisfy(l -> assertThat(l).contains("Compiler backend is used"));
                });
        assertAllDead(pids);
    }

    @Test
    void aFailedBuildSaysWhyAndQuotesTrtexec() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_FAIL", "workspace"));
        CompileRequest request = new CompileRequest(model(), dir, TensorRtPrecision.STRONGLY_TYPED, List.of(), 64, 3, null,
                TrtexecBenchmark.DEFAULT, null, TIMEOUT);
        assertThatThrownBy(() -> TrtexecRunner.run(TrtexecCommand.build(trtexec, request, TrtexecCommand.BuildFiles.in(dir), false),
                dir, TIMEOUT, line -> { }, Progress.NONE, "build", "building the engine", 64, ADVICE))
                .isInstanceOfSatisfying(TrtexecFailedException.class, e -> {
                    assertThat(e.kind()).isEqualTo(TrtexecFailedException.Kind.WORKSPACE_TOO_SMALL);
                    assertThat(e.detail()).isEqualTo("/features/features.3/Conv");
                    assertThat(e.getMessage()).startsWith("trtexec failed (exit code 1) building the engine: TensorRT found no "
                            + "implementation for layer /features/features.3/Conv within the workspace limit (64 MiB). Raise workspaceMiB");
                    assertThat(e.outputTail()).last().asString().startsWith("&&&& FAILED TensorRT.trtexec");
                });
    }

    @Test
    void aTensorRtWithoutWeakTypingRefusesInt8() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_VERSION", "110000"));
        CompileRequest int8 = new CompileRequest(model(), dir, TensorRtPrecision.INT8, List.of(), null, 3, null,
                TrtexecBenchmark.DEFAULT, null, TIMEOUT);
        assertThatThrownBy(() -> TrtexecRunner.run(TrtexecCommand.build(trtexec, int8, TrtexecCommand.BuildFiles.in(dir), false),
                dir, TIMEOUT, line -> { }, Progress.NONE, "build", "building the engine", null, ADVICE))
                .isInstanceOfSatisfying(TrtexecFailedException.class, e -> {
                    assertThat(e.kind()).isEqualTo(TrtexecFailedException.Kind.WEAK_TYPING_REMOVED);
                    assertThat(e.detail()).isEqualTo("--int8");
                });
    }

    @Test
    void aMissingExecutableIsAClearError() {
        assertThatThrownBy(() -> ExternalProcess.run(List.of(dir.resolve("no-trtexec").toString()), dir, TIMEOUT, l -> { },
                Progress.NONE, "build", "trtexec"))
                .hasMessageStartingWith("cannot start " + dir.resolve("no-trtexec"));
    }

    private CompileRequest request(Path model) {
        return CompileRequest.of(model, dir);
    }

    private Path model() throws IOException {
        Path model = dir.resolve("mobilenet.qat.onnx");
        if (!Files.exists(model)) {
            Files.write(model, TensorRtFixtureModels.mobilenetQat().toByteArray());
        }
        return model;
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }

    /** trtexec and the child it started are gone (waits a little: killing is asynchronous). */
    private static void assertAllDead(Path pidFile) throws Exception {
        String[] pids = Files.readString(pidFile).strip().split(" ");
        assertThat(pids).hasSize(2);
        for (String pid : pids) {
            Optional<ProcessHandle> handle = ProcessHandle.of(Long.parseLong(pid));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (handle.isPresent() && handle.get().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(handle.map(ProcessHandle::isAlive).orElse(false)).as("process %s is still running", pid).isFalse();
        }
    }
}
