package dev.quantforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The tags a TensorRT worker derives and those a compile_tensorrt job requires meet exactly when they should. */
class TensorRtRoutingTest {

    private static ObjectNode worker(String version, String gpu, String cc) {
        ObjectNode caps = JsonNodeFactory.instance.objectNode();
        caps.put("cpu", true);
        caps.putObject("tensorrt").put("version", version).put("trtexec", "/opt/tensorrt/bin/trtexec");
        caps.putObject("gpu").put("name", gpu).put("computeCapability", cc).put("memoryMiB", 23034);
        return caps;
    }

    @Test
    void aWorkerHasItsVersionPrefixesGpuAndEveryComputeCapabilityUpToItsOwn() {
        var tags = WorkerRegistry.tags(worker("10.9.0", "NVIDIA L4", "8.9"));
        assertThat(tags).contains("cpu", "tensorrt", "gpu", "tensorrt=10", "tensorrt=10.9", "tensorrt=10.9.0", "gpu=nvidia-l4",
                "computeCapability>=7.5", "computeCapability>=8.0", "computeCapability>=8.9")
                .doesNotContain("computeCapability>=9.0", "tensorrt=10.8");
    }

    @Test
    void requirementsBecomeTheSameTags() {
        assertThat(TensorRtRouting.gpuTag("NVIDIA H100 80GB HBM3")).isEqualTo(TensorRtRouting.gpuTag("nvidia h100 80gb hbm3"))
                .isEqualTo("gpu=nvidia-h100-80gb-hbm3");
        assertThat(TensorRtRouting.minComputeCapabilityTag("8.0")).isEqualTo("computeCapability>=8.0");
        // no GPU has 8.5: it means "8.6 or newer", which an 8.6 (or 8.9) worker advertises
        assertThat(TensorRtRouting.minComputeCapabilityTag("8.5")).isEqualTo("computeCapability>=8.6");
        assertThat(WorkerRegistry.tags(worker("10.3.0", "NVIDIA A10", "8.6"))).contains(TensorRtRouting.minComputeCapabilityTag("8.5"));
        assertThat(WorkerRegistry.tags(worker("10.3.0", "NVIDIA T4", "7.5"))).doesNotContain(TensorRtRouting.minComputeCapabilityTag("8.5"));
        // beyond the list: only a GPU of exactly that capability matches (advertises its own)
        assertThat(WorkerRegistry.tags(worker("11.0.0", "Future", "13.0"))).contains(TensorRtRouting.minComputeCapabilityTag("13.0"));
    }

    @Test
    void aWorkerWithoutTrtexecAdvertisesNoTensorRtAndTheCompilerComesFromWhatItAdvertised() {
        ObjectNode plain = JsonNodeFactory.instance.objectNode().put("cpu", true);
        assertThat(WorkerRegistry.tags(plain)).containsExactly("cpu");
        assertThat(TensorRtRouting.compiler(plain)).isEmpty();
        var compiler = TensorRtRouting.compiler(worker("10.9.0", "NVIDIA L4", "8.9")).orElseThrow();
        assertThat(compiler.tensorrt().version().toString()).isEqualTo("10.9.0");
        assertThat(compiler.tensorrt().trtexec().toString()).isEqualTo("/opt/tensorrt/bin/trtexec");
        assertThat(compiler.gpus()).singleElement().satisfies(g -> {
            assertThat(g.name()).isEqualTo("NVIDIA L4");
            assertThat(g.computeCapability()).isEqualTo("8.9");
        });
    }
}
