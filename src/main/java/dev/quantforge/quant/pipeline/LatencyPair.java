package dev.quantforge.quant.pipeline;

import dev.quantforge.quant.bench.BenchmarkResult;

/** The FP32 model and a candidate timed interleaved in the same run, with the same input and settings. */
public record LatencyPair(BenchmarkResult fp32, BenchmarkResult candidate) {

    /** FP32 p50 over candidate p50: above 1 the candidate is faster. */
    public double speedupP50() {
        return candidate.latencyMs().p50() > 0 ? fp32.latencyMs().p50() / candidate.latencyMs().p50() : 0;
    }
}
