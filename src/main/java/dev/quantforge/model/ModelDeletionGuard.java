package dev.quantforge.model;

import java.util.UUID;

/**
 * Lets the job package veto deleting a model that a queued or running job still needs, without
 * this package depending on jobs. Finished jobs keep their results: a deleted model's record stays.
 */
public interface ModelDeletionGuard {

    /** Throws a 409 ApiException when an active job uses the model. */
    void checkModelDeletable(UUID modelId);
}
