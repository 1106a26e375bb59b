package dev.quantforge.compile;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What is read from trtexec's log: the performance summary, the TensorRT version and the GPU. The lines are
 * in the format trtexec prints (samples/common/sampleReporting.cpp printEpilog, trtexec.cpp main); the
 * values are those of a public TensorRT 10.9 run log.
 */
class TrtexecLogParsingTest {

    private static final List<String> LOG = List.of(
            "&&&& RUNNING TensorRT.trtexec [TensorRT v100900] [b34] # trtexec --onnx=resnet50/model.onnx --saveEngine=resnet50/model.trt",
            "[04/07/2025-23:59:33] [I] === Device Information ===",
            "[04/07/2025-23:59:33] [I] Available Devices:",
            "[04/07/2025-23:59:33] [I]   Device 0: \"NVIDIA GeForce RTX 3070\" UUID: GPU-84a8068b-81a5-7df1-8d22-a523bb848827",
            "[04/07/2025-23:59:33] [I] Selected Device: NVIDIA GeForce RTX 3070",
            "[04/07/2025-23:59:33] [I] Selected Device ID: 0",
            "[04/07/2025-23:59:33] [I] Compute Capability: 8.6",
            "[04/07/2025-23:59:33] [I] SMs: 46",
            "[04/07/2025-23:59:33] [I] Device Global Memory: 7817 MiB",
            "[04/07/2025-23:59:33] [I] TensorRT version: 10.9.0",
            "[04/07/2025-23:59:50] [I] === Performance summary ===",
            "[04/07/2025-23:59:50] [I] Throughput: 691.435 qps",
            "[04/07/2025-23:59:50] [I] Latency: min = 1.4209 ms, max = 3.047 ms, mean = 1.48372 ms, median = 1.43823 ms, "
                    + "percentile(90%) = 1.45624 ms, percentile(95%) = 1.71796 ms, percentile(99%) = 2.61597 ms",
            "[04/07/2025-23:59:50] [I] Enqueue Time: min = 0.208801 ms, max = 0.461304 ms, mean = 0.263621 ms, median = 0.259033 ms, "
                    + "percentile(90%) = 0.293823 ms, percentile(95%) = 0.311768 ms, percentile(99%) = 0.402832 ms",
            "[04/07/2025-23:59:50] [I] H2D Latency: min = 0.0258789 ms, max = 0.0687256 ms, mean = 0.0362824 ms, median = 0.0361328 ms, "
                    + "percentile(90%) = 0.0378418 ms, percentile(95%) = 0.0385742 ms, percentile(99%) = 0.0616455 ms",
            "[04/07/2025-23:59:50] [I] GPU Compute Time: min = 1.38855 ms, max = 3.00439 ms, mean = 1.44357 ms, median = 1.39775 ms, "
                    + "percentile(90%) = 1.40308 ms, percentile(95%) = 1.67834 ms, percentile(99%) = 2.57642 ms",
            "[04/07/2025-23:59:50] [I] D2H Latency: min = 0.00286865 ms, max = 0.00561523 ms, mean = 0.00387057 ms, median = 0.00366211 ms, "
                    + "percentile(90%) = 0.00488281 ms, percentile(95%) = 0.00500488 ms, percentile(99%) = 0.00537109 ms",
            "[04/07/2025-23:59:50] [I] Total Host Walltime: 3.0039 s",
            "&&&& PASSED TensorRT.trtexec [TensorRT v100900] [b34] # trtexec --onnx=resnet50/model.onnx --saveEngine=resnet50/model.trt");

    @Test
    void readsThroughputAndHostLatencyNotTheTransferLines() {
        PerformanceSummary summary = PerformanceSummary.parse(LOG).orElseThrow();
        assertThat(summary.throughputQps()).isEqualTo(691.435);
        LatencyStats latency = summary.latency();
        assertThat(latency.minMs()).isEqualTo(1.4209);
        assertThat(latency.meanMs()).isEqualTo(1.48372);
        assertThat(latency.p50Ms()).isEqualTo(1.43823);
        assertThat(latency.p90Ms()).isEqualTo(1.45624);
        assertThat(latency.percentileMs(95)).isEqualTo(1.71796);
        assertThat(latency.p99Ms()).isEqualTo(2.61597);
        assertThat(summary.gpuCompute().p99Ms()).isEqualTo(2.57642);
    }

    /** TensorRT 8 printed one percentile (99 by default). */
    @Test
    void readsTheSinglePercentileOfOlderTrtexec() {
        PerformanceSummary summary = PerformanceSummary.parse(List.of(
                "[05/29/2022-21:55:54] [I] Throughput: 28.9757 qps",
                "[05/29/2022-21:55:54] [I] Latency: min = 34.6697 ms, max = 36.1511 ms, mean = 35.0057 ms, median = 34.916 ms, percentile(99%) = 36.1511 ms",
                "[05/29/2022-21:55:54] [I] End-to-End Host Latency: min = 34.6746 ms, max = 36.156 ms, mean = 35.0105 ms, median = 34.9216 ms, percentile(99%) = 36.156 ms")).orElseThrow();
        assertThat(summary.latency().medianMs()).isEqualTo(34.916);
        assertThat(summary.latency().p99Ms()).isEqualTo(36.1511);
        assertThat(summary.latency().p90Ms()).isNull();
        assertThat(summary.gpuCompute()).isNull();
    }

    @Test
    void noSummaryWhenInferenceWasSkipped() {
        assertThat(PerformanceSummary.parse(List.of("[I] Skipped inference phase since --skipInference is added."))).isEmpty();
    }

    @Test
    void readsTheTensorRtVersionFromTheVersionLineOrTheBanner() {
        assertThat(TensorRtVersion.fromOutput(LOG)).contains(new TensorRtVersion(10, 9, 0));
        assertThat(TensorRtVersion.fromOutput(List.of("&&&& RUNNING TensorRT.trtexec [TensorRT v101303] [b9] # ./trtexec --help")))
                .contains(new TensorRtVersion(10, 13, 3));
        assertThat(TensorRtVersion.fromOutput(List.of("&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec")))
                .contains(new TensorRtVersion(8, 6, 1));
        assertThat(TensorRtVersion.fromOutput(List.of("no banner"))).isEmpty();
        assertThat(new TensorRtVersion(10, 13, 3).hasWeakTypingFlags()).isTrue();
        assertThat(new TensorRtVersion(11, 0, 0).hasWeakTypingFlags()).isFalse();
        assertThat(new TensorRtVersion(8, 6, 1).buildsStronglyTyped()).isFalse();
        assertThat(new TensorRtVersion(10, 0, 1)).hasToString("10.0.1");
    }

    @Test
    void readsTheSelectedGpuFromTheDeviceInformation() {
        GpuInfo gpu = GpuProbe.fromTrtexecLog(LOG).orElseThrow();
        assertThat(gpu.name()).isEqualTo("NVIDIA GeForce RTX 3070");
        assertThat(gpu.computeCapability()).isEqualTo("8.6");
        assertThat(gpu.memoryMiB()).isEqualTo(7817);
        assertThat(gpu.driverVersion()).isNull();
    }
}
