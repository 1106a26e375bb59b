package dev.quantforge.compile;

import dev.quantforge.quant.progress.CancelledException;
import dev.quantforge.quant.progress.Progress;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a command (an exact argv, no shell) with its stdout and stderr merged, hands every line to the
 * caller as it arrives, asks the caller's {@link Progress} at least once a second whether to go on, and
 * kills the whole process tree on cancel or timeout.
 *
 * <p>Lines are delivered on the calling thread (a reader thread only queues them), so a log consumer
 * need not be thread-safe. Progress updates carry the given phase, fraction 0 of the caller's range and
 * the elapsed time; {@code Progress.update} throwing {@link CancelledException} is the cancel signal.
 */
final class ExternalProcess {

    /** Most lines kept for parsing; trtexec without --verbose prints a few hundred. */
    static final int MAX_KEPT_LINES = 200_000;
    private static final long POLL_MILLIS = 200;
    private static final long PROGRESS_EVERY_MILLIS = 1000;
    private static final long KILL_GRACE_MILLIS = 3000;

    /**
     * @param exitCode the process's exit status
     * @param output   its output lines, in order (at most {@link #MAX_KEPT_LINES}, the first ones kept)
     */
    record Result(int exitCode, List<String> output, Duration elapsed) {
    }

    /** The process ran past its time limit and was killed. */
    static final class TimedOutException extends RuntimeException {
        final List<String> output;

        TimedOutException(String message, List<String> output) {
            super(message);
            this.output = List.copyOf(output);
        }
    }

    private ExternalProcess() {
    }

    static Result run(List<String> argv, Path workingDirectory, Duration timeout, Consumer<String> log,
                      Progress progress, String phase, String what) {
        ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
        if (workingDirectory != null) {
            builder.directory(workingDirectory.toFile());
        }
        long start = System.nanoTime();
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + argv.get(0) + ": " + e.getMessage(), e);
        }
        try {
            process.getOutputStream().close(); // nothing is ever typed in
        } catch (IOException ignored) {
            // a process that already closed its stdin
        }
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the stream closes when the process is killed
            }
        }, "process-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
        List<String> kept = new ArrayList<>();
        long deadline = start + timeout.toNanos();
        long nextProgress = 0;
        try {
            while (true) {
                drain(lines, kept, log);
                if (!process.isAlive() && !reader.isAlive()) {
                    drain(lines, kept, log);
                    return new Result(process.exitValue(), kept, Duration.ofNanos(System.nanoTime() - start));
                }
                long now = System.nanoTime();
                if (now - deadline > 0) {
                    killTree(process);
                    drain(lines, kept, log);
                    throw new TimedOutException(what + " did not finish within " + timeout.toSeconds() + " s and was stopped", kept);
                }
                if (now - nextProgress >= 0) {
                    long elapsed = Duration.ofNanos(now - start).toSeconds();
                    progress.update(0, phase, what + ": " + elapsed + " s");
                    nextProgress = now + TimeUnit.MILLISECONDS.toNanos(PROGRESS_EVERY_MILLIS);
                }
                String line = lines.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (line != null) {
                    keep(line, kept, log);
                }
            }
        } catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new CancelledException(what + " was interrupted");
        } catch (RuntimeException e) {
            // CancelledException from progress.update, or a failing log consumer: never leave the process behind
            killTree(process);
            throw e;
        }
    }

    private static void drain(BlockingQueue<String> lines, List<String> kept, Consumer<String> log) {
        for (String line; (line = lines.poll()) != null; ) {
            keep(line, kept, log);
        }
    }

    private static void keep(String line, List<String> kept, Consumer<String> log) {
        if (kept.size() < MAX_KEPT_LINES) {
            kept.add(line);
        }
        log.accept(line);
    }

    /** Stops the process and every process it started: politely first, then forcibly after a grace period. */
    static void killTree(Process process) {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KILL_GRACE_MILLIS);
        for (ProcessHandle handle : tree) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    handle.onExit().get(left, TimeUnit.NANOSECONDS);
                }
            } catch (Exception stillRunning) {
                // falls through to destroyForcibly
            }
        }
        // descendants started while we waited are caught here too
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        tree.forEach(ProcessHandle::destroyForcibly);
    }
}
