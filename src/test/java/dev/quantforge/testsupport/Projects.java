package dev.quantforge.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Creates projects and keys through the API, as an admin of the default project would. */
public final class Projects {

    /** The service token of the tests' context (the same as ApiSecurityTest's: one Spring context for all of them). */
    public static final String ROOT_TOKEN = "s3cret-token";

    private Projects() {
    }

    /** A new project (a unique name: the test database outlives a run); its id. */
    public static String create(Api root, String name, Long maxConcurrentJobs, Long maxStorageBytes) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", name + "-" + UUID.randomUUID().toString().substring(0, 8));
        body.put("maxConcurrentJobs", maxConcurrentJobs);
        body.put("maxStorageBytes", maxStorageBytes);
        Api.Res r = root.postJson("/api/v1/projects", body);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    /** A new key of the project with these scopes; the key itself (shown only in this answer). */
    public static String key(Api admin, String projectId, String... scopes) {
        Api.Res r = admin.postJson("/api/v1/projects/" + projectId + "/keys", Map.of("name", "test-" + String.join("-", scopes),
                "scopes", List.of(scopes)));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("key").asString();
    }
}
