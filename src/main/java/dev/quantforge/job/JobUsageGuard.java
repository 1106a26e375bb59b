package dev.quantforge.job;

import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.quantforge.dataset.DatasetDeletionGuard;
import dev.quantforge.model.ModelDeletionGuard;
import dev.quantforge.platform.ApiException;

/** Keeps models and datasets that queued or running jobs need from being deleted under them. */
@Component
public class JobUsageGuard implements ModelDeletionGuard, DatasetDeletionGuard {

    private final JobRepository jobs;

    public JobUsageGuard(JobRepository jobs) {
        this.jobs = jobs;
    }

    @Override
    public void checkModelDeletable(UUID modelId) {
        if (jobs.existsActiveForModel(modelId)) {
            throw ApiException.conflict("model " + modelId + " is used by a queued or running job; cancel that job or wait for it to finish");
        }
    }

    @Override
    public void checkDatasetDeletable(UUID datasetId) {
        if (jobs.existsActiveForDataset(datasetId)) {
            throw ApiException.conflict("dataset " + datasetId + " is used by a queued or running job; cancel that job or wait for it to finish");
        }
    }
}
