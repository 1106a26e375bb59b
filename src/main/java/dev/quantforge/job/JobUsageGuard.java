package dev.quantforge.job;

import java.util.UUID;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import dev.quantforge.dataset.DatasetDeletionGuard;
import dev.quantforge.model.ModelDeletionGuard;
import dev.quantforge.platform.ApiException;

/** Keeps models and datasets that queued or running jobs need from being deleted under them. */
@Component
public class JobUsageGuard implements ModelDeletionGuard, DatasetDeletionGuard {

    private final JobRepository jobs;
    private final JdbcClient jdbc;

    public JobUsageGuard(JobRepository jobs, JdbcClient jdbc) {
        this.jobs = jobs;
        this.jdbc = jdbc;
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

    /** A model's jobs and results go with it (reports reference the model). */
    @Override
    @Transactional
    public void deleteModelJobs(UUID modelId) {
        jdbc.sql("delete from report where model_id = :id").param("id", modelId).update();
        jdbc.sql("delete from job where model_id = :id").param("id", modelId).update();
    }
}
