package dev.quantforge.compile;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One engine build: what to compile, how, and what to measure.
 *
 * @param onnxModel                the (typically QDQ) ONNX model
 * @param outputDirectory          where the engine, reports and log are written (created if absent); trtexec
 *                                 runs in it
 * @param precision                {@link TensorRtPrecision}; strongly typed for a QDQ model
 * @param shapes                   an optimization profile for every input with a dynamic dimension
 * @param workspaceMiB             {@code --memPoolSize=workspace:N} in MiB; null leaves TensorRT's default
 *                                 (the device's memory)
 * @param builderOptimizationLevel {@code --builderOptimizationLevel}, 0 (fast build) to 5 (slow, may find
 *                                 faster kernels)
 * @param timingCacheFile          the shared timing cache to read and update ({@code --timingCacheFile});
 *                                 null builds without one. It must be specific to the GPU model and TensorRT
 *                                 version ({@link TimingCaches#fileFor})
 * @param benchmark                how the engine's latency is measured after the build
 * @param evaluation               run the engine over an evaluation set; null skips it
 * @param buildTimeout             limit for the build-and-benchmark run of trtexec
 */
public record CompileRequest(Path onnxModel, Path outputDirectory, TensorRtPrecision precision,
                             List<InputShapeRange> shapes, Integer workspaceMiB, int builderOptimizationLevel,
                             Path timingCacheFile, TrtexecBenchmark benchmark, EngineEvaluationRequest evaluation,
                             Duration buildTimeout) {

    public static final TensorRtPrecision DEFAULT_PRECISION = TensorRtPrecision.STRONGLY_TYPED;
    /** TensorRT's own default level. */
    public static final int DEFAULT_BUILDER_OPTIMIZATION_LEVEL = 3;
    public static final int MAX_BUILDER_OPTIMIZATION_LEVEL = 5;
    /** Large models at level 5 take tens of minutes; a timing cache makes rebuilds much shorter. */
    public static final Duration DEFAULT_BUILD_TIMEOUT = Duration.ofMinutes(60);

    public CompileRequest {
        if (onnxModel == null || outputDirectory == null) {
            throw new IllegalArgumentException("a compile request needs the ONNX model and an output directory");
        }
        if (precision == null || benchmark == null || buildTimeout == null) {
            throw new IllegalArgumentException("precision, benchmark and buildTimeout are required (see CompileRequest.of)");
        }
        shapes = shapes == null ? List.of() : List.copyOf(shapes);
        Set<String> seen = new HashSet<>();
        for (InputShapeRange s : shapes) {
            if (!seen.add(s.input())) {
                throw new IllegalArgumentException("shapes lists input '" + s.input() + "' twice");
            }
        }
        if (workspaceMiB != null && workspaceMiB < 1) {
            throw new IllegalArgumentException("workspaceMiB must be >= 1, was " + workspaceMiB);
        }
        if (builderOptimizationLevel < 0 || builderOptimizationLevel > MAX_BUILDER_OPTIMIZATION_LEVEL) {
            throw new IllegalArgumentException("builderOptimizationLevel must be 0.." + MAX_BUILDER_OPTIMIZATION_LEVEL
                    + ", was " + builderOptimizationLevel);
        }
        if (buildTimeout.isNegative() || buildTimeout.isZero()) {
            throw new IllegalArgumentException("buildTimeout must be positive, was " + buildTimeout);
        }
    }

    /** Strongly typed, no shapes, TensorRT's workspace, level 3, no timing cache, default benchmark, no evaluation. */
    public static CompileRequest of(Path onnxModel, Path outputDirectory) {
        return new CompileRequest(onnxModel, outputDirectory, DEFAULT_PRECISION, List.of(), null,
                DEFAULT_BUILDER_OPTIMIZATION_LEVEL, null, TrtexecBenchmark.DEFAULT, null, DEFAULT_BUILD_TIMEOUT);
    }
}
