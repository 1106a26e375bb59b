package dev.quantforge.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;

/**
 * Collects one benchmark's numbers, prints them and writes them to
 * {@code target/bench/<name>.json} and {@code target/bench/<name>.md}.
 */
final class BenchReport {

    private final String name;
    private final Map<String, Object> values = new LinkedHashMap<>();

    BenchReport(String name) {
        this.name = name;
        values.put("benchmark", name);
        values.put("timestamp", Instant.now().toString());
        values.put("availableProcessors", Runtime.getRuntime().availableProcessors());
        values.put("javaVersion", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        values.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        values.put("jvmArgs", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        try {
            values.put("host", InetAddress.getLocalHost().getHostName());
        } catch (IOException e) {
            values.put("host", "unknown");
        }
        values.put("onnxruntimeVersion", ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion());
        cpu();
    }

    /** The CPU and the flags int8 kernels depend on (VNNI, AMX), from /proc/cpuinfo: results name the machine they are of. */
    private void cpu() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            lines.stream().filter(l -> l.startsWith("model name")).findFirst()
                    .ifPresent(l -> values.put("cpu", l.substring(l.indexOf(':') + 1).trim()));
            lines.stream().filter(l -> l.startsWith("flags")).findFirst().ifPresent(l -> {
                List<String> flags = List.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"));
                values.put("cpuFlags", String.join(" ", List.of("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "amx_bf16")
                        .stream().filter(flags::contains).toList()));
            });
        } catch (IOException e) {
            values.put("cpu", "unknown (" + e.getMessage() + ")");
        }
    }

    BenchReport put(String key, Object value) {
        values.put(key, value);
        System.out.printf(Locale.ROOT, "[bench %s] %s = %s%n", name, key, value instanceof Double d ? fmt(d) : value);
        return this;
    }

    static String fmt(double d) {
        return String.format(Locale.ROOT, "%.1f", d);
    }

    void write() {
        Path dir = Path.of("target", "bench");
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(name + ".json"), toJson(), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve(name + ".md"), toMarkdown(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.println("[bench " + name + "] written to " + dir.toAbsolutePath().resolve(name + ".json"));
    }

    private String toJson() {
        StringBuilder b = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, Object> e : values.entrySet()) {
            b.append("  \"").append(escape(e.getKey())).append("\": ").append(jsonValue(e.getValue()));
            b.append(++i < values.size() ? ",\n" : "\n");
        }
        return b.append("}\n").toString();
    }

    private String toMarkdown() {
        StringBuilder b = new StringBuilder("# " + name + "\n\n| key | value |\n|---|---|\n");
        for (Map.Entry<String, Object> e : values.entrySet()) {
            Object v = e.getValue();
            b.append("| ").append(e.getKey()).append(" | ").append(v instanceof Double d ? fmt(d) : String.valueOf(v).replace("|", "\\|"))
                    .append(" |\n");
        }
        return b.toString();
    }

    private static String jsonValue(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Double d) {
            return d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.3f", d);
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        return "\"" + escape(v.toString()) + "\"";
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
