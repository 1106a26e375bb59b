package dev.quantforge.compile;

import dev.quantforge.quant.data.SampleSource;

import java.time.Duration;
import java.util.Map;

/**
 * Run the built engine itself over an evaluation set.
 *
 * @param binding       model input name → dataset tensor name ({@code InputBinding.bind})
 * @param maxSamples    evaluate at most this many samples from the start of the data set
 * @param batchSize     samples per trtexec run for an engine with a dynamic batch (clamped into the engine's
 *                      batch range); a fixed-batch engine runs its own batch size. Each batch is one trtexec
 *                      process, which loads the engine again (about a second or more), so larger batches
 *                      evaluate faster
 * @param timeoutPerRun limit for one trtexec run
 */
public record EngineEvaluationRequest(SampleSource data, Map<String, String> binding, long maxSamples, int batchSize,
                                      Duration timeoutPerRun) {

    public static final long DEFAULT_MAX_SAMPLES = 2000;
    public static final int DEFAULT_BATCH_SIZE = 64;
    public static final Duration DEFAULT_TIMEOUT_PER_RUN = Duration.ofMinutes(5);

    public EngineEvaluationRequest {
        if (data == null || binding == null) {
            throw new IllegalArgumentException("engine evaluation needs a data set and an input binding");
        }
        binding = Map.copyOf(binding);
        if (maxSamples < 1) {
            throw new IllegalArgumentException("evaluation.maxSamples must be >= 1, was " + maxSamples);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("evaluation.batchSize must be >= 1, was " + batchSize);
        }
        if (timeoutPerRun == null || timeoutPerRun.isNegative() || timeoutPerRun.isZero()) {
            throw new IllegalArgumentException("evaluation.timeoutPerRun must be positive, was " + timeoutPerRun);
        }
    }

    /** With the default sample count, batch size and time limit. */
    public static EngineEvaluationRequest of(SampleSource data, Map<String, String> binding) {
        return new EngineEvaluationRequest(data, binding, DEFAULT_MAX_SAMPLES, DEFAULT_BATCH_SIZE, DEFAULT_TIMEOUT_PER_RUN);
    }
}
