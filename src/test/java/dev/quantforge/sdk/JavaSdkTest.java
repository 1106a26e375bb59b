package dev.quantforge.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.quantforge.client.ApiClient;
import dev.quantforge.client.ApiException;
import dev.quantforge.client.api.ArtifactsApi;
import dev.quantforge.client.api.DatasetsApi;
import dev.quantforge.client.api.JobsApi;
import dev.quantforge.client.api.ModelsApi;
import dev.quantforge.client.api.ReportsApi;
import dev.quantforge.client.model.DatasetView;
import dev.quantforge.client.model.JobSubmission;
import dev.quantforge.client.model.JobView;
import dev.quantforge.client.model.ModelView;
import dev.quantforge.client.model.ReportView;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.Projects;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * The Java SDK generated from clients/openapi.json (openapi-generator, java/native), used as a new user would against
 * the running service with a project's key: upload mnist and its datasets, submit a ptq job, wait for it, read its
 * report, download the quantized model — and a refusal arrives as the API's problem+json.
 */
@TestPropertySource(properties = "qf.api-token=" + Projects.ROOT_TOKEN)
class JavaSdkTest extends ServiceTest {

    @Test
    void theGeneratedClientRunsAPtqJobEndToEnd() throws Exception {
        Api root = new Api(port).withToken(Projects.ROOT_TOKEN);
        String key = Projects.key(root, Projects.create(root, "sdk-java", null, null), "submit");
        ApiClient client = new ApiClient();
        client.updateBaseUri("http://127.0.0.1:" + port);
        client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + key));
        ModelsApi models = new ModelsApi(client);
        DatasetsApi datasets = new DatasetsApi(client);
        JobsApi jobs = new JobsApi(client);

        ModelView model = models.uploadModel(SharedData.file("mnist/mnist-8.onnx").toFile(), "mnist-8");
        assertThat(model.getName()).isEqualTo("mnist-8");
        assertThat(model.getInputs()).isNotEmpty();
        DatasetView calib = datasets.uploadDataset(SharedData.file("mnist/mnist8-calib.npz").toFile(), null, "mnist-calib", null, null, null);
        DatasetView eval = datasets.uploadDataset(SharedData.file("mnist/mnist8-eval.npz").toFile(), "npz", "mnist-eval", null, null, null);
        assertThat(eval.getHasLabels()).isTrue();

        JobView submitted = jobs.submitJob(new JobSubmission().type(JobSubmission.TypeEnum.PTQ).modelId(model.getId())
                .calibrationDatasetId(calib.getId()).evaluationDatasetId(eval.getId())
                .config(Map.of("calibration", Map.of("maxSamples", 200), "benchmark", Map.of("iterations", 5))), "sdk-" + UUID.randomUUID());
        assertThat(submitted.getState()).isIn(JobView.StateEnum.QUEUED, JobView.StateEnum.RUNNING);
        JobView job = submitted;
        long end = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (!Set.of(JobView.StateEnum.SUCCEEDED, JobView.StateEnum.FAILED, JobView.StateEnum.CANCELLED).contains(job.getState())
                && System.nanoTime() < end) {
            Thread.sleep(200);
            job = jobs.getJob(submitted.getId());
        }
        assertThat(job.getState()).as(String.valueOf(job.getError())).isEqualTo(JobView.StateEnum.SUCCEEDED);
        Map<String, Object> result = job.getResult();
        assertThat(result).containsKeys("fp32", "quantized", "reportId", "quantizedModelArtifactId");

        ReportView report = new ReportsApi(client).getReport(UUID.fromString((String) result.get("reportId")));
        assertThat(report.getJobId()).isEqualTo(job.getId());
        assertThat(report.getMetrics()).containsKey("top1");
        assertThat(report.getLayers()).isNotEmpty();

        UUID artifact = UUID.fromString((String) result.get("quantizedModelArtifactId"));
        File downloaded = new ArtifactsApi(client).downloadArtifact(artifact);
        assertThat(Files.size(downloaded.toPath())).isEqualTo(new ArtifactsApi(client).getArtifact(artifact).getSizeBytes()).isPositive();

        assertThatThrownBy(() -> jobs.getJob(UUID.randomUUID())).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.getCode()).isEqualTo(404);
            assertThat(e.getResponseBody()).contains("\"detail\"").contains("does not exist");
        });
    }
}
