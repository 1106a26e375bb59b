package dev.quantforge.compile;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Where a worker keeps its TensorRT timing caches. A timing cache records how fast each kernel ran on one
 * GPU model with one TensorRT version, so it is keyed by both; reusing it turns most of a rebuild's tactic
 * timing into look-ups.
 */
public final class TimingCaches {

    private TimingCaches() {
    }

    /** {@code <cacheRoot>/tensorrt-timing-caches/<gpu>-sm<cc>-trt<version>.cache}. */
    public static Path fileFor(Path cacheRoot, GpuInfo gpu, TensorRtVersion version) {
        return cacheRoot.resolve("tensorrt-timing-caches")
                .resolve(slug(gpu.name()) + "-sm" + gpu.computeCapability().replace(".", "") + "-trt" + version + ".cache");
    }

    /** "NVIDIA H100 80GB HBM3" → "nvidia-h100-80gb-hbm3": safe in file and artifact names. */
    public static String slug(String text) {
        String s = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]+", "-").replaceAll("(^-+|-+$)", "");
        return s.isEmpty() ? "unknown" : s;
    }
}
