package dev.quantforge.compile;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GpuProbeTest {

    /** nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader, two GPUs and an N/A line. */
    @Test
    void parsesOneGpuPerLine() {
        List<GpuInfo> gpus = GpuProbe.parseQuery(List.of(
                "NVIDIA H100 80GB HBM3, 9.0, 81559 MiB, 550.54.15",
                "NVIDIA L4, 8.9, 23034 MiB, 550.54.15",
                "NVIDIA Graphics Device, [N/A], [N/A], 550.54.15"), "12.4");
        assertThat(gpus).containsExactly(
                new GpuInfo("NVIDIA H100 80GB HBM3", "9.0", 81559, "550.54.15", "12.4"),
                new GpuInfo("NVIDIA L4", "8.9", 23034, "550.54.15", "12.4"));
    }

    @Test
    void readsTheCudaVersionFromTheHeader() {
        assertThat(GpuProbe.cudaVersion(List.of(
                "+-----------------------------------------------------------------------------------------+",
                "| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |"))).contains("12.4");
        assertThat(GpuProbe.cudaVersion(List.of("nothing"))).isEmpty();
    }

    @Test
    void noNvidiaSmiMeansNoGpu() {
        List<String> diagnostics = new ArrayList<>();
        assertThat(GpuProbe.probe("/nonexistent/nvidia-smi", diagnostics::add)).isEmpty();
        assertThat(diagnostics).singleElement().asString().startsWith("no GPU: cannot start /nonexistent/nvidia-smi");
    }

    @Test
    void comparesComputeCapabilitiesAsNumbers() {
        GpuInfo gpu = new GpuInfo("NVIDIA RTX PRO 6000", "12.0", 97887, null, null);
        assertThat(gpu.hasComputeCapabilityAtLeast("8.9")).isTrue();
        assertThat(gpu.hasComputeCapabilityAtLeast("12.0")).isTrue();
        assertThat(new GpuInfo("NVIDIA L4", "8.9", 23034, null, null).hasComputeCapabilityAtLeast("9.0")).isFalse();
        assertThat(new GpuInfo("NVIDIA L4", "8.9", 23034, null, null).hasComputeCapabilityAtLeast("8.10")).isFalse();
    }
}
