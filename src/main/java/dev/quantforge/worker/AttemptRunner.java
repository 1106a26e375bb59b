package dev.quantforge.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.progress.CancelledException;

/**
 * Runs one attempt of a job with its handler and classifies how it ended. Shared by in-process
 * and remote workers, so both treat bad input, cancellation and crashes the same way.
 */
public final class AttemptRunner {

    private static final Logger log = LoggerFactory.getLogger(AttemptRunner.class);

    private AttemptRunner() {
    }

    /** How an attempt ended. */
    public sealed interface Ended permits Succeeded, Stopped, Failed {
    }

    public record Succeeded(JobOutcome outcome) implements Ended {
    }

    /** Stopped at a progress point: {@code reason} is the LiveProgress stop reason. */
    public record Stopped(String reason) implements Ended {
    }

    /** {@code retryable} is false for bad input: running it again would fail the same way. */
    public record Failed(String code, String message, boolean retryable) implements Ended {
    }

    public static Ended run(JobHandler handler, JobExecution execution) {
        try {
            JobOutcome outcome = handler.run(execution);
            return new Succeeded(outcome);
        } catch (CancelledException e) {
            return new Stopped(e.getMessage());
        } catch (InvalidInputException e) {
            execution.log("failed: " + e.getMessage());
            return new Failed("invalid_input", e.getMessage(), false);
        } catch (OutOfMemoryError e) {
            log.error("job {} ran out of memory", execution.jobId(), e);
            return new Failed("out_of_memory", "the worker ran out of memory: " + e.getMessage(), true);
        } catch (Exception | LinkageError | StackOverflowError e) {
            log.error("job {} failed", execution.jobId(), e);
            String msg = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            execution.log("failed: " + msg);
            return new Failed("internal_error", msg, true);
        }
    }

    /** Deletes a directory tree, best effort (scratch space, caches). */
    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: scratch space
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
