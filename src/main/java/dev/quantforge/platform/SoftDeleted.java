package dev.quantforge.platform;

import java.time.Instant;
import java.util.UUID;

import jakarta.persistence.Column;
import jakarta.persistence.MappedSuperclass;

/**
 * An uploaded input (model, dataset) of a project whose record outlives a delete: {@code deleted_at} is set, the
 * bytes are removed, and the jobs that used it keep its id.
 */
@MappedSuperclass
public abstract class SoftDeleted {

    /** The project that uploaded it (the same bytes uploaded by another project are another row, one blob). */
    @Column(name = "project_id", nullable = false, updatable = false)
    private UUID projectId;

    protected SoftDeleted() {
    }

    protected SoftDeleted(UUID projectId) {
        this.projectId = java.util.Objects.requireNonNull(projectId, "projectId");
    }

    public UUID getProjectId() {
        return projectId;
    }

    @Column(name = "deleted_at")
    private Instant deletedAt;

    public Instant getDeletedAt() {
        return deletedAt;
    }

    public boolean isDeleted() {
        return deletedAt != null;
    }

    public void markDeleted(Instant when) {
        this.deletedAt = when;
    }
}
