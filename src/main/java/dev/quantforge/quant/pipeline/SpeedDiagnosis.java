package dev.quantforge.quant.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import dev.quantforge.quant.bench.OpProfile;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.runtime.CpuFeatures;

/**
 * Never slower in silence: when a quantized model runs slower than FP32 on this worker, says so with the likely
 * cause, read from ONNX Runtime's optimized graph (Q/DQ pairs it could not fuse, float kernels left between them,
 * layout Transposes) and its profiler (where the time went), and from the CPU (no VNNI).
 */
public final class SpeedDiagnosis {

    /** Below this the model is too small for int8 arithmetic to outweigh per-kernel overhead. */
    static final double TINY_MODEL_MS = 0.5;
    private static final Set<String> FLOAT_COMPUTE = Set.of("Conv", "FusedConv", "MatMul", "FusedMatMul", "Gemm", "FusedGemm", "NhwcConv");
    private static final int PROFILE_RUNS = 20;

    private SpeedDiagnosis() {
    }

    /** Warnings about a quantized model's speed (none when it is faster than FP32). */
    public static List<String> warnings(QuantizationPipeline pipeline, QdqBuild build, LatencyPair latency, Map<String, Integer> quantizedOps,
                                        SampleSource data) {
        List<String> out = new ArrayList<>();
        double speedup = latency.speedupP50();
        if (speedup >= 1.0) {
            return out;
        }
        StringBuilder w = new StringBuilder(String.format(Locale.ROOT,
                "the quantized model is slower than FP32 on this worker: p50 %.3f ms vs %.3f ms (%.2fx) at batch %d, %d thread(s)",
                latency.candidate().latencyMs().p50(), latency.fp32().latencyMs().p50(), speedup, latency.fp32().batchSize(),
                latency.fp32().threads()));
        List<String> causes = new ArrayList<>();
        Map<String, Integer> fp32Ops = pipeline.runtimeOps(pipeline.fp32File());
        int q = quantizedOps.getOrDefault("QuantizeLinear", 0);
        int dq = quantizedOps.getOrDefault("DequantizeLinear", 0);
        if (q + dq > 0) {
            causes.add(q + " QuantizeLinear and " + dq + " DequantizeLinear left unfused in ONNX Runtime's optimized graph (each converts "
                    + "between float and int8 at run time)");
        }
        int floatKernels = quantizedOps.entrySet().stream().filter(e -> FLOAT_COMPUTE.contains(e.getKey())).mapToInt(Map.Entry::getValue).sum();
        if (floatKernels > 0) {
            causes.add(floatKernels + " float compute kernel(s) left between the int8 ones ("
                    + quantizedOps.entrySet().stream().filter(e -> FLOAT_COMPUTE.contains(e.getKey()))
                    .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")) + ")");
        }
        int transposes = quantizedOps.getOrDefault("Transpose", 0) - fp32Ops.getOrDefault("Transpose", 0);
        if (transposes > 0) {
            causes.add(transposes + " more layout Transpose(s) than the FP32 graph (ONNX Runtime runs int8 pooling in NHWC)");
        }
        if (!CpuFeatures.hasVnni()) {
            causes.add("this CPU has no VNNI (AVX-512 VNNI or AVX-VNNI): ONNX Runtime's u8×s8 kernels run on AVX2 at about half the "
                    + "int8 throughput of a VNNI CPU");
        }
        if (latency.fp32().latencyMs().p50() < TINY_MODEL_MS) {
            causes.add(String.format(Locale.ROOT, "FP32 runs in %.3f ms: at this size per-kernel overhead outweighs the arithmetic int8 saves",
                    latency.fp32().latencyMs().p50()));
        }
        try {
            List<OpProfile.OpTime> profile = OpProfile.profile(build.file(), data, pipeline.binding(data), latency.candidate().batchSize(),
                    latency.candidate().threads(), PROFILE_RUNS, build.file().getParent());
            causes.add("time by op type (ONNX Runtime profiler): " + profile.stream().limit(4)
                    .map(t -> String.format(Locale.ROOT, "%s %.0f%%", t.opType(), 100 * t.share())).collect(Collectors.joining(", ")));
        } catch (RuntimeException e) {
            causes.add("the profiler could not run: " + e.getMessage());
        }
        w.append("; likely causes: ").append(String.join("; ", causes));
        out.add(w.toString());
        return out;
    }
}
