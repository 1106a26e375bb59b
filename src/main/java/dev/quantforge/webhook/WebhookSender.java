package dev.quantforge.webhook;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import tools.jackson.databind.ObjectMapper;

import dev.quantforge.job.JobRecord;
import dev.quantforge.job.JobRepository;
import dev.quantforge.job.JobService;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.report.ReportRepository;

/**
 * Sends due webhook deliveries (in processes with role {@code api}): POST of the job as {@code GET /jobs/{id}} shows it
 * (report.created: the report as {@code GET /reports/{id}} shows it), signed ({@link WebhookSignature}). A 2xx answer
 * delivers it; anything else — an error status, a refused connection, a timeout — is retried with exponential backoff
 * until {@code maxAttempts}. At least once: a receiver de-duplicates on {@code X-Quantforge-Event-Id}.
 */
@Component
public class WebhookSender implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
    private static final int BATCH = 16;

    private final WebhookRepository deliveries;
    private final JobRepository jobs;
    private final JobService jobService;
    private final ReportRepository reports;
    private final ObjectMapper json;
    private final QfProperties props;
    private final HttpClient http;
    private ScheduledExecutorService scheduler;

    public WebhookSender(WebhookRepository deliveries, JobRepository jobs, JobService jobService, ReportRepository reports, ObjectMapper json,
                         QfProperties props) {
        this.deliveries = deliveries;
        this.jobs = jobs;
        this.jobService = jobService;
        this.reports = reports;
        this.json = json;
        this.props = props;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(Math.min(5000, props.webhooks().timeoutMillis())))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** One pass: sends every due delivery it can claim; returns how many it attempted. */
    public int sendDue() {
        QfProperties.Webhooks cfg = props.webhooks();
        double claimSeconds = cfg.timeoutMillis() / 1000.0 * BATCH + 30;
        List<WebhookRepository.Claimed> due = deliveries.claimDue(BATCH, claimSeconds);
        for (int i = 0; i < due.size(); i++) {
            if (Thread.currentThread().isInterrupted()) {
                due.subList(i, due.size()).forEach(d -> deliveries.release(d.id()));
                break;
            }
            send(due.get(i), cfg);
        }
        return due.size();
    }

    private void send(WebhookRepository.Claimed d, QfProperties.Webhooks cfg) {
        String body = d.payload();
        if (body == null) {
            Optional<String> rendered = render(d);
            if (rendered.isEmpty()) {
                deliveries.attemptFailed(d.id(), null, "the job or report no longer exists", 0, 1);
                return;
            }
            body = deliveries.fixPayload(d.id(), rendered.get());
        }
        Optional<String> refused;
        try {
            refused = WebhookAddresses.refusal(d.url(), cfg.allowPrivateAddresses());
        } catch (IllegalArgumentException e) {
            refused = Optional.of("the URL cannot be requested: " + e.getMessage());
        }
        if (refused.isPresent()) {
            // checked again at every delivery: the receiver's name may resolve to an internal address by now
            failed(d, cfg, null, "refused: " + refused.get());
            return;
        }
        long timestamp = System.currentTimeMillis() / 1000;
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(d.url())).timeout(Duration.ofMillis(cfg.timeoutMillis()))
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "Quantforge-Webhooks")
                    .header(WebhookSignature.EVENT, d.event())
                    .header(WebhookSignature.EVENT_ID, d.id().toString())
                    .header(WebhookSignature.DELIVERY, d.id().toString())
                    .header(WebhookSignature.TIMESTAMP, Long.toString(timestamp))
                    .header(WebhookSignature.ATTEMPT, Integer.toString(d.attempts() + 1))
                    .header(WebhookSignature.HEADER, WebhookSignature.sign(d.secret(), timestamp, body))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        } catch (IllegalArgumentException e) {
            deliveries.attemptFailed(d.id(), null, "the URL cannot be requested: " + e.getMessage(), 0, 1);
            return;
        }
        try {
            HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() / 100 == 2) {
                deliveries.delivered(d.id(), r.statusCode());
                log.debug("webhook delivery {} ({} of job {}) delivered to {}: {}", d.id(), d.event(), d.jobId(), d.url(), r.statusCode());
            } else {
                failed(d, cfg, r.statusCode(), "the receiver answered " + r.statusCode());
            }
        } catch (InterruptedException e) {
            deliveries.release(d.id());
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            failed(d, cfg, null, (e instanceof java.net.http.HttpTimeoutException ? "timed out after " + cfg.timeoutMillis() + " ms" : e.toString()));
        }
    }

    private void failed(WebhookRepository.Claimed d, QfProperties.Webhooks cfg, Integer status, String error) {
        int attempt = d.attempts() + 1;
        double retry = Math.min((double) cfg.retryMaxMillis(), cfg.retryInitialMillis() * Math.pow(2, attempt - 1)) / 1000.0;
        deliveries.attemptFailed(d.id(), status, error, retry, cfg.maxAttempts());
        log.info("webhook delivery {} ({} of job {}) to {} failed (attempt {} of {}): {}{}", d.id(), d.event(), d.jobId(), d.url(), attempt,
                cfg.maxAttempts(), error, attempt < cfg.maxAttempts() ? "; retried in " + retry + " s" : "; given up");
    }

    /** The body: the job (or report) as the API shows it now — fixed at the first attempt. */
    private Optional<String> render(WebhookRepository.Claimed d) {
        if (d.reportId() != null) {
            return reports.find(d.reportId()).map(json::writeValueAsString);
        }
        Optional<JobRecord> job = jobs.find(d.jobId());
        return job.map(j -> json.writeValueAsString(jobService.view(j)));
    }

    @Override
    public void start() {
        if (!props.hasRole("api")) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "webhook-sender");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                while (sendDue() == BATCH && !Thread.currentThread().isInterrupted()) {
                    // a full batch: more may be due at once
                }
            } catch (RuntimeException e) {
                log.warn("webhook sender pass failed: {}", e.toString());
            }
        }, props.webhooks().pollMillis(), props.webhooks().pollMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
    }

    @Override
    public boolean isRunning() {
        return scheduler != null;
    }
}
