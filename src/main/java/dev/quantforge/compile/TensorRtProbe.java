package dev.quantforge.compile;

import dev.quantforge.quant.progress.Progress;

import java.io.File;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Finds trtexec and asks it which TensorRT it is. Where trtexec comes from, in order:
 * <ol>
 *   <li>the {@code qf.trtexec} system property or the {@code QF_TRTEXEC} environment variable: a path that
 *       must be an executable file (a wrong path is an error, not a silent fallback to PATH);</li>
 *   <li>otherwise the first {@code trtexec} on {@code PATH}.</li>
 * </ol>
 * Its version comes from the banner {@code trtexec --help} prints ({@code [TensorRT v100300]}). No trtexec,
 * or one that does not run, means this machine has no TensorRT capability; the reason goes to the
 * diagnostics consumer for the worker's log.
 */
public final class TensorRtProbe {

    public static final String PROPERTY = "qf.trtexec";
    public static final String ENVIRONMENT = "QF_TRTEXEC";
    static final Duration HELP_TIMEOUT = Duration.ofSeconds(60);

    private TensorRtProbe() {
    }

    /** Probes with this process's environment and system properties. */
    public static Optional<TensorRtInstallation> probe(Consumer<String> diagnostics) {
        return probe(System.getenv(), System.getProperty(PROPERTY), diagnostics);
    }

    /**
     * @param environment      where {@code QF_TRTEXEC} and {@code PATH} are read
     * @param propertyOrNull   the {@code qf.trtexec} system property, which wins over the environment
     */
    public static Optional<TensorRtInstallation> probe(Map<String, String> environment, String propertyOrNull,
                                                       Consumer<String> diagnostics) {
        Optional<Path> trtexec = locate(environment, propertyOrNull);
        if (trtexec.isEmpty()) {
            diagnostics.accept("no TensorRT: trtexec is not on PATH and " + ENVIRONMENT + " is not set");
            return Optional.empty();
        }
        ExternalProcess.Result help;
        try {
            help = ExternalProcess.run(List.of(trtexec.get().toString(), "--help"), null, HELP_TIMEOUT, line -> { },
                    Progress.NONE, "probe", "trtexec --help");
        } catch (UncheckedIOException | ExternalProcess.TimedOutException e) {
            diagnostics.accept("no TensorRT: " + trtexec.get() + " does not run: " + e.getMessage());
            return Optional.empty();
        }
        Optional<TensorRtVersion> version = TensorRtVersion.fromOutput(help.output());
        if (version.isEmpty()) {
            diagnostics.accept("no TensorRT: " + trtexec.get() + " --help exited with " + help.exitCode()
                    + " and printed no TensorRT version banner; last line: "
                    + (help.output().isEmpty() ? "(none)" : help.output().get(help.output().size() - 1)));
            return Optional.empty();
        }
        return Optional.of(new TensorRtInstallation(trtexec.get(), version.get()));
    }

    /**
     * @throws IllegalStateException when {@code qf.trtexec} / {@code QF_TRTEXEC} names something that is not an
     *                               executable file
     */
    public static Optional<Path> locate(Map<String, String> environment, String propertyOrNull) {
        String configured = propertyOrNull != null && !propertyOrNull.isBlank() ? propertyOrNull : environment.get(ENVIRONMENT);
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured.strip());
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw new IllegalStateException((propertyOrNull != null && !propertyOrNull.isBlank() ? PROPERTY : ENVIRONMENT)
                        + "=" + configured + " is not an executable file; point it at trtexec (in NVIDIA's TensorRT "
                        + "container: /opt/tensorrt/bin/trtexec) or unset it to use the trtexec on PATH");
            }
            return Optional.of(path.toAbsolutePath());
        }
        String searchPath = environment.getOrDefault("PATH", "");
        for (String dir : searchPath.split(File.pathSeparator)) {
            if (dir.isBlank()) {
                continue;
            }
            Path candidate = Path.of(dir, "trtexec");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate.toAbsolutePath());
            }
        }
        return Optional.empty();
    }
}
