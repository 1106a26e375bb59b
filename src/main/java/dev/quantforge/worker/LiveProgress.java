package dev.quantforge.worker;

import dev.quantforge.quant.progress.CancelledException;
import dev.quantforge.quant.progress.Progress;

/**
 * The progress of one running attempt. The engine writes to it at its progress points; the
 * heartbeat reads the latest value, sends it, and sets the stop flags from the answer. Because
 * every update checks those flags, a cancel is honoured at the next progress point.
 */
public final class LiveProgress implements Progress {

    /** Stop reasons. */
    public static final String CANCELLED = "cancelled";
    public static final String LEASE_LOST = "lease lost";
    public static final String SHUTDOWN = "worker shutting down";

    private volatile double fraction;
    private volatile String phase = "starting";
    private volatile String message = "started";
    private volatile long version;
    private volatile String stopReason;

    @Override
    public void update(double fraction, String phase, String message) {
        this.fraction = Math.max(0, Math.min(1, fraction));
        if (phase != null) {
            this.phase = phase;
        }
        if (message != null) {
            this.message = message;
        }
        version++;
        checkStop();
    }

    /** Throws when the attempt must stop (cancel requested, lease lost, worker shutting down). */
    public void checkStop() {
        String reason = stopReason;
        if (reason != null) {
            throw new CancelledException(reason);
        }
    }

    /** Asks the attempt to stop at its next progress point. */
    public void requestStop(String reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
    }

    public String stopReason() {
        return stopReason;
    }

    public double fraction() {
        return fraction;
    }

    public String phase() {
        return phase;
    }

    public String message() {
        return message;
    }

    public long version() {
        return version;
    }
}
