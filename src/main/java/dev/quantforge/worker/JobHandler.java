package dev.quantforge.worker;

import dev.quantforge.job.JobTypeSpec;

/**
 * Runs one job type: adapts the job's config to an engine call and turns the engine's result
 * into a job result, reports and artifacts. The same handler runs in-process and in a remote
 * worker; only the {@link JobExecution} differs.
 */
public interface JobHandler extends JobTypeSpec {

    /**
     * @throws dev.quantforge.quant.progress.CancelledException when cancel was requested (via progress)
     * @throws dev.quantforge.quant.InvalidInputException    for bad input: the job fails without retry
     */
    JobOutcome run(JobExecution execution) throws Exception;
}
