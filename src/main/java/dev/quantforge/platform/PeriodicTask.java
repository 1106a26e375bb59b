package dev.quantforge.platform;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/** A task run every few minutes on a daemon thread of its own while the application runs (first run after one interval). */
public final class PeriodicTask {

    private static final Logger log = LoggerFactory.getLogger(PeriodicTask.class);

    private PeriodicTask() {
    }

    /** A failure of one run is logged and the next run happens as planned. */
    public static SmartLifecycle every(long minutes, String threadName, Runnable task) {
        return new SmartLifecycle() {
            private ScheduledExecutorService scheduler;

            @Override
            public void start() {
                scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, threadName);
                    t.setDaemon(true);
                    return t;
                });
                scheduler.scheduleWithFixedDelay(() -> {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        log.warn("{} failed: {}", threadName, e.getMessage());
                    }
                }, minutes, minutes, TimeUnit.MINUTES);
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
