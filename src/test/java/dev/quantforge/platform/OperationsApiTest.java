package dev.quantforge.platform;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;

/** What operators and SDK generators rely on: OpenAPI, health probes, Prometheus metrics. */
class OperationsApiTest extends ServiceTest {

    @Test
    void openApiDocumentsEveryEndpoint() {
        Api.Res r = api().get("/v3/api-docs");
        assertThat(r.status()).isEqualTo(200);
        JsonNode doc = r.json();
        assertThat(doc.path("openapi").asString()).startsWith("3.1");
        JsonNode paths = doc.path("paths");
        for (String p : new String[]{"/api/v1/models", "/api/v1/models/{id}", "/api/v1/models/{id}/content", "/api/v1/datasets",
                "/api/v1/datasets/{id}", "/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/{id}/retry",
                "/api/v1/jobs/{id}/events", "/api/v1/jobs/{id}/logs", "/api/v1/jobs/{id}/reports", "/api/v1/reports/{id}",
                "/api/v1/models/{id}/reports", "/api/v1/artifacts/{id}", "/api/v1/artifacts/{id}/content", "/api/v1/workers",
                "/api/v1/workers/{id}/lease", "/api/v1/workers/{id}/jobs/{jobId}/heartbeat",
                "/api/v1/workers/{id}/jobs/{jobId}/complete", "/api/v1/workers/{id}/jobs/{jobId}/fail"}) {
            assertThat(paths.has(p)).as("OpenAPI documents " + p).isTrue();
        }
    }

    @Test
    void healthProbesAreUp() {
        assertThat(api().get("/actuator/health/liveness").json().path("status").asString()).isEqualTo("UP");
        assertThat(api().get("/actuator/health/readiness").json().path("status").asString()).isEqualTo("UP");
        assertThat(api().get("/actuator/health").json().path("status").asString()).isEqualTo("UP");
    }

    @Test
    void prometheusExposesQueueDepthRunningJobsAndDurations() {
        Api.Res r = api().get("/actuator/prometheus");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).contains("qf_jobs{").contains("state=\"queued\"").contains("state=\"running\"");
    }

    @Test
    void unknownEndpointIsAProblem404() {
        Api.Res r = api().get("/api/v1/nothing-here");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.contentType()).startsWith("application/problem+json");
    }
}
