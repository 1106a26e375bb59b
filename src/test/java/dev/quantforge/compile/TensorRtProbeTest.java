package dev.quantforge.compile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Finding trtexec and its version, with the trtexec TEST DOUBLE standing in for a real installation. */
class TensorRtProbeTest {

    @TempDir
    Path dir;

    @Test
    void qfTrtexecNamesTheExecutableAndItsBannerGivesTheVersion() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("tensorrt/bin"), Map.of("TRTEXEC_TEST_DOUBLE_VERSION", "101303"));
        TensorRtInstallation installation = TensorRtProbe.probe(Map.of("QF_TRTEXEC", trtexec.toString(), "PATH", ""), null,
                message -> { }).orElseThrow();
        assertThat(installation.trtexec()).isEqualTo(trtexec.toAbsolutePath());
        assertThat(installation.version()).isEqualTo(new TensorRtVersion(10, 13, 3));
    }

    @Test
    void otherwiseTheFirstTrtexecOnPath() throws IOException {
        Path bin = dir.resolve("bin");
        TrtexecTestDoubles.install(bin);
        String path = dir.resolve("empty") + ":" + bin;
        assertThat(TensorRtProbe.locate(Map.of("PATH", path), null)).contains(bin.resolve("trtexec").toAbsolutePath());
        // the system property wins over the environment
        Path other = TrtexecTestDoubles.install(dir.resolve("other"));
        assertThat(TensorRtProbe.locate(Map.of("PATH", path, "QF_TRTEXEC", bin.resolve("trtexec").toString()), other.toString()))
                .contains(other.toAbsolutePath());
    }

    @Test
    void aWrongQfTrtexecIsAnErrorNotASilentFallback() throws IOException {
        TrtexecTestDoubles.install(dir.resolve("bin"));
        assertThatThrownBy(() -> TensorRtProbe.locate(Map.of("QF_TRTEXEC", "/opt/none/trtexec", "PATH", dir.resolve("bin").toString()), null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("QF_TRTEXEC=/opt/none/trtexec is not an executable file");
    }

    @Test
    void noTrtexecOrOneWithoutABannerIsNoCapability() throws IOException {
        List<String> diagnostics = new ArrayList<>();
        assertThat(TensorRtProbe.probe(Map.of("PATH", dir.toString()), null, diagnostics::add)).isEmpty();
        assertThat(diagnostics).containsExactly("no TensorRT: trtexec is not on PATH and QF_TRTEXEC is not set");

        Path notTrtexec = dir.resolve("trtexec");
        Files.writeString(notTrtexec, "#!/bin/sh\necho 'usage: something else'\nexit 2\n");
        Files.setPosixFilePermissions(notTrtexec, PosixFilePermissions.fromString("rwxr-xr-x"));
        diagnostics.clear();
        assertThat(TensorRtProbe.probe(Map.of("PATH", dir.toString()), null, diagnostics::add)).isEmpty();
        assertThat(diagnostics).singleElement().asString()
                .contains("--help exited with 2 and printed no TensorRT version banner; last line: usage: something else");
    }
}
