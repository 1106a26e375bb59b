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
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.RemoteWorkerAgent;

/** With QF_API_TOKEN set, the API answers only requests that carry the token; probes stay open. */
@TestPropertySource(properties = "qf.api-token=s3cret-token")
class ApiTokenTest extends ServiceTest {

    @Test
    void requestsWithoutTheTokenAre401ProblemsAndWithItPass() {
        Api.Res none = api().get("/api/v1/models");
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.contentType()).startsWith("application/problem+json");
        assertThat(none.detail()).contains("Authorization: Bearer");
        Api.Res wrong = new Api(port).withToken("guess").get("/api/v1/jobs");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.detail()).contains("not valid");
        assertThat(new Api(port).withToken("s3cret-token").get("/api/v1/models").status()).isEqualTo(200);
        assertThat(api().get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(api().get("/v3/api-docs").status()).isEqualTo(200);
    }

    @Test
    void aRemoteWorkerWithTheTokenRegisters() throws Exception {
        List<JobHandler> handlers;
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.quantforge.worker.tasks")) {
            handlers = new ArrayList<>(ctx.getBeansOfType(JobHandler.class).values());
        }
        try (RemoteWorkerAgent agent = new RemoteWorkerAgent("http://127.0.0.1:" + port, Files.createTempDirectory("qf-w-"), "tokened",
                handlers, List.of("pool-" + UUID.randomUUID())).withApiToken("s3cret-token")) {
            UUID id = agent.register();
            assertThat(new Api(port).withToken("s3cret-token").get("/api/v1/workers").body()).contains(id.toString());
            assertThat(agent.runOne(0)).isFalse();
        }
    }
}
