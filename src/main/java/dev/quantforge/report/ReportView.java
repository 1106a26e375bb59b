package dev.quantforge.report;

import java.time.Instant;
import java.util.UUID;

import tools.jackson.databind.JsonNode;

/** One measured layer configuration (docs/API.md "Report"). */
public record ReportView(UUID id, UUID jobId, UUID modelId, String configHash, JsonNode config, JsonNode metrics,
                         JsonNode runtime, JsonNode layers, Instant createdAt) {
}
