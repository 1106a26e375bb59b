package dev.quantforge.model;

import java.time.Instant;
import java.util.UUID;

import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import dev.quantforge.platform.SoftDeleted;

/** An uploaded ONNX model; its bytes live in the blob store under {@link #sha256}. */
@Entity
@Table(name = "model")
public class ModelEntity extends SoftDeleted {

    @Id
    private UUID id;

    @Column(nullable = false)
    private String name;

    @Column(nullable = false)
    private String sha256;

    @Column(name = "size_bytes", nullable = false)
    private long sizeBytes;

    /** The inspected summary (irVersion, opset, inputs, outputs, opTypes, quantizableNodes) as JSON. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false, columnDefinition = "jsonb")
    private String summary;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    protected ModelEntity() {
    }

    public ModelEntity(UUID projectId, UUID id, String name, String sha256, long sizeBytes, String summary, Instant createdAt) {
        super(projectId);
        this.id = id;
        this.name = name;
        this.sha256 = sha256;
        this.sizeBytes = sizeBytes;
        this.summary = summary;
        this.createdAt = createdAt;
    }

    public UUID getId() {
        return id;
    }

    public String getName() {
        return name;
    }

    public String getSha256() {
        return sha256;
    }

    public long getSizeBytes() {
        return sizeBytes;
    }

    public String getSummary() {
        return summary;
    }

    public Instant getCreatedAt() {
        return createdAt;
    }
}
