package dev.quantforge.storage;

import java.io.IOException;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Whether anything still needs a blob: a live model or dataset, or a job's artifact. Content
 * addressing lets one blob serve several of them, so a delete removes the bytes only when the last
 * one goes.
 */
@Component
public class BlobReferences {

    private final JdbcClient jdbc;
    private final BlobStore blobs;

    public BlobReferences(JdbcClient jdbc, BlobStore blobs) {
        this.jdbc = jdbc;
        this.blobs = blobs;
    }

    public boolean isReferenced(String sha256) {
        return jdbc.sql("select exists(select 1 from model where sha256 = :s and deleted_at is null) "
                        + "or exists(select 1 from dataset where (sha256 = :s or tokenizer_sha256 = :s) and deleted_at is null) "
                        + "or exists(select 1 from artifact where sha256 = :s)")
                .param("s", sha256).query(Boolean.class).single();
    }

    /** Removes the blob when nothing references it any more; returns whether it was removed. */
    public boolean deleteIfUnreferenced(String sha256) throws IOException {
        if (isReferenced(sha256)) {
            return false;
        }
        blobs.delete(sha256);
        return true;
    }
}
