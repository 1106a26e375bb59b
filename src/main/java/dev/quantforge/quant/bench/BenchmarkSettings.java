package dev.quantforge.quant.bench;

/**
 * @param iterations timed runs (≥ 1)
 * @param warmup     untimed runs before them (≥ 0)
 * @param batchSize  samples per run (≥ 1)
 * @param threads    ONNX Runtime intra-op threads; 0 lets ONNX Runtime decide
 */
public record BenchmarkSettings(int iterations, int warmup, int batchSize, int threads) {

    /** The API defaults: 200 iterations, 20 warm-up, batch 1, 1 thread. */
    public static final BenchmarkSettings DEFAULTS = new BenchmarkSettings(200, 20, 1, 1);

    public BenchmarkSettings {
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be >= 1, was " + iterations);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("warmup must be >= 0, was " + warmup);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, was " + threads);
        }
    }
}
