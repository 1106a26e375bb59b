package dev.quantforge.dataset;

import java.util.UUID;

/**
 * Lets the job package veto deleting a dataset that a queued or running job still reads, without
 * this package depending on jobs. Finished jobs keep their results and the dataset's id: a deleted
 * dataset's record stays.
 */
public interface DatasetDeletionGuard {

    /** Throws a 409 ApiException when an active job uses the dataset. */
    void checkDatasetDeletable(UUID datasetId);
}
