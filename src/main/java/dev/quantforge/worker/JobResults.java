package dev.quantforge.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;

import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import tools.jackson.databind.ObjectMapper;

import dev.quantforge.artifact.ArtifactRepository;
import dev.quantforge.job.JobLogRepository;
import dev.quantforge.job.JobRepository;
import dev.quantforge.report.ReportRepository;
import dev.quantforge.storage.BlobReferences;
import dev.quantforge.storage.BlobStore;

/**
 * Stores a finished job's outcome in one transaction, fenced by the worker's lease: reports and
 * artifacts are upserted (a re-run replaces, never duplicates) and the job becomes succeeded —
 * or nothing is written when the worker lost its lease meanwhile.
 */
@Component
public class JobResults {

    private final JobRepository jobs;
    private final JobLogRepository logs;
    private final ReportRepository reports;
    private final ArtifactRepository artifacts;
    private final BlobStore blobs;
    private final BlobReferences references;
    private final ObjectMapper json;

    public JobResults(JobRepository jobs, JobLogRepository logs, ReportRepository reports, ArtifactRepository artifacts,
                      BlobStore blobs, BlobReferences references, ObjectMapper json) {
        this.references = references;
        this.jobs = jobs;
        this.logs = logs;
        this.reports = reports;
        this.artifacts = artifacts;
        this.blobs = blobs;
        this.json = json;
    }

    /**
     * Stores one report while the job runs (a sensitivity probe, a search trial), so a restarted
     * job resumes after it and a cancelled one keeps it. Empty when the worker lost the job.
     */
    @Transactional
    public java.util.Optional<UUID> saveReport(UUID jobId, UUID modelId, String workerId, JobOutcome.ReportDraft r) {
        if (!jobs.lockIfHeld(jobId, workerId)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(reports.upsert(jobId, modelId, r.config(), r.metrics(), r.runtime(), r.layers()));
    }

    /** Returns false (and writes nothing) when {@code workerId} no longer holds the job. */
    @Transactional
    public boolean complete(UUID jobId, UUID modelId, String workerId, JobOutcome outcome) {
        // hashed (and staged) before the lock; made visible inside this transaction under the content's lock, so a
        // garbage collection of the same bytes cannot remove them before the artifact rows commit (BlobReferences)
        java.util.Map<JobOutcome.ArtifactDraft, BlobStore.Staged> staged = new java.util.IdentityHashMap<>();
        try {
            for (JobOutcome.ArtifactDraft a : outcome.artifacts()) {
                try {
                    staged.put(a, blobs.stageCopy(a.file()));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot store artifact " + a.name(), e);
                }
            }
            if (!jobs.lockIfHeld(jobId, workerId)) {
                return false;
            }
            // a re-run replaces an artifact's bytes: the old ones go once nothing else references them (after commit)
            java.util.Map<String, String> before = new java.util.HashMap<>();
            artifacts.forJob(jobId).forEach(x -> before.put(x.kind() + "/" + x.name(), x.sha256()));
            for (JobOutcome.ArtifactDraft a : outcome.artifacts()) {
                BlobStore.Staged blob = staged.get(a);
                try {
                    references.lock(blob.sha256());
                    blob.commit();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot store artifact " + a.name(), e);
                }
                UUID id = artifacts.upsert(jobId, a.kind(), a.name(), blob.sha256(), blob.size());
                String replaced = before.get(a.kind() + "/" + a.name());
                if (replaced != null && !replaced.equals(blob.sha256())) {
                    references.deleteIfUnreferenced(replaced);
                }
                if (a.resultField() != null) {
                    outcome.result().put(a.resultField(), id.toString());
                }
            }
            for (JobOutcome.ReportDraft r : outcome.reports()) {
                UUID id = reports.upsert(jobId, modelId, r.config(), r.metrics(), r.runtime(), r.layers());
                if (r.resultField() != null) {
                    outcome.result().put(r.resultField(), id.toString());
                }
            }
            boolean done = jobs.complete(jobId, workerId, json.writeValueAsString(outcome.result()));
            if (done) {
                logs.append(jobId, "INFO", "succeeded");
            }
            return done;
        } finally {
            for (BlobStore.Staged blob : staged.values()) {
                try {
                    blob.close();
                } catch (IOException e) {
                    // a temp file the cleaner removes
                }
            }
        }
    }
}
