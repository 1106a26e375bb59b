package dev.quantforge.platform.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.databind.JsonNode;

import dev.quantforge.job.JobRepository;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.Projects;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.RemoteWorkerAgent;

/** API keys: shown once, stored as a hash, listed, scoped, revoked on the next request; a project's remote worker. */
@TestPropertySource(properties = "qf.api-token=" + Projects.ROOT_TOKEN)
class ApiKeyTest extends ServiceTest {

    @Autowired
    JobRepository jobs;

    @Test
    void aKeyIsShownOnceStoredHashedListedAndRevokedOnItsNextRequest() throws Exception {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String project = Projects.create(root, "keys", null, null);
        Api.Res created = root.postJson("/api/v1/projects/" + project + "/keys", Map.of("name", "ci", "scopes", List.of("submit")));
        assertThat(created.status()).isEqualTo(201);
        String key = created.json().path("key").asString();
        String keyId = created.json().path("id").asString();
        assertThat(key).startsWith("qf_").hasSizeGreaterThan(40);
        assertThat(created.json().path("prefix").asString()).isEqualTo(key.substring(0, 11));
        assertThat(created.json().path("scopes").toString()).isEqualTo("[\"submit\"]");

        // only the SHA-256 is stored, never the key
        String stored = jdbc.sql("select key_hash from api_key where id = :id").param("id", UUID.fromString(keyId)).query(String.class).single();
        assertThat(stored).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8))));
        assertThat(jdbc.sql("select count(*) from api_key where key_hash = :k or prefix = :k or name = :k").param("k", key)
                .query(Long.class).single()).isZero();

        Api asKey = new Api(port).withToken(key);
        JsonNode me = asKey.get("/api/v1/projects/current").json();
        assertThat(me.path("projectId").asString()).isEqualTo(project);
        assertThat(me.path("scopes").toString()).isEqualTo("[\"read\",\"submit\"]");
        assertThat(asKey.get("/api/v1/models").status()).isEqualTo(200);

        // listed without the key; last use recorded
        JsonNode listed = root.get("/api/v1/projects/" + project + "/keys").json();
        assertThat(listed.toString()).doesNotContain(key);
        assertThat(listed.get(0).path("prefix").asString()).isEqualTo(key.substring(0, 11));
        assertThat(listed.get(0).path("lastUsedAt").isNull()).isFalse();
        assertThat(listed.get(0).path("revokedAt").isNull()).isTrue();

        assertThat(root.delete("/api/v1/projects/" + project + "/keys/" + keyId).status()).isEqualTo(204);
        Api.Res after = asKey.get("/api/v1/models");
        assertThat(after.status()).as("revoked: refused on the very next request").isEqualTo(401);
        assertThat(after.contentType()).startsWith("application/problem+json");
        assertThat(after.detail()).contains("not valid");
        assertThat(root.get("/api/v1/projects/" + project + "/keys").json().get(0).path("revokedAt").isNull()).isFalse();
        assertThat(root.delete("/api/v1/projects/" + project + "/keys/" + UUID.randomUUID()).status()).isEqualTo(404);
    }

    @Test
    void scopesDecideWhatAKeyMayCall() {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String project = Projects.create(root, "scopes", null, null);
        Api read = new Api(port).withToken(Projects.key(root, project, "read"));
        Api submit = new Api(port).withToken(Projects.key(root, project, "submit"));
        Api worker = new Api(port).withToken(Projects.key(root, project, "worker"));
        Api admin = new Api(port).withToken(Projects.key(root, project, "admin"));
        String other = Projects.create(root, "scopes-other", null, null);

        assertThat(read.get("/api/v1/jobs").status()).isEqualTo(200);
        Api.Res denied = read.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.contentType()).startsWith("application/problem+json");
        assertThat(denied.detail()).contains("submit");
        assertThat(read.postJson("/api/v1/workers", Map.of("name", "w")).status()).isEqualTo(403);

        assertThat(submit.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).status()).isEqualTo(201);
        assertThat(submit.postJson("/api/v1/projects/" + project + "/keys", Map.of("scopes", List.of("read"))).status()).isEqualTo(403);
        assertThat(submit.get("/api/v1/workers").status()).as("listing workers is a read").isEqualTo(200);
        assertThat(submit.postJson("/api/v1/workers", Map.of("name", "w")).status()).isEqualTo(403);

        assertThat(worker.get("/api/v1/workers").status()).isEqualTo(200);
        assertThat(worker.get("/api/v1/models").status()).as("a worker reads its inputs").isEqualTo(200);
        assertThat(worker.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).status()).isEqualTo(403);

        // a project's admin manages its own keys, not other projects, and creates no projects
        assertThat(admin.postJson("/api/v1/projects/" + project + "/keys", Map.of("scopes", List.of("read"))).status()).isEqualTo(201);
        assertThat(admin.postJson("/api/v1/projects/" + other + "/keys", Map.of("scopes", List.of("read"))).status()).isEqualTo(404);
        assertThat(admin.get("/api/v1/projects/" + other).status()).isEqualTo(404);
        Api.Res noProjects = admin.postJson("/api/v1/projects", Map.of("name", "nope-" + UUID.randomUUID()));
        assertThat(noProjects.status()).isEqualTo(403);
        assertThat(noProjects.detail()).contains("default project");

        // bad input: a clear 400 naming the field
        Api.Res badScope = root.postJson("/api/v1/projects/" + project + "/keys", Map.of("scopes", List.of("everything")));
        assertThat(badScope.status()).isEqualTo(400);
        assertThat(badScope.detail()).contains("scopes").contains("everything");
        assertThat(root.postJson("/api/v1/projects/" + project + "/keys", Map.of("name", "x")).status()).isEqualTo(400);
        Api.Res badName = root.postJson("/api/v1/projects", Map.of("name", "has space"));
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.detail()).contains("name");
        assertThat(root.postJson("/api/v1/projects", "[1]").status()).isEqualTo(400);
        assertThat(root.get("/api/v1/projects/not-a-uuid").status()).isEqualTo(400);
        assertThat(new Api(port).get("/api/v1/projects/current").status()).as("no key, a token is set").isEqualTo(401);
    }

    @Test
    void aProjectsWorkerKeyRunsThatProjectsJobsOnly() throws Exception {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String project = Projects.create(root, "remote", null, null);
        String other = Projects.create(root, "remote-other", null, null);
        Api admin = new Api(port).withToken(Projects.key(root, project, "admin"));
        Api otherAdmin = new Api(port).withToken(Projects.key(root, other, "admin"));
        String workerKey = Projects.key(admin, project, "worker");
        String pool = "pool-" + UUID.randomUUID();

        List<JobHandler> handlers;
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
        String theirs = submitForPool(otherAdmin, other, pool);
        String ours = submitForPool(admin, project, pool);
        try (RemoteWorkerAgent agent = new RemoteWorkerAgent("http://127.0.0.1:" + port, Files.createTempDirectory("qf-w-"), "project-worker",
                handlers, List.of(pool)).withApiToken(workerKey)) {
            UUID id = agent.register();
            assertThat(admin.get("/api/v1/workers").body()).contains(id.toString());
            assertThat(otherAdmin.get("/api/v1/workers").body()).doesNotContain(id.toString());
            assertThat(agent.runOne(0)).isTrue();
            assertThat(agent.runOne(0)).as("the other project's job is not this worker's").isFalse();
        }
        assertThat(admin.get("/api/v1/jobs/" + ours).json().path("state").asString()).isEqualTo("succeeded");
        assertThat(otherAdmin.get("/api/v1/jobs/" + theirs).json().path("state").asString()).isEqualTo("queued");
        assertThat(otherAdmin.postJson("/api/v1/jobs/" + theirs + "/cancel", Map.of()).status()).isEqualTo(200);
    }

    private String submitForPool(Api as, String project, String pool) {
        String model = as.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        UUID id = UUID.randomUUID();
        // a job only a worker with this pool's tag can take (not the in-process workers), in the given project
        assertThat(jobs.insert(new JobRepository.NewJob(id, "benchmark", UUID.fromString(model), null, null, null,
                "{\"benchmark\":{\"iterations\":3,\"warmup\":1,\"batchSize\":1,\"threads\":1}}", 0, List.of("onnxruntime", pool), 1, null, null,
                UUID.fromString(project)))).isTrue();
        return id.toString();
    }
}
