package dev.quantforge.storage;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.quantforge.platform.InstanceDirectory;
import dev.quantforge.platform.PeriodicTask;
import dev.quantforge.platform.QfProperties;

/** The blob store chosen by {@code QF_STORAGE}, and the periodic garbage collection of orphaned blobs. */
@Configuration(proxyBeanMethods = false)
public class StorageConfig {

    private static final Logger log = LoggerFactory.getLogger(StorageConfig.class);

    @Bean
    BlobStore blobStore(StorageProperties storage, QfProperties props, InstanceDirectory instance) {
        BlobStore store = switch (storage.type()) {
            case filesystem -> new FileSystemBlobStore(props.dataDir(), instance);
            case s3 -> new S3BlobStore(storage.s3(), props.dataDir(), instance);
        };
        log.info("blob storage: {}", store.describe());
        return store;
    }

    /**
     * Every {@code QF_TEMP_CLEANUP_INTERVAL_MINUTES} (first after one interval): removes blobs no row references that
     * are older than {@code QF_TEMP_MAX_AGE_MINUTES}, and aborts interrupted multipart uploads as old. Safe on every
     * replica at once (each removal holds the content's lock and re-checks).
     */
    @Bean
    SmartLifecycle blobGarbageCollector(BlobReferences references, QfProperties props) {
        Duration minAge = Duration.ofMinutes(props.temp().maxAgeMinutes());
        return PeriodicTask.every(props.temp().cleanupIntervalMinutes(), "blob-gc", () -> {
            try {
                references.collectGarbage(minAge);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("blob garbage collection", e);
            }
        });
    }
}
