package dev.quantforge.dashboard;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's headless Chromium driven through the system chromedriver (never a downloaded one), at
 * 1280×800, with a fresh profile. Missing browser: the test is skipped, or fails when
 * {@code REQUIRE_BROWSER=true} (CI).
 */
final class Browser implements AutoCloseable {

    static final String CHROMIUM = System.getenv().getOrDefault("CHROMIUM_BIN", "/usr/bin/chromium");
    static final String CHROMEDRIVER = System.getenv().getOrDefault("CHROMEDRIVER_BIN", "/usr/bin/chromedriver");

    /** Where screenshots go: always target/screenshots; docs/screenshots too with -Dqf.screenshots=update. */
    private static final Path SHOTS = Path.of("target", "screenshots");
    private static final Path DOC_SHOTS = Path.of("docs", "screenshots");

    final ChromeDriver driver;
    final String base;
    private final Path profile;

    private Browser(ChromeDriver driver, String base, Path profile) {
        this.driver = driver;
        this.base = base;
        this.profile = profile;
    }

    /** Skips (or, with REQUIRE_BROWSER=true, fails) when chromium or chromedriver is missing. */
    static void assumeAvailable() {
        boolean present = new File(CHROMIUM).canExecute() && new File(CHROMEDRIVER).canExecute();
        if (present) {
            return;
        }
        String message = "browser tests need Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                + "): apt-get install -y chromium chromium-driver";
        if ("true".equalsIgnoreCase(System.getenv("REQUIRE_BROWSER"))) {
            throw new IllegalStateException(message + " (REQUIRE_BROWSER=true)");
        }
        // a class aborted in @BeforeAll counts as 0 tests in Maven's summary: say why on the console too
        System.err.println("[WARNING] dashboard browser tests SKIPPED: " + message + " (REQUIRE_BROWSER=true makes this a failure)");
        Assumptions.abort(message);
    }

    static Browser open(int port) {
        assumeAvailable();
        try {
            Path profile = Files.createTempDirectory("qf-chromium-");
            ChromeOptions o = new ChromeOptions();
            o.setBinary(CHROMIUM);
            o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,800", "--lang=en-GB");
            Files.createDirectories(profile.resolve("downloads"));
            o.setExperimentalOption("prefs", java.util.Map.of("download.default_directory", profile.resolve("downloads").toString(),
                    "download.prompt_for_download", false));
            LoggingPreferences logs = new LoggingPreferences();
            logs.enable(LogType.BROWSER, Level.ALL);
            o.setCapability("goog:loggingPrefs", logs);
            // with the driver executable given, Selenium's DriverFinder takes it and never runs Selenium Manager
            // (which would try to download a driver and a browser)
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER))
                    .usingAnyFreePort().build();
            ChromeDriver driver = new ChromeDriver(service, o);
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
            // the window includes headless chrome's (invisible) frame: size it so that the page gets 1280×800
            @SuppressWarnings("unchecked")
            List<Number> frame = (List<Number>) driver.executeScript(
                    "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]");
            driver.manage().window().setSize(new Dimension(1280 + frame.get(0).intValue(), 800 + frame.get(1).intValue()));
            return new Browser(driver, "http://127.0.0.1:" + port + "/", profile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the browser saves downloads. */
    Path downloads() {
        return profile.resolve("downloads");
    }

    /** Opens a dashboard route ("#/models"). */
    void go(String hash) {
        String url = base + hash;
        if (driver.getCurrentUrl() != null && driver.getCurrentUrl().startsWith(base)) {
            js("location.hash = arguments[0]", hash);
        } else {
            driver.get(url);
        }
    }

    <T> T until(Duration timeout, Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, timeout, Duration.ofMillis(100)).ignoring(StaleElementReferenceException.class).until(condition);
    }

    WebElement visible(String css, Duration timeout) {
        return until(timeout, d -> {
            for (WebElement e : d.findElements(By.cssSelector(css))) {
                if (e.isDisplayed()) {
                    return e;
                }
            }
            return null;
        });
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    /** The text of the first element matching css, read in the page (no stale references while it re-renders). */
    String text(String css) {
        return (String) js("const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null", css);
    }

    List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Scrolls el into view and saves a 1280×800 screenshot of the viewport. */
    void screenshot(String name, WebElement scrollTo) {
        if (scrollTo != null) {
            js("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -12);", scrollTo);
        } else {
            js("window.scrollTo(0, 0)");
        }
        js("document.activeElement && document.activeElement.blur && document.activeElement.blur()");
        try {
            Thread.sleep(250); // charts draw on the next animation frame
            byte[] png = driver.getScreenshotAs(OutputType.BYTES);
            Files.createDirectories(SHOTS);
            Files.write(SHOTS.resolve(name + ".png"), png);
            if ("update".equals(System.getProperty("qf.screenshots"))) {
                Files.createDirectories(DOC_SHOTS);
                Files.write(DOC_SHOTS.resolve(name + ".png"), png);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Console messages of level SEVERE (uncaught errors, failed module loads) since the last call. */
    List<String> severeConsoleMessages() {
        List<String> out = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                out.add(e.getMessage());
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (var walk = Files.walk(profile)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temp profile left behind is harmless
            }
        }
    }
}
