package dev.quantforge.quant.bench;

/**
 * Latency of one model on this host.
 *
 * @param throughputPerSecond samples per second: batchSize / mean latency in seconds
 */
public record BenchmarkResult(LatencyMs latencyMs, double throughputPerSecond, int batchSize, int threads,
                              int iterations, RuntimeInfo runtime) {

    /** Per-run latency in milliseconds; percentiles by nearest rank (see {@link LatencyBenchmark#percentile}). */
    public record LatencyMs(double p50, double p90, double p99, double mean, double min, double max) {
    }

    /** Where it was measured (the report's {@code runtime}). */
    public record RuntimeInfo(String engine, String engineVersion, String executionProvider, int threads, String host) {
    }
}
