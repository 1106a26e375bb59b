package dev.quantforge.quant.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.runtime.OrtModel;

/**
 * Where a model's run time goes in ONNX Runtime: the session's own profiler (its Chrome-trace JSON), summed per op
 * type over a few runs of one batch, after a warm-up. The kernels of the optimized graph are what it names (QLinearConv,
 * MatMulIntegerToFloat, Transpose, ...), which is how an INT8 model that is slower than FP32 is explained.
 */
public final class OpProfile {

    /** One line per kernel event: {@code "dur" :N, ... "name" :"<node>_kernel_time", ... "op_name" : "<op>"}. */
    private static final Pattern KERNEL = Pattern.compile("\"dur\" :(\\d+),.*\"name\" :\"([^\"]*)_kernel_time\".*\"op_name\" : \"([^\"]+)\"");

    private OpProfile() {
    }

    /** Microseconds per run of one op type, and its share of the kernel time. */
    public record OpTime(String opType, double microsPerRun, double share, int nodes) {
    }

    /**
     * @param runs profiled runs; a few warm-up runs before them are recorded too (the profiler cannot pause) and left out
     *             by keeping only the last {@code runs} events of each kernel
     */
    public static List<OpTime> profile(Path model, SampleSource data, Map<String, String> binding, int batchSize, int threads, int runs,
                                       Path workDir) {
        Batch batch;
        try (SampleSource.BatchIterator it = data.batches(batchSize, batchSize)) {
            if (!it.hasNext()) {
                throw new InvalidInputException("no samples to profile with");
            }
            batch = it.next();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int warmup = Math.max(2, runs / 2);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Path trace;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 0) {
                options.setIntraOpNumThreads(threads);
            }
            options.enableProfiling(workDir.resolve("ort-profile").toString());
            try (OrtSession session = env.createSession(model.toString(), options);
                 OrtModel feedsOnly = OrtModel.load(model, 1, OrtSession.SessionOptions.OptLevel.BASIC_OPT)) {
                Map<String, OnnxTensor> feeds = feedsOnly.createFeeds(batch, binding, 0, batch.size());
                try {
                    for (int i = 0; i < warmup + runs; i++) {
                        session.run(feeds).close();
                    }
                } finally {
                    OnnxValue.close(feeds);
                }
                trace = Path.of(session.endProfiling());
            }
        } catch (OrtException e) {
            throw new InvalidInputException("ONNX Runtime cannot profile the model: " + e.getMessage(), e);
        }
        try {
            return summarize(Files.readAllLines(trace), runs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(trace);
            } catch (IOException ignored) {
                // a profile in the work dir, removed with it
            }
        }
    }

    /** Per op type over the last {@code runs} events of each node (the earlier ones are warm-up). */
    static List<OpTime> summarize(List<String> lines, int runs) {
        Map<String, List<Long>> byNode = new LinkedHashMap<>();
        Map<String, String> opOf = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = KERNEL.matcher(line);
            if (m.find()) {
                byNode.computeIfAbsent(m.group(2), k -> new ArrayList<>()).add(Long.parseLong(m.group(1)));
                opOf.put(m.group(2), m.group(3));
            }
        }
        Map<String, double[]> byOp = new LinkedHashMap<>(); // total micros per run, nodes
        double total = 0;
        for (Map.Entry<String, List<Long>> e : byNode.entrySet()) {
            List<Long> d = e.getValue();
            List<Long> last = d.subList(Math.max(0, d.size() - runs), d.size());
            double perRun = last.stream().mapToLong(Long::longValue).sum() / (double) Math.max(1, last.size());
            double[] acc = byOp.computeIfAbsent(opOf.get(e.getKey()), k -> new double[2]);
            acc[0] += perRun;
            acc[1]++;
            total += perRun;
        }
        List<OpTime> out = new ArrayList<>();
        for (Map.Entry<String, double[]> e : byOp.entrySet()) {
            out.add(new OpTime(e.getKey(), e.getValue()[0], total > 0 ? e.getValue()[0] / total : 0, (int) e.getValue()[1]));
        }
        out.sort(Comparator.comparingDouble(OpTime::microsPerRun).reversed());
        return out;
    }
}
