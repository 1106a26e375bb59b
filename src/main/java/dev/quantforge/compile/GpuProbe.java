package dev.quantforge.compile;

import dev.quantforge.quant.progress.Progress;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lists the GPUs with {@code nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version
 * --format=csv,noheader} (one line per GPU: {@code NVIDIA H100 80GB HBM3, 9.0, 81559 MiB, 550.54.15}) and
 * reads the CUDA version the driver supports from plain {@code nvidia-smi}'s header ({@code CUDA Version: 12.4}).
 * No nvidia-smi, or one that fails, means no GPU capability.
 */
public final class GpuProbe {

    static final List<String> QUERY = List.of("--query-gpu=name,compute_cap,memory.total,driver_version",
            "--format=csv,noheader");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern MEMORY = Pattern.compile("^(\\d+)\\s*MiB$");
    private static final Pattern SELECTED_DEVICE = Pattern.compile("] Selected Device: (.+)$");
    private static final Pattern COMPUTE_CAPABILITY = Pattern.compile("] Compute Capability: (\\d+\\.\\d+)");
    private static final Pattern GLOBAL_MEMORY = Pattern.compile("] Device Global Memory: (\\d+) MiB");
    private static final Pattern CUDA_VERSION = Pattern.compile("CUDA Version:\\s*([0-9.]+)");

    private GpuProbe() {
    }

    /** @param nvidiaSmi the executable ("nvidia-smi" to take it from PATH) */
    public static List<GpuInfo> probe(String nvidiaSmi, Consumer<String> diagnostics) {
        Optional<ExternalProcess.Result> query = run(nvidiaSmi, QUERY, diagnostics);
        if (query.isEmpty()) {
            return List.of();
        }
        if (query.get().exitCode() != 0) {
            diagnostics.accept("no GPU: nvidia-smi exited with " + query.get().exitCode() + ": "
                    + String.join(" ", query.get().output()));
            return List.of();
        }
        String cuda = run(nvidiaSmi, List.of(), diagnostics).filter(r -> r.exitCode() == 0)
                .flatMap(r -> cudaVersion(r.output())).orElse(null);
        return parseQuery(query.get().output(), cuda);
    }

    static List<GpuInfo> parseQuery(List<String> lines, String cudaVersion) {
        List<GpuInfo> gpus = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.split(",");
            if (fields.length != 4) {
                continue;
            }
            Matcher memory = MEMORY.matcher(fields[2].strip());
            String cc = fields[1].strip();
            if (!memory.matches() || !cc.matches("\\d+\\.\\d+")) {
                continue; // "[N/A]" fields, or an old driver without compute_cap
            }
            gpus.add(new GpuInfo(fields[0].strip(), cc, Long.parseLong(memory.group(1)), fields[3].strip(), cudaVersion));
        }
        return gpus;
    }

    /**
     * The GPU trtexec ran on, from its {@code === Device Information ===} lines ({@code Selected Device: NVIDIA L4},
     * {@code Compute Capability: 8.9}, {@code Device Global Memory: 22478 MiB}); for a worker without nvidia-smi.
     */
    static Optional<GpuInfo> fromTrtexecLog(List<String> lines) {
        String name = null;
        String cc = null;
        long memory = 0;
        for (String line : lines) {
            Matcher m;
            if ((m = SELECTED_DEVICE.matcher(line)).find()) {
                name = m.group(1).strip();
            } else if ((m = COMPUTE_CAPABILITY.matcher(line)).find()) {
                cc = m.group(1);
            } else if ((m = GLOBAL_MEMORY.matcher(line)).find()) {
                memory = Long.parseLong(m.group(1));
            }
        }
        return name == null || cc == null ? Optional.empty() : Optional.of(new GpuInfo(name, cc, memory, null, null));
    }

    static Optional<String> cudaVersion(List<String> lines) {
        for (String line : lines) {
            Matcher m = CUDA_VERSION.matcher(line);
            if (m.find()) {
                return Optional.of(m.group(1));
            }
        }
        return Optional.empty();
    }

    private static Optional<ExternalProcess.Result> run(String nvidiaSmi, List<String> args, Consumer<String> diagnostics) {
        List<String> argv = new ArrayList<>();
        argv.add(nvidiaSmi);
        argv.addAll(args);
        try {
            return Optional.of(ExternalProcess.run(argv, null, TIMEOUT, line -> { }, Progress.NONE, "probe", "nvidia-smi"));
        } catch (UncheckedIOException | ExternalProcess.TimedOutException e) {
            diagnostics.accept("no GPU: " + e.getMessage());
            return Optional.empty();
        }
    }
}
