package dev.quantforge.compile;

/**
 * A GPU as nvidia-smi (or trtexec's device information) reports it: what a worker advertises as
 * {@code gpu: {name, computeCapability, memoryMiB, driver}}.
 *
 * @param computeCapability "9.0"
 * @param driverVersion     null when only trtexec's device lines were available
 * @param cudaVersion       the CUDA version the driver supports ("12.8"), null when unknown
 */
public record GpuInfo(String name, String computeCapability, long memoryMiB, String driverVersion, String cudaVersion) {

    /** Whether this GPU's compute capability is at least {@code required} ("8.0"); compared as major.minor numbers. */
    public boolean hasComputeCapabilityAtLeast(String required) {
        int[] have = majorMinor(computeCapability);
        int[] need = majorMinor(required);
        return have[0] != need[0] ? have[0] > need[0] : have[1] >= need[1];
    }

    private static int[] majorMinor(String cc) {
        String[] parts = cc.strip().split("\\.");
        try {
            return new int[]{Integer.parseInt(parts[0]), parts.length > 1 ? Integer.parseInt(parts[1]) : 0};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a compute capability (major.minor): '" + cc + "'");
        }
    }
}
