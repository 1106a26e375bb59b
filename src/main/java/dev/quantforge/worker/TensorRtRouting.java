package dev.quantforge.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import tools.jackson.databind.JsonNode;

import dev.quantforge.compile.GpuInfo;
import dev.quantforge.compile.TensorRtCompiler;
import dev.quantforge.compile.TensorRtInstallation;
import dev.quantforge.compile.TensorRtVersion;
import dev.quantforge.compile.TimingCaches;

/**
 * How TensorRT workers and {@code compile_tensorrt} jobs find each other. The queue matches a job's requirement
 * tags against a worker's capability tags (a job runs where all of its tags are present), so what an engine is
 * specific to becomes tags on both sides:
 * <ul>
 *   <li>a worker with {@code tensorrt: {version: "10.9.0", ...}} also has {@code tensorrt=10}, {@code tensorrt=10.9},
 *       {@code tensorrt=10.9.0}; a job requiring {@code tensorrtVersion: "10.9"} needs {@code tensorrt=10.9};</li>
 *   <li>a worker with {@code gpu: {name: "NVIDIA L4", computeCapability: "8.9", ...}} also has {@code gpu=nvidia-l4} and
 *       {@code computeCapability>=X.Y} for every CUDA compute capability up to its own; a job requiring
 *       {@code minComputeCapability: "8.0"} needs {@code computeCapability>=8.0} (a value between two real ones is
 *       raised to the next real one: no GPU has 8.5, so 8.5 means 8.6).</li>
 * </ul>
 */
public final class TensorRtRouting {

    /** The compute capabilities of CUDA GPUs (NVIDIA's CUDA GPUs list), ascending. */
    static final List<String> COMPUTE_CAPABILITIES = List.of("3.0", "3.2", "3.5", "3.7", "5.0", "5.2", "5.3", "6.0", "6.1", "6.2",
            "7.0", "7.2", "7.5", "8.0", "8.6", "8.7", "8.8", "8.9", "9.0", "10.0", "10.1", "10.3", "11.0", "12.0", "12.1");

    public static final String TENSORRT = "tensorrt";
    public static final String GPU = "gpu";

    private TensorRtRouting() {
    }

    /** The tags a worker's {@code tensorrt} and {@code gpu} capabilities add to its plain ones. */
    static List<String> derivedTags(JsonNode capabilities) {
        List<String> tags = new ArrayList<>();
        JsonNode trt = capabilities.path(TENSORRT);
        if (trt.isObject()) {
            TensorRtVersion.parse(trt.path("version").asString(null)).ifPresent(v -> {
                tags.add(tensorrtVersionTag(Integer.toString(v.major())));
                tags.add(tensorrtVersionTag(v.major() + "." + v.minor()));
                tags.add(tensorrtVersionTag(v.toString()));
            });
        }
        JsonNode gpu = capabilities.path(GPU);
        if (gpu.isObject()) {
            String name = gpu.path("name").asString(null);
            if (name != null && !name.isBlank()) {
                tags.add(gpuTag(name));
            }
            String cc = gpu.path("computeCapability").asString(null);
            if (cc != null && cc.matches("\\d+\\.\\d+")) {
                for (String known : COMPUTE_CAPABILITIES) {
                    if (atLeast(cc, known)) {
                        tags.add(computeCapabilityTag(known));
                    }
                }
                tags.add(computeCapabilityTag(cc));
            }
        }
        return tags;
    }

    /** {@code gpu=<name as a slug>}: "NVIDIA H100 80GB HBM3" and "nvidia h100 80gb hbm3" are the same GPU. */
    public static String gpuTag(String name) {
        return GPU + "=" + TimingCaches.slug(name); // the slug the engine and timing-cache file names use
    }

    /** @param version "10", "10.9" or "10.9.0" */
    public static String tensorrtVersionTag(String version) {
        return TENSORRT + "=" + version;
    }

    /** The tag a minimum compute capability ("8.0") requires; raised to the next real compute capability. */
    public static String minComputeCapabilityTag(String minimum) {
        for (String known : COMPUTE_CAPABILITIES) {
            if (atLeast(known, minimum)) {
                return computeCapabilityTag(known);
            }
        }
        return computeCapabilityTag(minimum);
    }

    private static String computeCapabilityTag(String cc) {
        return "computeCapability>=" + cc;
    }

    private static boolean atLeast(String have, String need) {
        return new GpuInfo("", have, 0, null, null).hasComputeCapabilityAtLeast(need);
    }

    /**
     * The compiler for the TensorRT a worker advertised (the trtexec it found at start-up and the GPUs it listed);
     * empty when the worker advertised none.
     */
    public static Optional<TensorRtCompiler> compiler(JsonNode capabilities) {
        JsonNode trt = capabilities.path(TENSORRT);
        Optional<TensorRtVersion> version = TensorRtVersion.parse(trt.path("version").asString(null));
        String trtexec = trt.path("trtexec").asString(null);
        if (version.isEmpty() || trtexec == null || trtexec.isBlank()) {
            return Optional.empty();
        }
        List<GpuInfo> gpus = new ArrayList<>();
        for (JsonNode g : capabilities.path("gpus")) {
            gpus.add(gpu(g));
        }
        if (gpus.isEmpty() && capabilities.path(GPU).isObject()) {
            gpus.add(gpu(capabilities.path(GPU)));
        }
        return Optional.of(new TensorRtCompiler(new TensorRtInstallation(java.nio.file.Path.of(trtexec), version.get()), gpus));
    }

    private static GpuInfo gpu(JsonNode g) {
        return new GpuInfo(g.path("name").asString(""), g.path("computeCapability").asString("0.0"), g.path("memoryMiB").asLong(0),
                g.path("driver").asString(null), g.path("cuda").asString(null));
    }
}
