package dev.quantforge.compile;

/**
 * How trtexec measures latency after the build, in trtexec's own terms.
 *
 * @param iterations      {@code --iterations}: at least this many inferences
 * @param warmUpMs        {@code --warmUp}: milliseconds of inference before measuring
 * @param durationSeconds {@code --duration}: measure for at least this long (whichever of iterations and
 *                        duration takes longer wins, as in trtexec)
 */
public record TrtexecBenchmark(int iterations, int warmUpMs, int durationSeconds) {

    /** trtexec's defaults are 10 iterations, 200 ms warm-up and 3 s; more iterations steady the p99. */
    public static final TrtexecBenchmark DEFAULT = new TrtexecBenchmark(200, 200, 3);

    public TrtexecBenchmark {
        if (iterations < 1) {
            throw new IllegalArgumentException("benchmark.iterations must be >= 1, was " + iterations);
        }
        if (warmUpMs < 0) {
            throw new IllegalArgumentException("benchmark.warmUpMs must be >= 0, was " + warmUpMs);
        }
        if (durationSeconds < 0) {
            throw new IllegalArgumentException("benchmark.durationSeconds must be >= 0, was " + durationSeconds);
        }
    }
}
