package dev.quantforge.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.test.context.TestPropertySource;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.RawHttp;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.RemoteWorkerAgent;

/**
 * With QF_API_TOKEN set, only requests that carry the token reach the API; probes and the API docs stay
 * open. Every other spelling of a protected path — path parameters, percent-encoding, double slashes,
 * dot segments, case, trailing slashes — is refused on every controller, and every refusal is
 * problem+json.
 */
@TestPropertySource(properties = "qf.api-token=s3cret-token")
class ApiSecurityTest extends ServiceTest {

    private static final String TOKEN = "s3cret-token";
    private static final String ID = "00000000-0000-0000-0000-000000000001";

    /** One GET or POST per controller family (and the protected actuator endpoints). */
    private static final String[][] ENDPOINTS = {
            {"GET", "/api/v1/models"}, {"GET", "/api/v1/models/" + ID}, {"GET", "/api/v1/models/" + ID + "/content"},
            {"DELETE", "/api/v1/models/" + ID}, {"GET", "/api/v1/datasets"}, {"GET", "/api/v1/datasets/" + ID + "/content"},
            {"GET", "/api/v1/jobs"}, {"POST", "/api/v1/jobs"}, {"GET", "/api/v1/jobs/" + ID + "/events"},
            {"GET", "/api/v1/jobs/" + ID + "/logs"}, {"POST", "/api/v1/jobs/" + ID + "/cancel"},
            {"GET", "/api/v1/reports/" + ID}, {"GET", "/api/v1/reports/compare?ids=" + ID + "," + ID},
            {"GET", "/api/v1/models/" + ID + "/reports"}, {"GET", "/api/v1/artifacts/" + ID},
            {"GET", "/api/v1/artifacts/" + ID + "/content"}, {"GET", "/api/v1/artifacts/" + ID + "/histograms"},
            {"GET", "/api/v1/artifacts/" + ID + "/histograms/tensor?name=x"}, {"GET", "/api/v1/datasets/" + ID + "/samples/0/preview.png"},
            {"GET", "/api/v1/workers"}, {"POST", "/api/v1/workers"},
            {"POST", "/api/v1/workers/" + ID + "/lease"}, {"GET", "/api/v1/projects"}, {"GET", "/api/v1/projects/current"},
            {"POST", "/api/v1/projects/" + ID + "/keys"}, {"GET", "/api/v1/webhooks"}, {"GET", "/api/v1/webhooks/" + ID + "/deliveries"},
            {"GET", "/actuator/metrics"}, {"GET", "/actuator/info"}};

    @Test
    void requestsWithoutTheTokenAre401ProblemsAndWithItPass() {
        Api.Res none = api().get("/api/v1/models");
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.contentType()).startsWith("application/problem+json");
        assertThat(none.detail()).contains("Authorization: Bearer");
        Api.Res wrong = new Api(port).withToken("guess").get("/api/v1/jobs");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.detail()).contains("not valid");
        assertThat(new Api(port).withToken(TOKEN).get("/api/v1/models").status()).isEqualTo(200);
        assertThat(api().get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(api().get("/actuator/health").status()).isEqualTo(200);
        assertThat(api().get("/v3/api-docs").status()).isEqualTo(200);
        assertThat(api().get("/actuator/prometheus").status()).isEqualTo(200);
        // the dashboard's page and files load without the token (the page then asks for it)
        for (String path : List.of("/", "/index.html", "/assets/app.css", "/assets/js/main.js", "/webjars/echarts/dist/echarts.esm.min.js")) {
            assertThat(api().get(path).status()).as(path).isEqualTo(200);
        }
        assertThat(api().get("/").body()).contains("assets/js/main.js");
    }

    @Test
    void everyControllerRefusesEverySpellingOfItsPathsWithoutTheToken() {
        List<String> leaks = new ArrayList<>();
        int tried = 0;
        for (String[] e : ENDPOINTS) {
            for (String target : spellings(e[1])) {
                RawHttp.Response r = RawHttp.send(port, e[0], target);
                tried++;
                boolean refused = r.status() == 400 || r.status() == 401 || r.status() == 404 || r.status() == 405;
                boolean problem = r.contentType().startsWith("application/problem+json") && r.body().contains("\"detail\"");
                if (!refused || !problem) {
                    leaks.add(e[0] + " " + target + " → " + r.status() + " " + r.contentType() + " "
                            + r.body().substring(0, Math.min(120, r.body().length())));
                }
            }
            // the canonical path with the token is not refused by authentication
            RawHttp.Response ok = RawHttp.send(port, e[0], e[1], "Authorization: Bearer " + TOKEN);
            assertThat(ok.status()).as(e[0] + " " + e[1] + " with the token").isNotIn(401, 403);
        }
        assertThat(tried).isGreaterThan(ENDPOINTS.length * 20);
        assertThat(leaks).as("requests that got past authentication or were not problem+json").isEmpty();
    }

    @Test
    void publicPathsDoNotOpenProtectedOnesThroughTraversal() {
        for (String target : List.of("/actuator/health/../../api/v1/models", "/actuator/health/%2e%2e/%2e%2e/api/v1/models",
                "/actuator/health;/../../api/v1/models", "/v3/api-docs/../../api/v1/models", "/swagger-ui/..%2F..%2Fapi/v1/models",
                "/actuator/health/..;/..;/api/v1/models", "/swagger-ui/%2e%2e/api/v1/workers", "/v3/api-docs/..%5c..%5capi/v1/models",
                "/actuator/prometheus/../../api/v1/models", "/actuator/health%00/../../api/v1/models",
                "/assets/../api/v1/models", "/assets/%2e%2e/api/v1/models", "/assets;/../api/v1/models", "/assets/..%2Fapi/v1/models",
                "/webjars/echarts/../../api/v1/models", "/index.html/../api/v1/models", "/assets/js/..;/..;/api/v1/workers")) {
            RawHttp.Response r = RawHttp.send(port, "GET", target);
            assertThat(r.status()).as(target).isIn(400, 401, 404);
            assertThat(r.contentType()).as(target).startsWith("application/problem+json");
        }
    }

    @Test
    void aModelUploadedWithTheTokenCannotBeReadBackWithoutIt() {
        Api.Res up = new Api(port).withToken(TOKEN).upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), java.util.Map.of());
        assertThat(up.status()).isIn(200, 201);
        String id = up.json().path("id").asString();
        for (String target : spellings("/api/v1/models/" + id + "/content")) {
            RawHttp.Response r = RawHttp.send(port, "GET", target);
            assertThat(r.status()).as(target).isIn(400, 401, 404);
        }
        assertThat(new Api(port).withToken(TOKEN).get("/api/v1/models/" + id + "/content").status()).isEqualTo(200);
    }

    @Test
    void aRemoteWorkerWithTheTokenRegisters() throws Exception {
        List<JobHandler> handlers;
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
        try (RemoteWorkerAgent agent = new RemoteWorkerAgent("http://127.0.0.1:" + port, Files.createTempDirectory("qf-w-"), "tokened",
                handlers, List.of("pool-" + UUID.randomUUID())).withApiToken(TOKEN)) {
            UUID id = agent.register();
            assertThat(new Api(port).withToken(TOKEN).get("/api/v1/workers").body()).contains(id.toString());
            assertThat(agent.runOne(0)).isFalse();
        }
    }

    /** The ways a client can write {@code path} that some server component might route to the same handler. */
    static List<String> spellings(String path) {
        String query = "";
        int q = path.indexOf('?');
        if (q >= 0) {
            query = path.substring(q);
            path = path.substring(0, q);
        }
        String[] seg = path.substring(1).split("/");
        List<String> out = new ArrayList<>();
        out.add(path); // no token at all
        for (int i = 0; i < seg.length; i++) {
            out.add(join(seg, i, seg[i] + ";x=1"));
            out.add(join(seg, i, seg[i] + ";"));
            out.add(join(seg, i, "%" + Integer.toHexString(seg[i].charAt(0)) + seg[i].substring(1)));
            out.add(join(seg, i, seg[i].toUpperCase(java.util.Locale.ROOT)));
            out.add(join(seg, i, "." + "/" + seg[i]));
            out.add(join(seg, i, "x/../" + seg[i]));
            out.add(join(seg, i, "%2e/" + seg[i]));
            out.add(join(seg, i, "x/%2e%2e/" + seg[i]));
            out.add(join(seg, i, "/" + seg[i]));
        }
        out.add(path + "/");
        out.add(path + "//");
        out.add(path + "/.");
        out.add(path + ";jsessionid=1");
        out.add("/" + path);
        out.add(path.replace("/", "%2F"));
        out.add(first(path, "/api%2F"));
        out.add(first(path, "/api%2f/"));
        out.add(first(path, "/api/%2e/"));
        out.add(first(path, "/%2561pi/"));
        out.add(first(path, "/api\\"));
        out.add(first(path, "/api%5c"));
        out.add(first(path, "/api%00/"));
        out.add(path.replace("/", "/./"));
        String suffix = query;
        return out.stream().map(p -> p + suffix).toList();
    }

    /** {@code path} with its first segment written as {@code with} ("/api/" → with). */
    private static String first(String path, String with) {
        int slash = path.indexOf('/', 1);
        return with.startsWith("/api") && path.startsWith("/api/") ? with + path.substring(5)
                : with.replace("/api", path.substring(0, slash)) + path.substring(slash + 1);
    }

    private static String join(String[] seg, int replace, String with) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < seg.length; i++) {
            b.append('/').append(i == replace ? with : seg[i]);
        }
        return b.toString();
    }
}
