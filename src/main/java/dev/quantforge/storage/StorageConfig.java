package dev.quantforge.storage;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.quantforge.platform.InstanceDirectory;
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
        return new SmartLifecycle() {
            private ScheduledExecutorService scheduler;

            @Override
            public void start() {
                scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "blob-gc");
                    t.setDaemon(true);
                    return t;
                });
                long every = props.temp().cleanupIntervalMinutes();
                Duration minAge = Duration.ofMinutes(props.temp().maxAgeMinutes());
                scheduler.scheduleWithFixedDelay(() -> {
                    try {
                        references.collectGarbage(minAge);
                    } catch (Exception e) {
                        log.warn("blob garbage collection failed: {}", e.getMessage());
                    }
                }, every, every, TimeUnit.MINUTES);
            }

            @Override
            public void stop() {
                scheduler.shutdownNow();
                scheduler = null;
            }

            @Override
            public boolean isRunning() {
                return scheduler != null;
            }
        };
    }
}
