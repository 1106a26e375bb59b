package dev.quantforge.compile;

import java.util.Map;
import java.util.TreeMap;

/**
 * One line of trtexec's performance summary ({@code Latency: min = 0.27 ms, max = 0.52 ms, mean = 0.29 ms,
 * median = 0.29 ms, percentile(90%) = 0.30 ms, percentile(95%) = 0.31 ms, percentile(99%) = 0.35 ms}).
 *
 * @param percentilesMs percentage → ms, as trtexec printed them (TensorRT 10 prints 90, 95 and 99 by default)
 */
public record LatencyStats(double minMs, double maxMs, double meanMs, double medianMs, Map<Double, Double> percentilesMs) {

    public LatencyStats {
        percentilesMs = Map.copyOf(new TreeMap<>(percentilesMs));
    }

    public double p50Ms() {
        return medianMs;
    }

    /** The printed percentile, null when trtexec did not print it. */
    public Double percentileMs(double percent) {
        return percentilesMs.get(percent);
    }

    public Double p90Ms() {
        return percentileMs(90);
    }

    public Double p99Ms() {
        return percentileMs(99);
    }
}
