package dev.quantforge.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.Projects;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * The TypeScript SDK generated from clients/openapi.json (typescript-fetch, by the build) compiled with tsc and run
 * under Node against the live service: clients/typescript/sdk-flow.ts uploads mnist and its datasets, runs a ptq job,
 * reads its report and downloads the quantized model. Needs node and npm (npm ci fetches TypeScript once): skipped
 * with a message without them, failed instead with REQUIRE_NODE=true (CI).
 */
@TestPropertySource(properties = "qf.api-token=" + Projects.ROOT_TOKEN)
class TypeScriptSdkTest extends ServiceTest {

    static final Path DIR = Path.of("clients/typescript");

    @Test
    void theGeneratedClientRunsAPtqJobUnderNode() throws Exception {
        boolean node = available("node", "--version") && available("npm", "--version");
        if ("true".equalsIgnoreCase(System.getenv("REQUIRE_NODE"))) {
            assertThat(node).as("node and npm on PATH (REQUIRE_NODE=true)").isTrue();
        } else {
            Assumptions.assumeTrue(node, "node and npm are not installed: the TypeScript SDK is not tested (REQUIRE_NODE=true fails instead)");
        }
        assertThat(Path.of("target/generated-test-sources/openapi-ts/index.ts")).as("the build generated the client").exists();
        if (!Files.exists(DIR.resolve("node_modules/typescript"))) {
            assertThat(run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300)).isZero();
        }
        assertThat(run(List.of("npx", "tsc", "-p", "tsconfig.json"), Map.of(), 300)).isZero();

        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String key = Projects.key(root, Projects.create(root, "sdk-ts", null, null), "submit");
        Path out = Files.createTempFile("qf-sdk-ts-", ".log");
        int code = run(List.of("node", "dist/clients/typescript/sdk-flow.js"), Map.of("QF_URL", "http://127.0.0.1:" + port, "QF_KEY", key,
                "QF_DATASETS", SharedData.root().toString()), 360, out);
        String log = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(code).as(log).isZero();
        assertThat(log).contains("SDK FLOW OK");
    }

    private static boolean available(String... command) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            return false;
        }
    }

    private static int run(List<String> command, Map<String, String> env, int seconds) throws Exception {
        Path out = Files.createTempFile("qf-sdk-ts-", ".log");
        int code = run(command, env, seconds, out);
        if (code != 0) {
            System.err.println(String.join(" ", command) + " → " + code + "\n" + Files.readString(out, StandardCharsets.UTF_8));
        }
        return code;
    }

    private static int run(List<String> command, Map<String, String> env, int seconds, Path out) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + seconds + " s: "
                    + Files.readString(out, StandardCharsets.UTF_8));
        }
        return p.exitValue();
    }
}
