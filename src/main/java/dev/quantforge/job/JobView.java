package dev.quantforge.job;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import tools.jackson.databind.JsonNode;

/**
 * A job as the API shows it (docs/API.md "Job"). {@code deletedInputs} names the input fields
 * ("modelId", "calibrationDatasetId", ...) whose model or dataset was deleted since: the ids stay.
 */
public record JobView(
        UUID id,
        String type,
        String state,
        UUID modelId,
        UUID calibrationDatasetId,
        UUID evaluationDatasetId,
        UUID trainingDatasetId,
        JsonNode config,
        int priority,
        Progress progress,
        int attempts,
        int maxAttempts,
        String workerId,
        List<String> requirements,
        boolean cancelRequested,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        Error error,
        JsonNode result,
        List<ArtifactRef> artifacts,
        List<UUID> reportIds,
        List<String> deletedInputs) {

    public record Progress(double fraction, String phase, String message) {
    }

    public record Error(String code, String message) {
    }

    public record ArtifactRef(UUID id, String kind, String name, String sha256, long sizeBytes) {
    }
}
