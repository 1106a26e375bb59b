package dev.quantforge.testsupport;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

/**
 * The service's jar main ({@code QuantforgeApplication}) in a JVM of its own, on the test's classpath, with its
 * output in a log file: an API replica or a remote worker a test can kill -9 ({@link #kill()}), stop with SIGTERM
 * ({@link #terminate()}) and start again with the same arguments ({@link #restart()}).
 */
public final class ChildJvm {

    private final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path log;
    private volatile Process process;

    private ChildJvm(String name, List<String> command, Map<String, String> environment, Path log) {
        this.name = name;
        this.command = command;
        this.environment = environment;
        this.log = log;
    }

    /** Starts {@code mainClass} with {@code args}; {@code jvmOptions} e.g. -Xmx384m; output appended to {@code log}. */
    public static ChildJvm start(String name, String mainClass, List<String> jvmOptions, List<String> args,
                                 Map<String, String> environment, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(mainClass);
        cmd.addAll(args);
        ChildJvm jvm = new ChildJvm(name, List.copyOf(cmd), Map.copyOf(environment), log);
        jvm.launch();
        Runtime.getRuntime().addShutdownHook(new Thread(jvm::killQuietly));
        return jvm;
    }

    private void launch() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(environment);
        Files.writeString(log, "\n===== " + name + " started " + java.time.Instant.now() + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        process = pb.start();
    }

    public String name() {
        return name;
    }

    public boolean alive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** kill -9 (no shutdown hook runs), waiting until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** SIGTERM (the shutdown hooks run); true when it exited within {@code seconds}. */
    public boolean terminate(int seconds) throws InterruptedException {
        process.destroy();
        return process.waitFor(seconds, java.util.concurrent.TimeUnit.SECONDS);
    }

    public void restart() throws IOException {
        launch();
    }

    private void killQuietly() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /** The last {@code chars} of the log, for failure messages. */
    public String logTail(int chars) {
        try {
            String s = Files.readString(log);
            return s.substring(Math.max(0, s.length() - chars));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public Path log() {
        return log;
    }

    /**
     * This JVM's classpath as entries: under surefire {@code java.class.path} may be a manifest-only booter jar
     * whose manifest lists the real entries.
     */
    static String classpath() throws IOException {
        String cp = System.getProperty("java.class.path");
        String[] entries = cp.split(File.pathSeparator);
        if (entries.length == 1 && entries[0].endsWith(".jar") && Path.of(entries[0]).getFileName().toString().startsWith("surefirebooter")) {
            try (JarFile booter = new JarFile(entries[0])) {
                String listed = booter.getManifest().getMainAttributes().getValue("Class-Path");
                return Arrays.stream(listed.trim().split("\\s+")).map(u -> Path.of(URI.create(u)).toString())
                        .collect(Collectors.joining(File.pathSeparator));
            }
        }
        return cp;
    }
}
