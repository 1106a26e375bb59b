package dev.quantforge.compile;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * trtexec's {@code === Performance summary ===}, parsed from its log.
 *
 * @param throughputQps {@code Throughput: N qps} (inferences of the benchmarked batch per second)
 * @param latency       {@code Latency:}: host latency per inference (H2D + GPU compute + D2H), the number
 *                      comparable with an end-to-end runtime benchmark
 * @param gpuCompute    {@code GPU Compute Time:}, null when not printed
 */
public record PerformanceSummary(double throughputQps, LatencyStats latency, LatencyStats gpuCompute) {

    private static final Pattern THROUGHPUT = Pattern.compile("\\bThroughput: ([0-9.eE+-]+) qps");
    // Anchored after the "[I] " severity tag: "H2D Latency:" and "D2H Latency:" lines must not match "Latency:".
    private static final Pattern STATS = Pattern.compile("(?:^|] )(Latency|GPU Compute Time): min = ([0-9.eE+-]+) ms, "
            + "max = ([0-9.eE+-]+) ms, mean = ([0-9.eE+-]+) ms, median = ([0-9.eE+-]+) ms(.*)$");
    private static final Pattern PERCENTILE = Pattern.compile("percentile\\(([0-9.]+)%\\) = ([0-9.eE+-]+) ms");

    /** The last summary in the log; empty when trtexec printed none (e.g. a build with --skipInference). */
    public static Optional<PerformanceSummary> parse(List<String> log) {
        Double throughput = null;
        Map<String, LatencyStats> stats = new HashMap<>();
        for (String line : log) {
            Matcher t = THROUGHPUT.matcher(line);
            if (t.find()) {
                throughput = Double.parseDouble(t.group(1));
                continue;
            }
            Matcher s = STATS.matcher(line);
            if (s.find()) {
                Map<Double, Double> percentiles = new HashMap<>();
                Matcher p = PERCENTILE.matcher(s.group(6));
                while (p.find()) {
                    percentiles.put(Double.parseDouble(p.group(1)), Double.parseDouble(p.group(2)));
                }
                stats.put(s.group(1), new LatencyStats(Double.parseDouble(s.group(2)), Double.parseDouble(s.group(3)),
                        Double.parseDouble(s.group(4)), Double.parseDouble(s.group(5)), percentiles));
            }
        }
        if (throughput == null || !stats.containsKey("Latency")) {
            return Optional.empty();
        }
        return Optional.of(new PerformanceSummary(throughput, stats.get("Latency"), stats.get("GPU Compute Time")));
    }
}
