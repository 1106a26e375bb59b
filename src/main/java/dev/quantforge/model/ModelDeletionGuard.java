package dev.quantforge.model;

import java.util.UUID;

/**
 * Lets the job package veto deleting a model that a queued or running job still needs, and
 * remove the finished jobs (and their reports and artifacts) that refer to it, without this
 * package depending on jobs.
 */
public interface ModelDeletionGuard {

    /** Throws a 409 ApiException when an active job uses the model. */
    void checkModelDeletable(UUID modelId);

    /** Deletes the finished jobs of the model (with their reports and artifacts). */
    void deleteModelJobs(UUID modelId);
}
