package dev.quantforge.platform;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The data directory's instance identity and scratch folder, and the periodic cleaning of crash leftovers. */
@Configuration(proxyBeanMethods = false)
public class DataDirectoryConfig {

    @Bean(destroyMethod = "close")
    InstanceDirectory instanceDirectory(QfProperties props) {
        return InstanceDirectory.claim(props.dataDir(), Duration.ofMinutes(props.temp().maxAgeMinutes()));
    }

    @Bean
    SmartLifecycle leftoverCleaner(InstanceDirectory instance, QfProperties props) {
        return new SmartLifecycle() {
            private ScheduledExecutorService scheduler;

            @Override
            public void start() {
                scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "temp-cleaner");
                    t.setDaemon(true);
                    return t;
                });
                long every = props.temp().cleanupIntervalMinutes();
                scheduler.scheduleWithFixedDelay(instance::deleteLeftovers, every, every, TimeUnit.MINUTES);
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
