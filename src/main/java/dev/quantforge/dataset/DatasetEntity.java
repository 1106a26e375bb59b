package dev.quantforge.dataset;

import java.time.Instant;
import java.util.UUID;

import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import dev.quantforge.platform.SoftDeleted;

/** An uploaded dataset (npz, npy, image-folder zip or text) with the preprocessing or tokenizer it is read with. */
@Entity
@Table(name = "dataset")
public class DatasetEntity extends SoftDeleted {

    @Id
    private UUID id;

    @Column(nullable = false)
    private String name;

    @Column(nullable = false)
    private String sha256;

    /** sha256 + format + canonical preprocessing: the same bytes read another way are another dataset. */
    @Column(name = "dedupe_key", nullable = false)
    private String dedupeKey;

    @Column(nullable = false)
    private String format;

    @Column(name = "size_bytes", nullable = false)
    private long sizeBytes;

    @Column(name = "sample_count", nullable = false)
    private long sampleCount;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false, columnDefinition = "jsonb")
    private String tensors;

    @Column(name = "has_labels", nullable = false)
    private boolean hasLabels;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "class_names", columnDefinition = "jsonb")
    private String classNames;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(columnDefinition = "jsonb")
    private String preprocessing;

    /** A text dataset's tokenizer.json (a blob of its own); null for other formats. */
    @Column(name = "tokenizer_sha256")
    private String tokenizerSha256;

    /** A text dataset's options and scan results (DatasetService.textView); null for other formats. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "text_options", columnDefinition = "jsonb")
    private String textOptions;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    protected DatasetEntity() {
    }

    public DatasetEntity(UUID projectId, UUID id, String name, String sha256, String dedupeKey, String format, long sizeBytes,
                         long sampleCount, String tensors, boolean hasLabels, String classNames, String preprocessing,
                         String tokenizerSha256, String textOptions, Instant createdAt) {
        super(projectId);
        this.id = id;
        this.name = name;
        this.sha256 = sha256;
        this.dedupeKey = dedupeKey;
        this.format = format;
        this.sizeBytes = sizeBytes;
        this.sampleCount = sampleCount;
        this.tensors = tensors;
        this.hasLabels = hasLabels;
        this.classNames = classNames;
        this.preprocessing = preprocessing;
        this.tokenizerSha256 = tokenizerSha256;
        this.textOptions = textOptions;
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

    public String getDedupeKey() {
        return dedupeKey;
    }

    public String getFormat() {
        return format;
    }

    public long getSizeBytes() {
        return sizeBytes;
    }

    public long getSampleCount() {
        return sampleCount;
    }

    public String getTensors() {
        return tensors;
    }

    public boolean isHasLabels() {
        return hasLabels;
    }

    public String getClassNames() {
        return classNames;
    }

    public String getPreprocessing() {
        return preprocessing;
    }

    public String getTokenizerSha256() {
        return tokenizerSha256;
    }

    public String getTextOptions() {
        return textOptions;
    }

    public Instant getCreatedAt() {
        return createdAt;
    }
}
