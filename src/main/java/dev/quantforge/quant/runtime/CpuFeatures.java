package dev.quantforge.quant.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU features that change how int8 kernels behave. */
public final class CpuFeatures {

    private CpuFeatures() {
    }

    /**
     * True when this x86 CPU has a VNNI dot-product instruction (AVX-512 VNNI or AVX-VNNI). Without
     * it, ONNX Runtime's u8×s8 kernels use VPMADDUBSW, which saturates at int16, so full-range int8
     * weights lose accuracy and "reduce range" (7-bit weights) is the safe choice. Unknown → false.
     */
    public static boolean hasVnni() {
        try {
            String info = Files.readString(Path.of("/proc/cpuinfo"));
            return info.contains(" avx512_vnni") || info.contains(" avx_vnni");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
