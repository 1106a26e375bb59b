package dev.quantforge.platform;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.MappedSuperclass;

/**
 * An uploaded input (model, dataset) whose record outlives a delete: {@code deleted_at} is set, the
 * bytes are removed, and the jobs that used it keep its id.
 */
@MappedSuperclass
public abstract class SoftDeleted {

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
