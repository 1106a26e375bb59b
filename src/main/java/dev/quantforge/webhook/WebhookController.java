package dev.quantforge.webhook;

import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/api/v1/webhooks")
@Tag(name = "webhooks", description = "Signed event deliveries to your URLs (job.succeeded, job.failed, job.cancelled, report.created)")
public class WebhookController {

    private final WebhookService service;

    public WebhookController(WebhookService service) {
        this.service = service;
    }

    @PostMapping
    @Operation(operationId = "createWebhook", summary = "Register a webhook {url, events}; the answer holds its signing secret (shown once)")
    public ResponseEntity<WebhookService.CreatedWebhook> create(@RequestBody(required = false) WebhookService.NewWebhook body) {
        return ResponseEntity.status(HttpStatus.CREATED).body(service.create(body));
    }

    @GetMapping
    @Operation(operationId = "listWebhooks", summary = "The project's webhooks")
    public List<WebhookService.WebhookView> list() {
        return service.list();
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getWebhook", summary = "One webhook")
    public WebhookService.WebhookView get(@PathVariable UUID id) {
        return service.get(id);
    }

    @DeleteMapping("/{id}")
    @Operation(operationId = "deleteWebhook", summary = "Delete a webhook (its pending deliveries are dropped)")
    public ResponseEntity<Void> delete(@PathVariable UUID id) {
        service.delete(id);
        return ResponseEntity.noContent().build();
    }

    @GetMapping("/{id}/deliveries")
    @Operation(operationId = "listWebhookDeliveries", summary = "The delivery log, newest first: event, state, attempts, last response code")
    public List<WebhookRepository.Delivery> deliveries(@PathVariable UUID id, @RequestParam(defaultValue = "100") int limit) {
        return service.deliveries(id, limit);
    }
}
