package dev.quantforge.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's claim on the data directory: an identity that survives a restart, and the scratch
 * folder that goes with it.
 *
 * <p>Identities are lock files, {@code <dataDir>/instances/<id>.lock}, each held with an OS file lock
 * for as long as its process lives (the OS drops the lock when the process dies, kill -9 included). A
 * starting process adopts an identity whose lock is free — its own previous incarnation's, or another
 * dead process's — and otherwise makes a new one. So a restarted process knows which jobs were its own
 * (their lease owner is its id) and can requeue them at once instead of waiting for their leases to
 * lapse, and several processes sharing one data directory (api replicas on a shared volume) never take
 * each other's identity.
 *
 * <p>Scratch files (uploads being received, staged blobs, job work folders) live in
 * {@code <dataDir>/tmp/<id>/}. What a dead process left there is deleted when its identity is adopted
 * or, by {@link #deleteLeftovers()}, whenever its lock is found free; in the live process's own folder
 * only entries that nothing {@linkplain #track tracks} and that have not changed for the maximum age
 * go. Nothing in use is ever deleted.
 */
public final class InstanceDirectory implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InstanceDirectory.class);

    private final Path dataDir;
    private final UUID id;
    private final boolean restarted;
    private final Lock lock;
    private final Path scratch;
    private final Duration maxAge;
    private final Set<Path> inUse = ConcurrentHashMap.newKeySet();

    private InstanceDirectory(Path dataDir, UUID id, boolean restarted, Lock lock, Duration maxAge) throws IOException {
        this.dataDir = dataDir;
        this.id = id;
        this.restarted = restarted;
        this.lock = lock;
        this.maxAge = maxAge;
        this.scratch = dataDir.resolve("tmp").resolve(id.toString());
        if (restarted) {
            // the previous incarnation's scratch: it died, nothing uses it
            deleteTree(scratch);
        }
        Files.createDirectories(scratch);
    }

    /**
     * Adopts a dead identity in {@code dataDir} or creates one, and holds it until {@link #close()}.
     *
     * @param maxAge how long an untracked entry of a live process's scratch folder may go unchanged
     *               before it counts as a leftover
     */
    public static InstanceDirectory claim(Path dataDir, Duration maxAge) {
        Path dir = dataDir.toAbsolutePath().normalize();
        try {
            Path instances = Files.createDirectories(dir.resolve("instances"));
            Files.createDirectories(dir.resolve("tmp"));
            for (Path lockFile : lockFiles(instances)) {
                Optional<UUID> id = idOf(lockFile);
                Lock lock = id.isEmpty() ? null : tryLock(lockFile);
                if (lock != null) {
                    return started(new InstanceDirectory(dir, id.get(), true, lock, maxAge));
                }
            }
            UUID id = UUID.randomUUID();
            Lock lock = tryLock(instances.resolve(id + ".lock"));
            if (lock == null) {
                throw new IllegalStateException("cannot lock the new instance file " + id + ".lock under " + instances);
            }
            return started(new InstanceDirectory(dir, id, false, lock, maxAge));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the data directory " + dir, e);
        }
    }

    private static InstanceDirectory started(InstanceDirectory instance) {
        ServerPaths.addRoot(instance.dataDir);
        log.info("data directory {} (instance {}{})", instance.dataDir, instance.id,
                instance.restarted ? ", the identity of a process that is gone: its jobs are requeued and its temp files deleted" : "");
        instance.deleteLeftovers();
        return instance;
    }

    /** The data directory, absolute and normalised. */
    public Path dataDir() {
        return dataDir;
    }

    /** This process's identity; the in-process workers hold their leases under it. */
    public UUID id() {
        return id;
    }

    /** True when the identity was adopted from a process that died (its jobs may still be marked running). */
    public boolean restarted() {
        return restarted;
    }

    /** This process's scratch folder (Tomcat's multipart files go here too). */
    public Path scratch() {
        return scratch;
    }

    /** A new empty file in the scratch folder, tracked (never cleaned) until {@link #release}. */
    public Path newFile(String prefix, String suffix) throws IOException {
        return track(Files.createTempFile(scratch, prefix, suffix));
    }

    /** A new folder in the scratch folder, tracked until {@link #release}. */
    public Path newDirectory(String prefix) throws IOException {
        return track(Files.createTempDirectory(scratch, prefix));
    }

    /** Marks a scratch path as in use: the cleaner leaves it alone, however old. */
    public Path track(Path path) {
        inUse.add(path.toAbsolutePath().normalize());
        return path;
    }

    /** The path is no longer in use (the caller has deleted or moved it, or will). */
    public void release(Path path) {
        if (path != null) {
            inUse.remove(path.toAbsolutePath().normalize());
        }
    }

    /**
     * Deletes what crashed processes left: the scratch folders of dead instances (their lock is free),
     * entries of the old layout directly under {@code tmp/} and untracked entries of this instance's
     * folder, both only when unchanged for the maximum age. Returns how many entries went.
     */
    public int deleteLeftovers() {
        int deleted = 0;
        Path tmp = dataDir.resolve("tmp");
        try (Stream<Path> entries = Files.list(tmp)) {
            for (Path entry : entries.toList()) {
                Optional<UUID> other = uuid(entry.getFileName().toString());
                if (entry.equals(scratch)) {
                    deleted += deleteStale(scratch);
                } else if (other.isPresent() && Files.isDirectory(entry)) {
                    deleted += deleteIfDead(other.get(), entry);
                } else if (isStale(entry)) {
                    deleteTree(entry);
                    deleted++;
                }
            }
        } catch (IOException e) {
            log.warn("cleaning {} failed: {}", tmp, e.toString());
        }
        if (deleted > 0) {
            log.info("deleted {} leftover temp entr{} under {}", deleted, deleted == 1 ? "y" : "ies", tmp);
        }
        return deleted;
    }

    private int deleteIfDead(UUID other, Path folder) throws IOException {
        Path lockFile = dataDir.resolve("instances").resolve(other + ".lock");
        if (!Files.exists(lockFile)) {
            if (isStale(folder)) {
                deleteTree(folder);
                return 1;
            }
            return 0;
        }
        // holding the dead instance's lock while deleting: a process starting meanwhile cannot adopt it half-cleaned
        try (Lock held = tryLock(lockFile)) {
            if (held == null) {
                return 0;
            }
            deleteTree(folder);
            return 1;
        }
    }

    private int deleteStale(Path folder) throws IOException {
        int deleted = 0;
        try (Stream<Path> entries = Files.list(folder)) {
            for (Path entry : entries.toList()) {
                if (!inUse.contains(entry.toAbsolutePath().normalize()) && isStale(entry)) {
                    deleteTree(entry);
                    deleted++;
                }
            }
        }
        return deleted;
    }

    /** Nothing in the tree changed within the maximum age (a live upload or job writes as it goes). */
    private boolean isStale(Path entry) throws IOException {
        FileTime cutoff = FileTime.from(Instant.now().minus(maxAge));
        try (Stream<Path> tree = Files.walk(entry)) {
            return tree.allMatch(p -> {
                try {
                    return Files.getLastModifiedTime(p).compareTo(cutoff) < 0;
                } catch (IOException gone) {
                    return true;
                }
            });
        }
    }

    private static List<Path> lockFiles(Path instances) throws IOException {
        try (Stream<Path> files = Files.list(instances)) {
            return new ArrayList<>(files.filter(p -> p.getFileName().toString().endsWith(".lock")).sorted().toList());
        }
    }

    private static Optional<UUID> idOf(Path lockFile) {
        String name = lockFile.getFileName().toString();
        return uuid(name.substring(0, name.length() - ".lock".length()));
    }

    private static Optional<UUID> uuid(String s) {
        try {
            return s.length() == 36 ? Optional.of(UUID.fromString(s)) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The lock file, locked; null when another process or this JVM holds it. Locks this JVM holds are
     * looked up first: on Linux, closing any channel of a locked file drops the process's lock on it.
     */
    private static Lock tryLock(Path lockFile) throws IOException {
        Path key = lockFile.toAbsolutePath().normalize();
        if (!HELD_HERE.add(key)) {
            return null;
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return new Lock(key, channel);
            }
        } catch (OverlappingFileLockException heldHere) {
            // not through this class; treat as held
        } catch (IOException e) {
            HELD_HERE.remove(key);
            throw e;
        }
        channel.close();
        HELD_HERE.remove(key);
        return null;
    }

    /** Lock files this JVM holds (tests run several services in one JVM). */
    private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();

    private record Lock(Path file, FileChannel channel) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } finally {
                HELD_HERE.remove(file);
            }
        }
    }

    /** Deletes a file or folder tree, best effort. */
    public static void deleteTree(Path path) {
        if (path == null || !Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: the next cleaning pass tries again
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Releases the identity (the next process to start may adopt it). */
    @Override
    public void close() {
        try {
            lock.close();
        } catch (IOException e) {
            log.warn("releasing instance {} failed: {}", id, e.toString());
        }
    }
}
