package dev.quantforge.compile;

import dev.quantforge.quant.progress.Progress;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/** Runs trtexec and turns a failure into a {@link TrtexecFailedException} that says what to change. */
final class TrtexecRunner {

    private TrtexecRunner() {
    }

    /**
     * @param what          "building the engine", for the messages
     * @param workspaceMiB  the workspace limit of the run (for the workspace advice), null for the default
     * @param timeoutAdvice what to change when the run times out
     * @return the finished run; its exit code is 0
     */
    static ExternalProcess.Result run(List<String> argv, Path workingDirectory, Duration timeout, Consumer<String> log,
                                      Progress progress, String phase, String what, Integer workspaceMiB,
                                      String timeoutAdvice) {
        ExternalProcess.Result result;
        try {
            result = ExternalProcess.run(argv, workingDirectory, timeout, log, progress, phase, "trtexec " + what);
        } catch (ExternalProcess.TimedOutException e) {
            throw TrtexecFailedException.timedOut(what, timeout.toSeconds(), e.output, timeoutAdvice);
        }
        if (result.exitCode() != 0) {
            throw TrtexecFailedException.classify(what, result.exitCode(), result.output(), workspaceMiB);
        }
        return result;
    }
}
