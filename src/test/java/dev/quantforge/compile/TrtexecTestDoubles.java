package dev.quantforge.compile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;

/**
 * Installs the trtexec TEST DOUBLE ({@code src/test/resources/tensorrt/trtexec-test-double}) as an executable
 * named {@code trtexec} in a test's directory, with the environment variables that steer it exported at the
 * top, so the product runs it exactly as it would run trtexec (by path, with an argv, no extra environment).
 */
public final class TrtexecTestDoubles {

    private TrtexecTestDoubles() {
    }

    /** @param behaviour TRTEXEC_TEST_DOUBLE_* variables (see the script's header) */
    public static Path install(Path directory, Map<String, String> behaviour) throws IOException {
        String script;
        try (InputStream in = TrtexecTestDoubles.class.getResourceAsStream("/tensorrt/trtexec-test-double")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, String> env = new TreeMap<>(behaviour);
        env.put("TRTEXEC_TEST_DOUBLE_CLASSPATH", System.getProperty("java.class.path"));
        env.put("TRTEXEC_TEST_DOUBLE_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        StringBuilder exports = new StringBuilder();
        env.forEach((k, v) -> exports.append("export ").append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
        int afterShebang = script.indexOf('\n') + 1;
        String launcher = script.substring(0, afterShebang) + exports + script.substring(afterShebang);
        Files.createDirectories(directory);
        Path trtexec = directory.resolve("trtexec");
        Files.writeString(trtexec, launcher);
        Files.setPosixFilePermissions(trtexec, PosixFilePermissions.fromString("rwxr-xr-x"));
        return trtexec;
    }

    public static Path install(Path directory) throws IOException {
        return install(directory, Map.of());
    }
}
