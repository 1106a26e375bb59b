package dev.quantforge.quant.progress;

/**
 * Where long engine work reports how far it is. Implementations also decide whether the work
 * must stop: {@link #update} throws {@link CancelledException} when cancel was requested, so
 * progress points are also cancellation points.
 */
public interface Progress {

    Progress NONE = (fraction, phase, message) -> { };

    /**
     * @param fraction 0..1 of the whole task
     * @param phase    short machine-readable phase name ("evaluate", "calibrate", ...)
     * @param message  a line for humans
     */
    void update(double fraction, String phase, String message);

    /** A view of this progress that maps 0..1 of a sub-task onto [from, to] of the whole. */
    default Progress scaled(double from, double to) {
        Progress parent = this;
        return (fraction, phase, message) -> parent.update(from + (to - from) * Math.max(0, Math.min(1, fraction)), phase, message);
    }
}
