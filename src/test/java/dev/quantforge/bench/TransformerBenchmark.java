package dev.quantforge.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.onnxruntime.OrtSession;

import dev.quantforge.dataset.io.TextDataset;
import dev.quantforge.dataset.io.TextOptions;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.bench.LatencyBenchmark;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.eval.Task;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.OrtFusionCheck;
import dev.quantforge.quant.runtime.CpuFeatures;
import dev.quantforge.quant.runtime.DjlNatives;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.testsupport.TextModels;

/**
 * Issue 11's acceptance on a real BERT-style encoder: e5-small-v2 (Maven Central) against its published int8 peer (ONNX
 * Runtime dynamic quantization), 330 real SNLI sentences at seq 128 (calibrate on the first 200, evaluate on the other
 * 130). Every mode the service offers is built through the engine's front door exactly as the ptq job builds it; each is
 * compared with FP32 (mean-pooled cosine, nearest-neighbour agreement) and all are timed interleaved in one run at batch
 * 1 and batch 8, one intra-op thread. Also tinybert (shared/datasets) in all three modes.
 *
 * <p>Not a test: tagged {@code bench}; {@code ./mvnw -o -Pbench test -Dtest=TransformerBenchmark -Dbench.heap=2g}.
 */
@Tag("bench")
class TransformerBenchmark {

    private static final int CALIBRATE = 200;
    private static final int ITERATIONS = Integer.getInteger("bench.iterations", 60);
    private static final int WARMUP = Integer.getInteger("bench.warmup", 5);
    private static final int THREADS = Integer.getInteger("bench.threads", 1);

    record Variant(String name, Path file) {
    }

    @Test
    void e5AgainstItsInt8Peer(@TempDir Path tmp) throws Exception {
        BenchReport r = new BenchReport("transformer-e5");
        r.put("cpu", CpuFeatures.describe());
        List<String> lines = Files.readAllLines(TextModels.snliSentences());
        Path calibText = tmp.resolve("calibrate.txt");
        Path evalText = tmp.resolve("evaluate.txt");
        Files.write(calibText, lines.subList(0, CALIBRATE));
        // -Dbench.evaluateAll=true: compare on all 330 (held out for the calibration-free modes, not for static)
        Files.write(evalText, lines.subList(Boolean.getBoolean("bench.evaluateAll") ? 0 : CALIBRATE, lines.size()));
        TextDataset calib = text(calibText, TextModels.e5Tokenizer());
        TextDataset eval = text(evalText, TextModels.e5Tokenizer());
        r.put("sentences", "calibrate " + calib.sampleCount() + ", evaluate " + eval.sampleCount() + " (bench/data/snli-test-sentences.txt), seq 128");

        List<Variant> variants = new ArrayList<>();
        variants.add(new Variant("fp32 (as published)", TextModels.e5Model()));
        variants.add(new Variant("peer int8 (published -q)", TextModels.e5QuantizedModel()));
        Map<String, ModelComparison.Result> quality = new LinkedHashMap<>();
        // each mode prepared as its ptq job prepares it (static upgrades to opset 13, the others keep the model's 11)
        try (QuantizationPipeline auto = QuantizationPipeline.prepare(TextModels.e5Model(), QuantizationSpec.DEFAULTS, tmp.resolve("auto"),
                s -> r.put("ptq {} log", s), Progress.NONE)) {
            r.put("ptq {} resolves mode auto to", auto.spec().mode());
            r.put("reduceRangeWeights (auto: no VNNI)", auto.settings().reduceRangeWeights());
            variants.add(new Variant("dynamic = ptq {}", auto.build(Set.of()).file()));
            for (QuantizationSpec.Mode mode : List.of(QuantizationSpec.Mode.WEIGHT_ONLY)) {
                variants.add(new Variant(mode.name().toLowerCase(Locale.ROOT) + " int4 block 32", auto.buildCalibrationFree(Set.of(), mode).file()));
            }
        }
        QuantizationSpec fullRange = QuantizationSpec.DEFAULTS.withWeights(new QuantizationSpec.Weights(QuantizationSpec.WeightGranularity.PER_CHANNEL,
                QuantizationSpec.ReduceRange.FALSE));
        try (QuantizationPipeline p = QuantizationPipeline.prepare(TextModels.e5Model(), fullRange, tmp.resolve("full"), s -> { }, Progress.NONE)) {
            variants.add(new Variant("dynamic, 8-bit weights", p.build(Set.of()).file()));
        }
        if (!"false".equals(System.getProperty("bench.static"))) {
            try (QuantizationPipeline p = QuantizationPipeline.prepare(TextModels.e5Model(), QuantizationSpec.DEFAULTS.withMode(QuantizationSpec.Mode.STATIC),
                    tmp.resolve("static"), s -> { }, Progress.NONE)) {
                long t0 = System.nanoTime();
                p.calibrate(calib, "snli-200", Progress.NONE);
                r.put("static calibration pass s", (System.nanoTime() - t0) / 1e9);
                for (CalibrationMethod m : List.of(CalibrationMethod.ENTROPY, CalibrationMethod.MSE, CalibrationMethod.PERCENTILE)) {
                    variants.add(new Variant("static " + m.apiName(), p.build(Set.of(), p.ranges(m), m).file()));
                }
            }
        }
        try (OrtModel reference = OrtModel.load(TextModels.e5Model(), 0, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            var binding = dev.quantforge.quant.data.InputBinding.bind(reference.inputs(), eval.tensors());
            for (Variant v : variants.subList(1, variants.size())) {
                try (OrtModel c = OrtModel.load(v.file(), 0, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
                    quality.put(v.name(), new ModelComparison().compare(reference, c, eval, binding, 16, eval.sampleCount(), Task.EMBEDDING,
                            Progress.NONE));
                }
            }
        }
        for (Variant v : variants) {
            r.put("optimized graph: " + v.name(), OrtFusionCheck.fusedOps(v.file()));
        }
        for (int batch : new int[] {1, 8}) {
            latencies(r, "batch " + batch, variants, eval, batch, quality);
        }
        r.write();
    }

    @Test
    void tinybertInEveryMode(@TempDir Path tmp) throws Exception {
        BenchReport r = new BenchReport("transformer-tinybert");
        List<String> lines = Files.readAllLines(TextModels.snliSentences());
        Path calibText = tmp.resolve("calibrate.txt");
        Path evalText = tmp.resolve("evaluate.txt");
        Files.write(calibText, lines.subList(0, CALIBRATE));
        Files.write(evalText, lines.subList(CALIBRATE, lines.size()));
        // tinybert's position embeddings stop at 100 tokens (tinybert-tribuo/SOURCES.md)
        TextOptions seq64 = new TextOptions(64, null);
        TextDataset calib = text(calibText, TextModels.tinybertTokenizer(), seq64);
        TextDataset eval = text(evalText, TextModels.tinybertTokenizer(), seq64);
        List<Variant> variants = new ArrayList<>();
        variants.add(new Variant("fp32 (prepared)", null));
        Map<String, ModelComparison.Result> quality = new LinkedHashMap<>();
        try (QuantizationPipeline p = QuantizationPipeline.prepare(TextModels.tinybert(), QuantizationSpec.DEFAULTS.withMode(QuantizationSpec.Mode.STATIC),
                tmp.resolve("work"), s -> { }, Progress.NONE)) {
            variants.set(0, new Variant("fp32 (prepared)", p.fp32File()));
            p.calibrate(calib, "snli-200", Progress.NONE);
            variants.add(new Variant("static " + p.spec().activations().calibrator().apiName(), p.build(Set.of()).file()));
            for (QuantizationSpec.Mode mode : List.of(QuantizationSpec.Mode.DYNAMIC, QuantizationSpec.Mode.WEIGHT_ONLY)) {
                variants.add(new Variant(mode.name().toLowerCase(Locale.ROOT), p.buildCalibrationFree(Set.of(), mode).file()));
            }
            for (Variant v : variants.subList(1, variants.size())) {
                quality.put(v.name(), p.compare(v.file(), eval, Progress.NONE));
                r.put("optimized graph: " + v.name(), OrtFusionCheck.fusedOps(v.file()));
            }
            latencies(r, "batch 8", variants, eval, 8, quality);
        }
        r.write();
    }

    private static void latencies(BenchReport r, String label, List<Variant> variants, TextDataset data, int batch,
                                  Map<String, ModelComparison.Result> quality) {
        List<OrtModel> models = new ArrayList<>();
        try {
            for (Variant v : variants) {
                models.add(OrtModel.load(v.file(), THREADS, OrtSession.SessionOptions.OptLevel.ALL_OPT));
            }
            List<BenchmarkResult> res = new LatencyBenchmark().runInterleaved(models, new BenchmarkSettings(ITERATIONS, WARMUP, batch, THREADS),
                    data, Progress.NONE);
            StringBuilder table = new StringBuilder("\n| " + label + ", " + THREADS + " thread | p50 ms | ×FP32 | pooled cosine | NN agreement | output SQNR dB | size MB |\n|---|---|---|---|---|---|---|\n");
            double fp = res.get(0).latencyMs().p50();
            for (int i = 0; i < variants.size(); i++) {
                Variant v = variants.get(i);
                ModelComparison.Result q = quality.get(v.name());
                table.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f× | %s | %s | %s | %.1f |%n", v.name(), res.get(i).latencyMs().p50(),
                        fp / res.get(i).latencyMs().p50(), q == null ? "1" : String.format(Locale.ROOT, "%.4f", q.pooledCosine()),
                        q == null ? "1" : String.format(Locale.ROOT, "%.4f", q.nearestNeighbourAgreement()),
                        q == null ? "–" : String.format(Locale.ROOT, "%.1f", q.sqnrDb()), QuantizationPipeline.sizeOf(v.file()) / 1e6));
            }
            r.put(label, table.toString());
        } finally {
            models.forEach(OrtModel::close);
        }
    }

    private static TextDataset text(Path file, Path tokenizer) throws Exception {
        return text(file, tokenizer, TextOptions.DEFAULT);
    }

    private static TextDataset text(Path file, Path tokenizer, TextOptions options) throws Exception {
        DjlNatives.useCacheDir(Path.of("target", "djl"));
        TextDataset.TextSummary s = TextDataset.scan(file, file.getFileName().toString(), tokenizer, options, Long.MAX_VALUE);
        return new TextDataset(file, tokenizer, options, s.layout(), s.sentences(), s.hasLabels());
    }
}
