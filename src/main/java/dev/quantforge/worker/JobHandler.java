package dev.quantforge.worker;

import dev.quantforge.job.JobTypeSpec;

/**
 * Runs one job type: an adapter from a job (its typed config and inputs) to an engine call, and from
 * the engine's typed outcome to a job result, reports and artifacts. It declares its type
 * ({@link JobTypeSpec}) for submission. The same handler runs in-process and in a remote worker; only
 * the {@link JobExecution} differs.
 */
public interface JobHandler extends JobTypeSpec.Declared {

    /**
     * @throws dev.quantforge.quant.progress.CancelledException when cancel was requested (via progress)
     * @throws dev.quantforge.quant.InvalidInputException      for bad input: the job fails without retry
     */
    JobOutcome run(JobExecution execution) throws Exception;

    default String type() {
        return spec().type();
    }
}
