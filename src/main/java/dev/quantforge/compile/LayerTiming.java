package dev.quantforge.compile;

/**
 * One record of {@code trtexec --exportProfile} output.
 *
 * @param totalMs    {@code timeMs}: the layer's time summed over all profiled runs
 * @param averageMs  {@code averageMs}: per run (per inference of the profiled batch)
 * @param percentage share of the whole network's time
 */
public record LayerTiming(String name, double totalMs, double averageMs, double percentage) {
}
