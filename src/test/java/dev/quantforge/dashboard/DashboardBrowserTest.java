package dev.quantforge.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;

import tools.jackson.databind.JsonNode;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * The dashboard in a real headless Chromium against the running service, on the real models: upload
 * mnist-8 and its data through the page, run a ptq job from the page and watch it finish live, check
 * the per-layer chart against the report, then the CIFAR net's accuracy × latency chart after an
 * auto_quantize job, clicking a Pareto point through to its report. Screenshots of each page go to
 * target/screenshots (and docs/screenshots with -Dqf.screenshots=update).
 */
class DashboardBrowserTest extends ServiceTest {

    private static final Duration SHORT = Duration.ofSeconds(15);
    private static Browser browser;

    @BeforeAll
    static void browserPresent() {
        Browser.assumeAvailable();
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    private Browser browser() {
        if (browser == null) {
            browser = Browser.open(port);
        }
        return browser;
    }

    @Test
    void uploadRunPtqWatchItLiveSeeItsLayersAndClickThroughTheParetoFront() throws Exception {
        // the CIFAR search runs through the API meanwhile (the second worker thread): 3 trials on 100 + 200 images
        String cifar = api().upload("/api/v1/models", SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx"), Map.of()).json().path("id").asString();
        String cCalib = api().upload("/api/v1/datasets", "cifar-calib.zip", SharedData.cifarZip(900, 910),
                Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING)).json().path("id").asString();
        String cEval = api().upload("/api/v1/datasets", "cifar-eval.zip", SharedData.cifarZip(0, 20),
                Map.of("preprocessing", SharedData.CIFAR_PREPROCESSING)).json().path("id").asString();
        Api.Res auto = api().postJson("/api/v1/jobs", Map.of("type", "auto_quantize", "modelId", cifar, "calibrationDatasetId", cCalib,
                "evaluationDatasetId", cEval, "config", Map.of("maxAccuracyDrop", 0.0, "maxTrials", 3,
                        "calibration", Map.of("maxSamples", 100), "benchmark", Map.of("iterations", 50, "warmup", 5))));
        assertThat(auto.status()).as(auto.body()).isEqualTo(201);

        Browser b = browser();

        // Models: a bad file shows the service's problem detail, then mnist-8 goes up with progress
        b.go("#/models");
        Path junk = Files.createTempFile("not-a-model-", ".onnx");
        Files.writeString(junk, "this is not an ONNX model");
        b.find("input[type=file]").sendKeys(junk.toAbsolutePath().toString());
        WebElement refused = b.visible(".upload-row.failed .error", SHORT);
        assertThat(refused.getText()).contains("400").containsIgnoringCase("onnx");
        // a copy with bytes of its own (doc string): other test classes share this database and uploaded mnist-8 long
        // ago; content addressing would hand back that older model, off the list's first page
        Path own = Files.createTempDirectory("dashboard-").resolve("mnist-8.onnx");
        Files.write(own, dev.quantforge.quant.onnx.Graphs.parse(SharedData.file("mnist/mnist-8.onnx")).toBuilder()
                .setDocString("dashboard test " + java.util.UUID.randomUUID()).build().toByteArray());
        b.find("input[type=file]").sendKeys(own.toAbsolutePath().toString());
        WebElement stored = b.visible(".upload-row.ok", Duration.ofSeconds(30));
        assertThat(stored.getText()).contains("mnist-8").contains("3 quantizable nodes");
        assertThat(b.find("[role=progressbar]").getDomAttribute("aria-valuenow")).isEqualTo("100");
        String mnist = api().get("/api/v1/models").json().path("items").valueStream()
                .filter(m -> m.path("name").asString().equals("mnist-8")).findFirst().orElseThrow().path("id").asString();
        WebElement row = b.visible("tr[data-id='" + mnist + "']", SHORT);
        assertThat(row.getText()).contains("Input3").contains("float32 [1, 1, 28, 28]");
        b.screenshot("models", null);

        // keyboard: the navigation is reachable with Tab and opens a page with Enter, focus on its heading
        b.js("document.activeElement.blur(); window.scrollTo(0, 0)");
        String focused = "";
        for (int i = 0; i < 8 && !focused.equals("Datasets"); i++) {
            new Actions(b.driver).sendKeys(Keys.TAB).perform();
            focused = (String) b.js("return document.activeElement.textContent.trim()");
        }
        assertThat(focused).isEqualTo("Datasets");
        new Actions(b.driver).sendKeys(Keys.ENTER).perform();
        b.until(SHORT, d -> "H1 Datasets".equals(b.js("return document.activeElement.tagName + ' ' + document.activeElement.textContent")));
        assertThat(b.driver.getCurrentUrl()).endsWith("#/datasets");

        // Datasets: the calibration and evaluation sets, each with decoded samples
        String calib = uploadDataset(b, SharedData.file("mnist/mnist8-calib.npz"), "1000 samples");
        String eval = uploadDataset(b, SharedData.file("mnist/mnist8-eval.npz"), "2000 samples");
        b.until(SHORT, d -> b.all(".upload-row.ok .previews img").stream().filter(i -> isLoaded(b, i)).count() >= 8);
        Number width = (Number) b.js("return document.querySelector('.upload-row.ok .previews img').naturalWidth");
        assertThat(width.intValue()).isEqualTo(28);
        b.screenshot("datasets", b.find(".uploads"));

        // QAT of mnist-8 meanwhile, through the API (distillation on the unlabelled set: 2 steps of 32)
        Api.Res qat = api().postJson("/api/v1/jobs", Map.of("type", "qat", "modelId", mnist, "trainingDatasetId", calib,
                "calibrationDatasetId", calib, "evaluationDatasetId", eval, "config", Map.of("epochs", 1,
                        "training", Map.of("maxSamples", 64), "calibration", Map.of("maxSamples", 64),
                        "evaluation", Map.of("maxSamples", 200), "benchmark", Map.of("iterations", 20))));
        assertThat(qat.status()).as(qat.body()).isEqualTo(201);
        Api.Res sensitivity = api().postJson("/api/v1/jobs", Map.of("type", "sensitivity", "modelId", mnist, "calibrationDatasetId", calib,
                "evaluationDatasetId", eval, "config", Map.of("metric", "kl", "calibration", Map.of("maxSamples", 64),
                        "evaluation", Map.of("maxSamples", 500))));
        assertThat(sensitivity.status()).as(sensitivity.body()).isEqualTo(201);

        // an image folder with the preprocessing form (ImageNet preset), decoded back for the preview
        Path zip = Files.createTempDirectory("qf-zip-").resolve("cifar-sample.zip");
        Files.write(zip, SharedData.cifarZip(0, 2));
        b.find("input[type=file]").sendKeys(zip.toAbsolutePath().toString());
        b.until(SHORT, d -> b.find(".image-only").isDisplayed());
        b.all("fieldset.pre button").stream().filter(x -> x.getText().equals("ImageNet preset")).findFirst().orElseThrow().click();
        assertThat(b.find("fieldset.pre pre.json").getText()).contains("\"mean\":[0.485,0.456,0.406]").contains("\"layout\":\"nchw\"");
        String images = uploadDataset(b, zip, "20 samples");
        JsonNode imageSet = api().get("/api/v1/datasets/" + images).json();
        assertThat(imageSet.path("format").asString()).isEqualTo("image_folder");
        assertThat(imageSet.path("preprocessing").path("scale").asDouble()).isEqualTo(1 / 255.0);
        assertThat(imageSet.path("preprocessing").path("std").get(2).asDouble()).isEqualTo(0.225);
        b.go("#/datasets/" + images);
        b.until(SHORT, d -> b.all(".previews img").stream().filter(i -> isLoaded(b, i)).count() >= 12);
        assertThat(b.find(".previews").getText()).contains("airplane").contains("truck");
        b.screenshot("dataset-images", null);

        // a ptq job from the page, calibrators compared
        b.go("#/jobs/new?modelId=" + mnist);
        new Select(b.visible("#job-type", SHORT)).selectByValue("ptq");
        new Select(b.find("#job-model")).selectByValue(mnist);
        new Select(b.find("#job-calibrationDatasetId")).selectByValue(calib);
        new Select(b.find("#job-evaluationDatasetId")).selectByValue(eval);
        b.find("input[data-path='calibration.compareCalibrators']").click();
        b.find("input[data-path='benchmark.iterations']").sendKeys("100");
        b.screenshot("new-job", null);
        b.find("#submit-job").click();
        b.until(SHORT, d -> d.getCurrentUrl().matches(".*#/jobs/[0-9a-f-]{36}$"));
        String ptq = b.driver.getCurrentUrl().replaceAll(".*#/jobs/", "");

        // live: the page shows the job running and its log growing, then succeeded, without a reload
        Object page = b.js("return window.performance.timeOrigin");
        b.until(Duration.ofSeconds(30), d -> "running".equals(b.text(".title .badge")));
        b.until(Duration.ofSeconds(30), d -> b.all("ol.log li").size() >= 3);
        b.until(Duration.ofMinutes(2), d -> "succeeded".equals(b.text(".title .badge")));
        assertThat(b.js("return window.performance.timeOrigin")).as("no reload").isEqualTo(page);
        assertThat(b.find("ol.log").getText()).contains("calibration pass done").contains("quantized model written");
        assertThat(b.find(".progress-line .phase").getText()).isEqualTo("done");

        // the per-layer chart: one bar per quantized layer of the job's report, hover names the node
        JsonNode job = api().get("/api/v1/jobs/" + ptq).json();
        JsonNode report = api().get("/api/v1/reports/" + job.path("result").path("reportId").asString()).json();
        List<String> quantized = new ArrayList<>();
        report.path("layers").forEach(l -> {
            if (l.path("quantized").asBoolean()) {
                quantized.add(l.path("node").asString());
            }
        });
        assertThat(quantized).hasSize(3);
        WebElement layers = b.visible(".chart.layers[data-points]", SHORT);
        assertThat(layers.getDomAttribute("data-points")).isEqualTo(String.valueOf(quantized.size()));
        assertThat(((Number) b.js("return arguments[0].qfChart.getOption().series[0].data.length", layers)).intValue()).isEqualTo(quantized.size());
        assertThat(b.js("return arguments[0].qfChart.getOption().xAxis[0].data", layers)).isEqualTo(quantized);
        // every quantized layer has a bar: its SQNR, or the grey n/a stub where the report has none
        @SuppressWarnings("unchecked")
        List<List<Object>> drawn = (List<List<Object>>) b.js("return arguments[0].qfChart.getOption().series.map(s => s.data)", layers);
        for (int i = 0; i < quantized.size(); i++) {
            JsonNode sqnr = report.path("layers").valueStream().filter(l -> l.path("quantized").asBoolean()).toList().get(i).path("sqnrDb");
            if (sqnr.isNumber()) {
                assertThat(((Number) drawn.get(0).get(i)).doubleValue()).isEqualTo(sqnr.asDouble());
            } else {
                assertThat(drawn).hasSize(2);
                assertThat(drawn.get(1).get(i)).isEqualTo(0L);
            }
        }
        assertThat(hover(b, layers, 0, quantized.get(1), "SQNR (dB): ")).contains(quantized.get(1)).contains("Conv");
        b.screenshot("job-ptq", b.find(".result"));
        b.screenshot("job-ptq-layers", layers.findElement(By.xpath("./ancestor::section")));
        WebElement calibrators = b.visible(".chart.calibrators[data-points]", SHORT);
        assertThat(calibrators.getDomAttribute("data-points")).isEqualTo("5");
        b.screenshot("job-ptq-calibrators", calibrators.findElement(By.xpath("./ancestor::section")));
        WebElement histogram = b.visible(".chart.histogram[data-points]", SHORT);
        assertThat(Integer.parseInt(histogram.getDomAttribute("data-points"))).isBetween(8, 256);
        assertThat(((Number) b.js("return arguments[0].qfChart.getOption().series.length", histogram)).intValue()).isEqualTo(6); // histogram + 5 calibrators
        b.screenshot("job-ptq-histograms", histogram.findElement(By.xpath("./ancestor::section")));
        // the quantized model downloads with the service's file name and size
        long size = job.path("artifacts").valueStream().filter(a -> a.path("kind").asString().equals("quantized_model")).findFirst()
                .orElseThrow().path("sizeBytes").asLong();
        b.all("button").stream().filter(x -> x.getText().equals("Download model.int8.onnx")).findFirst().orElseThrow().click();
        Path downloaded = b.downloads().resolve("model.int8.onnx");
        b.until(SHORT, d -> Files.exists(downloaded) && sizeOf(downloaded) == size);

        // the report page and the comparison of two of the job's calibrators
        List<String> reportIds = new ArrayList<>();
        job.path("reportIds").forEach(r -> reportIds.add(r.asString()));
        b.go("#/reports/" + report.path("id").asString());
        b.visible(".chart.layers[data-points='3']", SHORT);
        b.screenshot("report", null);
        String other = reportIds.stream().filter(r -> !r.equals(report.path("id").asString())
                && !r.equals(job.path("result").path("fp32ReportId").asString())).findFirst().orElseThrow();
        b.go("#/compare?ids=" + report.path("id").asString() + "," + other);
        WebElement metrics = b.visible("main table", SHORT);
        assertThat(metrics.getText()).contains("top-1").contains("B − A");
        b.screenshot("compare", null);

        // CIFAR: the accuracy × latency chart after the search, the Pareto front highlighted; a click opens a report
        JsonNode done = api().awaitJob(auto.json().path("id").asString(), Duration.ofMinutes(3));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        Set<String> front = new HashSet<>();
        api().get("/api/v1/models/" + cifar + "/reports?pareto=true").json().forEach(r -> front.add(r.path("id").asString()));
        b.go("#/models/" + cifar);
        WebElement pareto = b.visible(".chart.pareto[data-points]", SHORT);
        assertThat(pareto.getDomAttribute("data-front")).isEqualTo(String.valueOf(front.size()));
        assertThat(((Number) b.js("return arguments[0].qfChart.getOption().series[1].data.length", pareto)).intValue()).isEqualTo(front.size());
        b.screenshot("model-pareto", pareto.findElement(By.xpath("./ancestor::section")));
        hover(b, pareto, 1, null, "click to open the report");
        new Actions(b.driver).click().perform();
        b.until(SHORT, d -> d.getCurrentUrl().matches(".*#/reports/[0-9a-f-]{36}$"));
        String clicked = b.driver.getCurrentUrl().replaceAll(".*#/reports/", "");
        assertThat(front).contains(clicked);
        assertThat(b.visible("main h1", SHORT).getText()).startsWith("Report");

        // the QAT job's training curve: the result's steps
        JsonNode trained = api().awaitJob(qat.json().path("id").asString(), Duration.ofMinutes(3));
        assertThat(trained.path("state").asString()).as(trained.toString()).isEqualTo("succeeded");
        b.go("#/jobs/" + trained.path("id").asString());
        WebElement curve = b.visible(".chart.qat[data-steps]", SHORT);
        assertThat(curve.getDomAttribute("data-steps")).isEqualTo(String.valueOf(trained.path("result").path("steps").size())).isEqualTo("2");
        b.screenshot("job-qat", b.find(".result"));

        b.go("#/jobs/" + auto.json().path("id").asString());
        b.visible(".chart.pareto[data-points]", SHORT);
        b.screenshot("job-auto-quantize", b.find(".result"));
        // sensitivity: a bar per layer, re-ranked when another metric is chosen
        JsonNode ranked = api().awaitJob(sensitivity.json().path("id").asString(), Duration.ofMinutes(2));
        assertThat(ranked.path("state").asString()).as(ranked.toString()).isEqualTo("succeeded");
        b.go("#/jobs/" + ranked.path("id").asString());
        WebElement bars = b.visible(".chart.sensitivity[data-points]", SHORT);
        List<String> byScore = new ArrayList<>();
        ranked.path("result").path("layers").forEach(l -> byScore.add(l.path("node").asString()));
        assertThat(b.js("return arguments[0].qfChart.getOption().xAxis[0].data", bars)).isEqualTo(byScore);
        List<String> bySqnr = ranked.path("result").path("layers").valueStream()
                .sorted(java.util.Comparator.comparingDouble(l -> l.path("sqnrDb").asDouble())).map(l -> l.path("node").asString()).toList();
        new Select(b.find("select[aria-controls='sensitivity-chart']")).selectByValue("sqnrDb");
        b.until(SHORT, d -> bySqnr.equals(b.js("return arguments[0].qfChart.getOption().xAxis[0].data", bars)));
        b.screenshot("job-sensitivity", b.find(".result"));

        // cancel and retry from the job page (a benchmark long enough to catch running)
        Api.Res longJob = api().postJson("/api/v1/jobs", Map.of("type", "benchmark", "modelId", mnist,
                "config", Map.of("benchmark", Map.of("iterations", 1_000_000))));
        String longId = longJob.json().path("id").asString();
        b.go("#/jobs/" + longId);
        b.until(Duration.ofSeconds(30), d -> "running".equals(b.text(".title .badge")));
        b.visible(".title button.danger", SHORT).click();
        b.until(Duration.ofSeconds(30), d -> "cancelled".equals(b.text(".title .badge")));
        WebElement retry = b.visible(".title .buttons button:not(.danger)", SHORT);
        assertThat(retry.getText()).isEqualTo("Retry");
        retry.click();
        b.until(Duration.ofSeconds(30), d -> "running".equals(b.text(".title .badge")));
        b.until(SHORT, d -> b.find("ol.log").getText().contains("retry requested"));
        b.find(".title button.danger").click();
        b.until(Duration.ofSeconds(30), d -> "cancelled".equals(b.text(".title .badge")));

        // the jobs list, filtered by type
        b.go("#/jobs");
        b.visible("tr[data-id='" + ptq + "']", SHORT);
        b.screenshot("jobs", null);
        new Select(b.find("#filter-type")).selectByValue("qat");
        // (other test classes may have run qat jobs in this database)
        b.until(SHORT, d -> b.all("tr[data-id='" + trained.path("id").asString() + "']").size() == 1
                && b.all("tr[data-id]").stream().allMatch(r -> "qat".equals(r.getDomAttribute("data-type"))));
        assertThat(b.driver.getCurrentUrl()).endsWith("#/jobs?type=qat");

        // the one failed request on purpose: the junk model upload (400)
        assertThat(b.severeConsoleMessages()).as("browser console errors")
                .filteredOn(m -> !(m.contains("/api/v1/models - Failed to load resource") && m.contains("status of 400"))).isEmpty();
    }

    /** Uploads a dataset through the page and returns its id. */
    private String uploadDataset(Browser b, Path file, String expect) {
        int before = b.all(".upload-row.ok").size();
        b.find("input[type=file]").sendKeys(file.toAbsolutePath().toString());
        b.until(SHORT, d -> b.find("form.upload button[type=submit]").isEnabled());
        b.find("form.upload button[type=submit]").click();
        b.until(Duration.ofSeconds(30), d -> b.all(".upload-row.ok").size() > before);
        WebElement row = b.all(".upload-row.ok").get(0);
        assertThat(row.getText()).contains(file.getFileName().toString()).contains(expect);
        String href = row.findElement(By.cssSelector(".status a")).getDomAttribute("href");
        return href.replace("#/datasets/", "");
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static boolean isLoaded(Browser b, WebElement img) {
        return Boolean.TRUE.equals(b.js("return arguments[0].complete && arguments[0].naturalWidth > 0", img));
    }

    /**
     * Moves the mouse onto a chart's data point (series {@code series}; the point with category {@code category}, or the
     * series' first point), waits for the tooltip to show {@code expect} and returns its text.
     */
    private static String hover(Browser b, WebElement chart, int series, String category, String expect) {
        @SuppressWarnings("unchecked")
        List<Number> xy = (List<Number>) b.js("""
                const c = arguments[0].qfChart, s = arguments[1], cat = arguments[2];
                const o = c.getOption();
                const d = o.series[s].data;
                let p;
                if (cat !== null) {
                  const i = o.xAxis[0].data.indexOf(cat);
                  p = c.convertToPixel({ seriesIndex: s }, [i, d[i] ?? 0]);
                } else {
                  p = c.convertToPixel({ seriesIndex: s }, d[0].value);
                }
                const r = arguments[0].getBoundingClientRect();
                return [p[0] - r.width / 2, p[1] - r.height / 2];
                """, chart, series, category);
        new Actions(b.driver).moveToElement(chart, xy.get(0).intValue(), xy.get(1).intValue()).perform();
        return b.until(SHORT, d -> {
            for (WebElement tip : chart.findElements(By.cssSelector("div"))) {
                String text = tip.isDisplayed() ? tip.getText() : "";
                if (text.contains(expect)) {
                    return text;
                }
            }
            return null;
        });
    }
}
