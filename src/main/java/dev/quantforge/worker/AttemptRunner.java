package dev.quantforge.worker;

import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.platform.ServerPaths;
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
            // the job's error and log are read by users: the server's paths stay in the server log
            String msg = ServerPaths.redact(String.valueOf(e.getMessage()));
            if (!msg.equals(e.getMessage())) {
                log.info("job {}: invalid input: {}", execution.jobId(), e.getMessage());
            }
            execution.log("failed: " + msg);
            return new Failed("invalid_input", msg, false);
        } catch (JobFailedException e) {
            String msg = ServerPaths.redact(String.valueOf(e.getMessage()));
            execution.log("failed (" + e.code() + "): " + msg);
            return new Failed(e.code(), msg, e.retryable());
        } catch (OutOfMemoryError e) {
            log.error("job {} ran out of memory", execution.jobId(), e);
            return new Failed("out_of_memory", "the worker ran out of memory: " + ServerPaths.redact(e.getMessage()), true);
        } catch (Exception | LinkageError | StackOverflowError e) {
            log.error("job {} failed", execution.jobId(), e);
            String msg = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + ServerPaths.redact(e.getMessage()));
            execution.log("failed: " + msg);
            return new Failed("internal_error", msg, true);
        }
    }

    /** Deletes a directory tree, best effort (scratch space, caches). */
    public static void deleteTree(Path dir) {
        InstanceDirectory.deleteTree(dir);
    }
}
