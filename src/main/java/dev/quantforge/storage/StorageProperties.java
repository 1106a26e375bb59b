package dev.quantforge.storage;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;

/**
 * Where blobs live ({@code qf.storage.*}; the README's configuration table lists the variables). The defaults'
 * one place is here: application.yml leaves unset variables empty.
 *
 * @param type {@code filesystem} (the default: {@code <dataDir>/blobs}) or {@code s3}
 */
@Validated
@ConfigurationProperties(prefix = "qf.storage")
public record StorageProperties(Type type, @Valid S3 s3) {

    public enum Type { filesystem, s3 }

    public StorageProperties {
        type = type == null ? Type.filesystem : type;
        s3 = s3 == null ? new S3(null, null, null, null, null, null) : s3;
    }

    /**
     * An S3-compatible object store (AWS S3, MinIO, Ceph RGW, GCS interop); credentials come from the AWS SDK's
     * default chain ({@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY}, profiles, instance and pod roles).
     *
     * @param endpoint   empty = AWS's endpoint for the region; else e.g. {@code http://minio:9000}
     * @param bucket     required with {@code type: s3}; must exist
     * @param prefix     key prefix inside the bucket (e.g. {@code quantforge/}); blobs are {@code <prefix>blobs/ab/cd/<sha256>}
     * @param region     default {@code us-east-1}
     * @param pathStyle  path-style requests ({@code http://host/bucket/key}; MinIO, s3proxy, Ceph) — default false
     * @param partSizeMb multipart part size; files above it are uploaded in parts (5-512, default 16)
     */
    public record S3(String endpoint, String bucket, String prefix, String region, Boolean pathStyle,
                     @Min(5) @Max(512) Integer partSizeMb) {
        public static final String DEFAULT_REGION = "us-east-1";
        public static final int DEFAULT_PART_SIZE_MB = 16;

        public S3 {
            endpoint = blankToNull(endpoint);
            bucket = blankToNull(bucket);
            prefix = normalisePrefix(prefix);
            region = blankToNull(region) == null ? DEFAULT_REGION : region.trim();
            pathStyle = pathStyle != null && pathStyle;
            partSizeMb = partSizeMb == null ? DEFAULT_PART_SIZE_MB : partSizeMb;
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s.trim();
        }

        private static String normalisePrefix(String p) {
            String s = p == null ? "" : p.trim();
            while (s.startsWith("/")) {
                s = s.substring(1);
            }
            return s.isEmpty() || s.endsWith("/") ? s : s + "/";
        }
    }
}
