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

    /** The CPU model and the int8-relevant flags it has, for reports: "AMD EPYC (avx2, avx512f, avx512_vnni)". */
    public static String describe() {
        try {
            String info = Files.readString(Path.of("/proc/cpuinfo"));
            String model = info.lines().filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse("unknown CPU");
            java.util.Set<String> flags = info.lines().filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> java.util.Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(java.util.Set.of());
            java.util.List<String> relevant = java.util.stream.Stream.of("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
                    "amx_int8", "avx512_bf16", "avx512_fp16").filter(flags::contains).toList();
            return model + " (" + String.join(", ", relevant) + (hasVnni() ? "" : "; no VNNI") + ")";
        } catch (IOException | RuntimeException e) {
            return "unknown CPU";
        }
    }
}
