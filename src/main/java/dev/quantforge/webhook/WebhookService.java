package dev.quantforge.webhook;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.ApiException.FieldError;
import dev.quantforge.platform.access.ProjectAccess;

/** A project's webhooks: registered with the events they want, a secret to verify signatures, a delivery log. */
@Service
public class WebhookService {

    private static final Logger log = LoggerFactory.getLogger(WebhookService.class);

    /** The events a webhook may ask for (job.progress is not one: progress goes over SSE, GET /jobs/{id}/events). */
    public static final List<String> EVENTS = List.of("job.succeeded", "job.failed", "job.cancelled", "report.created");

    private final WebhookRepository webhooks;
    private final SecureRandom random = new SecureRandom();

    private final dev.quantforge.platform.QfProperties props;

    public WebhookService(WebhookRepository webhooks, dev.quantforge.platform.QfProperties props) {
        this.props = props;
        this.webhooks = webhooks;
    }

    public record NewWebhook(String url, List<String> events) {
    }

    public record WebhookView(UUID id, UUID projectId, String url, List<String> events, Instant createdAt) {
    }

    /** The answer to registering a webhook: the only time its secret is shown. */
    public record CreatedWebhook(UUID id, UUID projectId, String url, List<String> events, Instant createdAt, String secret) {
    }

    public CreatedWebhook create(NewWebhook body) {
        if (body == null) {
            throw ApiException.badRequest("send {\"url\": \"https://ci.example/hook\", \"events\": [\"job.succeeded\", \"job.failed\"]}");
        }
        List<FieldError> errors = new ArrayList<>();
        String url = body.url() == null ? null : body.url().trim();
        if (url == null || url.isEmpty()) {
            errors.add(new FieldError("url", "is required: the http(s) URL deliveries are POSTed to"));
        } else {
            try {
                URI u = new URI(url);
                if (!("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme())) || u.getHost() == null
                        || u.getUserInfo() != null || url.length() > 2000) {
                    errors.add(new FieldError("url", "must be an absolute http or https URL with a host (no user info), at most 2000 characters"));
                } else {
                    WebhookAddresses.refusal(url, props.webhooks().allowPrivateAddresses())
                            .ifPresent(why -> errors.add(new FieldError("url", "deliveries cannot go there: " + why)));
                }
            } catch (java.net.URISyntaxException e) {
                errors.add(new FieldError("url", "is not a URL: " + e.getMessage()));
            }
        }
        Set<String> events = new LinkedHashSet<>();
        if (body.events() == null || body.events().isEmpty()) {
            errors.add(new FieldError("events", "is required: one or more of " + String.join(", ", EVENTS)));
        } else {
            for (String e : body.events()) {
                if (EVENTS.contains(e)) {
                    events.add(e);
                } else {
                    errors.add(new FieldError("events", "unknown event '" + e + "'; events are " + String.join(", ", EVENTS)
                            + ("job.progress".equals(e) ? " (progress is streamed: GET /api/v1/jobs/{id}/events)" : "")));
                }
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String secret = "whsec_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        WebhookRepository.Webhook w = new WebhookRepository.Webhook(UUID.randomUUID(), ProjectAccess.current(), url,
                List.copyOf(events), secret, null);
        webhooks.insert(w);
        WebhookRepository.Webhook stored = webhooks.find(w.projectId(), w.id()).orElseThrow();
        log.info("webhook {} of project {} registered: {} for {}", w.id(), w.projectId(), url, events);
        return new CreatedWebhook(stored.id(), stored.projectId(), stored.url(), stored.events(), stored.createdAt(), secret);
    }

    public List<WebhookView> list() {
        return webhooks.list(ProjectAccess.current()).stream().map(WebhookService::view).toList();
    }

    public WebhookView get(UUID id) {
        return view(own(id));
    }

    public void delete(UUID id) {
        own(id);
        webhooks.delete(id);
        log.info("webhook {} deleted", id);
    }

    public List<WebhookRepository.Delivery> deliveries(UUID id, int limit) {
        own(id);
        if (limit < 1 || limit > 1000) {
            throw ApiException.invalid(List.of(new FieldError("limit", "must be between 1 and 1000")));
        }
        return webhooks.deliveries(id, limit);
    }

    private WebhookRepository.Webhook own(UUID id) {
        return webhooks.find(ProjectAccess.current(), id).orElseThrow(() -> ApiException.notFound("webhook", id));
    }

    private static WebhookView view(WebhookRepository.Webhook w) {
        return new WebhookView(w.id(), w.projectId(), w.url(), w.events(), w.createdAt());
    }
}
