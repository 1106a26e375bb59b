package dev.quantforge.quant.bench;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.progress.CancelledException;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.testdata.TestNpz;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.quantforge.quant.testdata.Models.*;
import static org.junit.jupiter.api.Assertions.*;

class LatencyBenchmarkTest {

    private final LatencyBenchmark benchmark = new LatencyBenchmark();

    private static void assertConsistent(BenchmarkResult result, int batchSize) {
        BenchmarkResult.LatencyMs l = result.latencyMs();
        assertTrue(l.min() > 0, l.toString());
        assertTrue(l.min() <= l.p50() && l.p50() <= l.p90() && l.p90() <= l.p99() && l.p99() <= l.max(), l.toString());
        assertTrue(l.min() <= l.mean() && l.mean() <= l.max(), l.toString());
        assertEquals(batchSize / (l.mean() / 1000.0), result.throughputPerSecond(), 1e-6 * result.throughputPerSecond());
        assertEquals(batchSize, result.batchSize());
    }

    @Test
    void mnist8WithRandomInput() {
        List<String> messages = new ArrayList<>();
        BenchmarkResult result = benchmark.run(MNIST8, new BenchmarkSettings(30, 5, 1, 1), null,
                (fraction, phase, message) -> {
                    assertEquals("benchmark", phase);
                    messages.add(message);
                });
        assertConsistent(result, 1);
        assertEquals(30, result.iterations());
        assertEquals(1, result.threads());
        BenchmarkResult.RuntimeInfo runtime = result.runtime();
        assertEquals("onnxruntime", runtime.engine());
        assertEquals(ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion(), runtime.engineVersion());
        assertEquals("CPUExecutionProvider", runtime.executionProvider());
        assertEquals(1, runtime.threads());
        assertFalse(runtime.host().isBlank());
        assertEquals("30/30 iterations", messages.get(messages.size() - 1));
    }

    @Test
    void mnist8WithDatasetInput() throws Exception {
        BenchmarkResult result = benchmark.run(MNIST8, new BenchmarkSettings(30, 3, 1, 2), TestNpz.read(MNIST8_EVAL),
                Progress.NONE);
        assertConsistent(result, 1);
        assertEquals(2, result.threads());
    }

    @Test
    void cifarBatch8() {
        BenchmarkResult result = benchmark.run(CIFAR_IC, new BenchmarkSettings(5, 1, 8, 1), null, Progress.NONE);
        assertConsistent(result, 8);
    }

    @Test
    void tinybertWithRandomTokens() {
        BenchmarkResult result = benchmark.run(TINYBERT, new BenchmarkSettings(3, 1, 2, 1), null, Progress.NONE);
        assertConsistent(result, 2);
    }

    @Test
    void fixedBatchOfOneRefusesLargerBatches() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> benchmark.run(MNIST8, new BenchmarkSettings(10, 0, 4, 1), null, Progress.NONE));
        assertEquals("model has a fixed batch of 1; use batchSize 1", e.getMessage());
    }

    @Test
    void cancellation() {
        Progress cancel = (fraction, phase, message) -> {
            throw new CancelledException("stop");
        };
        assertThrows(CancelledException.class,
                () -> benchmark.run(MNIST8, new BenchmarkSettings(100, 0, 1, 1), null, cancel));
    }

    @Test
    void nearestRankPercentile() {
        double[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(5, LatencyBenchmark.percentile(sorted, 50));
        assertEquals(9, LatencyBenchmark.percentile(sorted, 90));
        assertEquals(10, LatencyBenchmark.percentile(sorted, 99));
        assertEquals(1, LatencyBenchmark.percentile(sorted, 0));
        assertEquals(7, LatencyBenchmark.percentile(new double[] {7}, 99));
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new BenchmarkSettings(0, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BenchmarkSettings(1, -1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BenchmarkSettings(1, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new BenchmarkSettings(1, 0, 1, -1));
    }
}
