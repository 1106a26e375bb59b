package dev.quantforge.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Identities that survive a restart, and crash leftovers in the temp area: deleted, but never what is in use. */
class InstanceDirectoryTest {

    private static final Duration MAX_AGE = Duration.ofMinutes(60);

    @TempDir
    Path dataDir;

    private static Path old(Path p) throws Exception {
        FileTime twoHoursAgo = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        try (var tree = Files.walk(p)) {
            for (Path q : tree.toList()) {
                Files.setLastModifiedTime(q, twoHoursAgo);
            }
        }
        return p;
    }

    @Test
    void aRestartAdoptsTheDeadIdentityAndDeletesItsScratch() throws Exception {
        UUID first;
        Path upload;
        Path jobDir;
        try (InstanceDirectory a = InstanceDirectory.claim(dataDir, MAX_AGE)) {
            first = a.id();
            assertThat(a.restarted()).isFalse();
            // what a kill -9 leaves: Tomcat's half-received upload, a staged blob, an attempt's work folder
            upload = Files.writeString(a.scratch().resolve("upload_1b2c_00000001.tmp"), "half an upload");
            a.newFile("upload-", ".part");
            jobDir = a.newDirectory("job-" + UUID.randomUUID() + "-");
        }
        try (InstanceDirectory b = InstanceDirectory.claim(dataDir, MAX_AGE)) {
            assertThat(b.id()).isEqualTo(first);
            assertThat(b.restarted()).isTrue();
            assertThat(upload).doesNotExist();
            assertThat(jobDir).doesNotExist();
            try (var left = Files.list(b.scratch())) {
                assertThat(left.toList()).isEmpty();
            }
            assertThat(b.dataDir()).isAbsolute();
        }
    }

    @Test
    void liveProcessesSharingADataDirectoryNeverShareAnIdentityOrEachOthersFiles() throws Exception {
        try (InstanceDirectory a = InstanceDirectory.claim(dataDir, MAX_AGE);
             InstanceDirectory b = InstanceDirectory.claim(dataDir, MAX_AGE)) {
            assertThat(b.id()).isNotEqualTo(a.id());
            Path aFile = old(Files.writeString(a.scratch().resolve("upload_x.tmp"), "x"));
            // b cleans: a is alive, so a's folder is not b's to judge
            b.deleteLeftovers();
            assertThat(aFile).exists();
        }
    }

    @Test
    void aDeadInstancesScratchIsDeletedWhileTheLiveOnesUntrackedStaleEntriesGoToo() throws Exception {
        Path deadFile;
        try (InstanceDirectory dead = InstanceDirectory.claim(dataDir, MAX_AGE)) {
            deadFile = Files.writeString(dead.scratch().resolve("upload_dead.tmp"), "x");
        }
        try (InstanceDirectory adopter = InstanceDirectory.claim(dataDir, MAX_AGE);
             InstanceDirectory live = InstanceDirectory.claim(dataDir, MAX_AGE)) {
            assertThat(deadFile).doesNotExist();
            Path tracked = old(live.newDirectory("job-" + UUID.randomUUID() + "-"));
            Files.writeString(tracked.resolve("model.fp32.onnx"), "in use by a running job");
            old(tracked);
            Path leaked = old(Files.createDirectory(live.scratch().resolve("job-" + UUID.randomUUID() + "-leaked")));
            Path fresh = Files.writeString(live.scratch().resolve("upload_fresh.tmp"), "an upload arriving now");
            Path legacyOld = old(Files.writeString(dataDir.resolve("tmp").resolve("upload-legacy.part"), "x"));
            Path legacyFresh = Files.writeString(dataDir.resolve("tmp").resolve("upload_legacy_fresh.tmp"), "x");
            assertThat(live.deleteLeftovers()).isEqualTo(2);
            assertThat(tracked).exists();
            assertThat(tracked.resolve("model.fp32.onnx")).exists();
            assertThat(fresh).exists();
            assertThat(legacyFresh).exists();
            assertThat(leaked).doesNotExist();
            assertThat(legacyOld).doesNotExist();
            live.release(tracked);
            assertThat(live.deleteLeftovers()).isEqualTo(1);
            assertThat(tracked).doesNotExist();
        }
    }
}
