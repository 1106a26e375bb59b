package dev.quantforge.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebElement;
import org.springframework.test.context.TestPropertySource;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * With QF_API_TOKEN set, the page loads without a key, asks for one when the API answers 401 (a wrong
 * one is refused with the service's detail), keeps it in session storage, and sends it as a header to
 * every call — the job event stream included, whose URL never carries it.
 */
@TestPropertySource(properties = "qf.api-token=dash-board-key")
class DashboardAuthBrowserTest extends ServiceTest {

    private static final String TOKEN = "dash-board-key";
    private static final Duration SHORT = Duration.ofSeconds(15);

    @BeforeAll
    static void browserPresent() {
        Browser.assumeAvailable();
    }

    @Test
    void thePageAsksForTheKeyOnceAndStreamsJobEventsWithIt() {
        Api api = new Api(port).withToken(TOKEN);
        String model = api.upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).json().path("id").asString();
        String calib = api.upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of()).json().path("id").asString();
        Api.Res job = api.postJson("/api/v1/jobs", Map.of("type", "ptq", "modelId", model, "calibrationDatasetId", calib,
                "config", Map.of("calibration", Map.of("maxSamples", 64), "evaluation", Map.of("maxSamples", 200),
                        "benchmark", Map.of("iterations", 20))));
        assertThat(job.status()).as(job.body()).isEqualTo(201);
        String jobId = job.json().path("id").asString();

        try (Browser b = Browser.open(port)) {
            b.go("#/models");
            WebElement input = b.visible("#key-dialog[open] #key-input", SHORT);
            assertThat(b.all("tr[data-id]")).isEmpty();
            b.screenshot("api-key", null);
            input.sendKeys("not-the-key");
            b.find("#key-dialog button[value=ok]").click();
            WebElement error = b.visible("#key-dialog[open] #key-error", SHORT);
            assertThat(error.getText()).contains("not valid");
            b.find("#key-input").sendKeys(TOKEN);
            b.find("#key-dialog button[value=ok]").click();
            b.visible("tr[data-id='" + model + "']", SHORT);
            assertThat(b.js("return sessionStorage.getItem('qf.apiKey')")).isEqualTo(TOKEN);
            assertThat(b.find("#forget-key").isDisplayed()).isTrue();

            // the job page follows the event stream with the key in a header: the log arrives, the job ends
            b.go("#/jobs/" + jobId);
            b.until(Duration.ofMinutes(1), d -> "succeeded".equals(b.text(".title .badge")));
            b.until(SHORT, d -> b.all("ol.log li").size() >= 4);
            assertThat(b.find("ol.log").getText()).contains("job submitted: ptq");
            // previews are fetched with the key too (blob: URLs, not <img src> to the API)
            b.go("#/datasets/" + calib);
            b.until(SHORT, d -> Boolean.TRUE.equals(b.js("const i = document.querySelector('.previews img');"
                    + " return !!i && i.complete && i.naturalWidth === 28 && i.src.startsWith('blob:')")));
            @SuppressWarnings("unchecked")
            List<String> urls = (List<String>) b.js("return performance.getEntriesByType('resource').map(e => e.name)");
            assertThat(urls).anyMatch(u -> u.contains("/api/v1/jobs/" + jobId + "/events")).noneMatch(u -> u.contains(TOKEN));

            // forgetting the key asks again on the next call
            b.find("#forget-key").click();
            b.visible("#key-dialog[open] #key-input", SHORT);
            assertThat(b.js("return sessionStorage.getItem('qf.apiKey')")).isNull();
            assertThat(b.severeConsoleMessages()).as("browser console errors other than the 401s on purpose")
                    .filteredOn(m -> !m.contains("status of 401")).isEmpty();
        }
    }
}
