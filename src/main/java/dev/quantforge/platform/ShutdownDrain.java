package dev.quantforge.platform;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.stereotype.Component;

/**
 * Graceful shutdown (SIGTERM, {@code kill}, a pod being deleted), in lifecycle order: when the context starts closing,
 * readiness goes to REFUSING_TRAFFIC and this process hands out no more job leases ({@link #draining()}); the
 * in-process workers hand their running jobs back to the queue (their phase stops first); then this bean keeps the
 * process serving until {@code qf.shutdown.drain-seconds} have passed since the shutdown began, so that Kubernetes or
 * a load balancer stops routing to it while its port is still open; then event streams end and the web server lets
 * in-flight requests (uploads) finish before it closes.
 */
@Component
public class ShutdownDrain implements SmartLifecycle, ApplicationListener<ContextClosedEvent> {

    private static final Logger log = LoggerFactory.getLogger(ShutdownDrain.class);

    /** Stops right after the in-process workers ({@link #WORKERS_PHASE}), before event streams and the web server. */
    public static final int PHASE = Integer.MAX_VALUE - 1;
    /** The in-process workers' phase: the first to stop. */
    public static final int WORKERS_PHASE = Integer.MAX_VALUE;

    private final ApplicationEventPublisher events;
    private final QfProperties props;
    private volatile boolean running;
    private volatile long drainStartedNanos;
    private volatile boolean draining;

    public ShutdownDrain(ApplicationEventPublisher events, QfProperties props) {
        this.events = events;
        this.props = props;
    }

    /** True once shutdown began: no new job leases from this process. */
    public boolean draining() {
        return draining;
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        if (draining) {
            return;
        }
        drainStartedNanos = System.nanoTime();
        draining = true;
        AvailabilityChangeEvent.publish(events, this, ReadinessState.REFUSING_TRAFFIC);
        int seconds = props.shutdown().drainSeconds();
        log.info("shutting down: readiness is REFUSING_TRAFFIC, no new job leases{}", seconds > 0
                ? "; serving until " + seconds + " s have passed while traffic moves elsewhere (qf.shutdown.drain-seconds)" : "");
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        long left = props.shutdown().drainSeconds() * 1_000_000_000L - (System.nanoTime() - drainStartedNanos);
        if (draining && left > 0) {
            try {
                Thread.sleep(left / 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
