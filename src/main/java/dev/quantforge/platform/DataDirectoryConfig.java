package dev.quantforge.platform;

import java.time.Duration;

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
        return PeriodicTask.every(props.temp().cleanupIntervalMinutes(), "temp-cleaner", instance::deleteLeftovers);
    }
}
