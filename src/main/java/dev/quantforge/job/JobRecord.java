package dev.quantforge.job;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * One row of the job table (JSON columns as text; requestHash: canonical hash of the submitted body, for Idempotency-Key
 * reuse; projectId: the project that submitted it).
 */
public record JobRecord(
        UUID id,
        String type,
        JobState state,
        UUID modelId,
        UUID calibrationDatasetId,
        UUID evaluationDatasetId,
        UUID trainingDatasetId,
        String configJson,
        int priority,
        List<String> requirements,
        int attempts,
        int maxAttempts,
        String idempotencyKey,
        String leaseOwner,
        String workerId,
        Instant leaseExpiresAt,
        boolean cancelRequested,
        double progressFraction,
        String progressPhase,
        String progressMessage,
        String resultJson,
        String errorCode,
        String errorMessage,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        Instant updatedAt,
        String requestHash,
        UUID projectId) {
}
