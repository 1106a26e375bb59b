package dev.quantforge.worker.tasks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import org.springframework.stereotype.Component;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.platform.ApiException;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.calib.ActivationCollector;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationParams;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.calib.Calibrators;
import dev.quantforge.quant.calib.HistogramSet;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.LayerErrors;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.onnx.PreparedModel;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.OrtFusionCheck;
import dev.quantforge.quant.qdq.QdqModel;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.qdq.QuantizationSettings;
import dev.quantforge.quant.qdq.QuantizedLayer;
import dev.quantforge.quant.runtime.CpuFeatures;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code ptq}: post-training quantization. Prepare the FP32 graph (opset 13, BatchNorm folded),
 * calibrate every activation the QDQ plan needs in ONE streaming pass (histograms only), choose
 * ranges with the configured calibrator (per node overrides; every calibrator from the same
 * histograms when {@code compareCalibrators}), write the explicit QDQ model, then measure FP32 and
 * INT8 side by side on the runtime that will serve it: accuracy, agreement, output SQNR, per-layer
 * SQNR, and interleaved latency.
 */
@Component
public class PtqHandler implements JobHandler {

    static final Set<String> CALIBRATORS = Set.of("max", "percentile", "entropy", "mse", "auto");

    static final ConfigSchema SCHEMA = schema();

    /** The ptq config keys; sensitivity and auto_quantize embed the same keys and add their own. */
    static ConfigSchema schema() {
        return ConfigSchema.object()
            .section("weights", s -> s
                    .enumField("dtype", "int8", Set.of("int8"))
                    .enumField("granularity", "per_channel", Set.of("per_channel", "per_tensor"))
                    .enumField("calibrator", "max", Set.of("max"))
                    .enumField("reduceRange", "auto", Set.of("auto", "true", "false")))
            .section("activations", s -> s
                    .enumField("dtype", "uint8", Set.of("int8", "uint8"))
                    .boolField("symmetric", null)
                    .enumField("granularity", "per_tensor", Set.of("per_tensor"))
                    .enumField("calibrator", "entropy", CALIBRATORS)
                    .numberField("percentile", 99.99, 50, 100)
                    .intField("bins", 2048L, 128, 65536))
            .section("calibration", s -> s
                    .intField("maxSamples", 512L, 1, 10_000_000)
                    .intField("batchSize", 32L, 1, 4096)
                    .stringField("fromJobId", null, 64)
                    .boolField("compareCalibrators", false))
            .section("exclude", s -> s.stringListField("nodes").stringListField("opTypes").stringListField("patterns"))
            .objectListField("overrides", o -> o
                    .stringListField("nodes")
                    .section("activations", a -> a.enumField("calibrator", null, CALIBRATORS).numberField("percentile", null, 50, 100)))
            .boolField("quantizeResidualAdd", true)
            .boolField("foldBatchNorm", true)
            .section("evaluation", s -> s.intField("maxSamples", 2000L, 1, Integer.MAX_VALUE).intField("batchSize", 32L, 1, 4096))
            .section("benchmark", BenchmarkHandler.BENCHMARK_SECTION);
    }

    @Override
    public String type() {
        return "ptq";
    }

    @Override
    public Set<String> requirements() {
        return Set.of("onnxruntime");
    }

    @Override
    public Set<DatasetRole> requiredDatasets() {
        return Set.of(DatasetRole.CALIBRATION);
    }

    @Override
    public Set<DatasetRole> optionalDatasets() {
        return Set.of(DatasetRole.EVALUATION);
    }

    @Override
    public Set<DatasetRole> labelledDatasets() {
        return Set.of(DatasetRole.EVALUATION);
    }

    @Override
    public boolean needsQuantizableNodes() {
        return true;
    }

    @Override
    public JsonNode validateConfig(JsonNode config, List<ApiException.FieldError> errors) {
        return checkQuantizationConfig(SCHEMA.apply("config", config, errors), errors);
    }

    /** Checks across ptq keys that a schema cannot express; returns the config with derived defaults. */
    static ObjectNode checkQuantizationConfig(ObjectNode c, List<ApiException.FieldError> errors) {
        JsonNode act = c.path("activations");
        if (act.isObject()) {
            boolean int8 = "int8".equals(act.path("dtype").asString());
            JsonNode sym = act.get("symmetric");
            if (sym == null) {
                ((ObjectNode) act).put("symmetric", int8);
            } else if (sym.asBoolean() != int8) {
                errors.add(new ApiException.FieldError("config.activations.symmetric",
                        "int8 activations are symmetric (TensorRT) and uint8 asymmetric (ONNX Runtime CPU); got dtype "
                                + act.path("dtype").asString() + " with symmetric " + sym.asBoolean()));
            }
        }
        String from = c.path("calibration").path("fromJobId").asString(null);
        if (from != null) {
            try {
                UUID.fromString(from);
            } catch (IllegalArgumentException e) {
                errors.add(new ApiException.FieldError("config.calibration.fromJobId", "must be the UUID of an earlier ptq job"));
            }
        }
        for (String p : textList(c.path("exclude").path("patterns"))) {
            checkPattern(p, "config.exclude.patterns", errors);
        }
        int i = 0;
        for (JsonNode o : c.path("overrides")) {
            for (String p : textList(o.path("nodes"))) {
                checkPattern(p, "config.overrides[" + i + "].nodes", errors);
            }
            i++;
        }
        return c;
    }

    private static void checkPattern(String p, String field, List<ApiException.FieldError> errors) {
        if (p.isBlank()) {
            errors.add(new ApiException.FieldError(field, "patterns must not be empty"));
        }
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        JsonNode cfg = exec.config();
        Progress progress = exec.progress();
        // prepare and calibrate once (one streaming pass, or the histograms of an earlier job)
        try (QuantizationSession s = new QuantizationSession(exec, progress.scaled(0.02, 0.45))) {
            QdqPlan plan = s.fullPlan;
            QuantizationSettings settings = s.settings;
            exec.log("plan: " + plan.quantizedNodes().size() + " of " + plan.nodes().size() + " quantizable nodes quantized, "
                    + plan.activationTensors().size() + " activation tensors calibrated, activations "
                    + settings.activationType() + ", weights " + (settings.weightsPerChannel() ? "per channel" : "per tensor")
                    + (settings.reduceRangeWeights() ? " (7-bit, reduce range)" : ""));
            Path histogramsFile = exec.workDir().resolve("histograms.bin");
            try (OutputStream out = Files.newOutputStream(histogramsFile)) {
                s.histograms.write(out);
            }
            if (exec.dataset(DatasetRole.EVALUATION).isEmpty()) {
                exec.log("no evaluation dataset: FP32 and INT8 are compared on the calibration data (agreement and SQNR, no top-1)");
            }

            // ranges and QDQ models: the configured calibrator, or every calibrator from the same histograms
            CalibrationParams params = params(cfg, settings);
            CalibrationMethod configured = CalibrationMethod.fromApiName(cfg.path("activations").path("calibrator").asString("entropy"));
            List<CalibrationMethod> methods = cfg.path("calibration").path("compareCalibrators").asBoolean(false)
                    ? List.of(CalibrationMethod.MAX, CalibrationMethod.PERCENTILE, CalibrationMethod.ENTROPY, CalibrationMethod.MSE,
                    CalibrationMethod.AUTO)
                    : List.of(configured);
            List<Overrides> overrides = overrides(cfg);
            JsonNode evalCfg = cfg.path("evaluation");
            List<Candidate> candidates = new ArrayList<>();
            double span = 0.3 / methods.size();
            for (int m = 0; m < methods.size(); m++) {
                CalibrationMethod method = methods.get(m);
                Progress p = progress.scaled(0.45 + m * span, 0.45 + (m + 1) * span);
                p.update(0, "quantize", "quantizing with the " + method.apiName() + " calibrator");
                Map<String, CalibrationResult> ranges = ranges(plan, s.histograms, method, overrides, params);
                Map<String, TensorRange> rangeMap = new LinkedHashMap<>();
                ranges.forEach((t, r) -> rangeMap.put(t, r.range()));
                QdqModel qdq = QdqWriter.write(s.fp32, plan, rangeMap, settings);
                Path int8File = exec.workDir().resolve("model." + method.apiName() + ".int8.onnx");
                Files.write(int8File, qdq.model().toByteArray());
                ModelComparison.Result cmp;
                try (OrtModel int8 = OrtModel.load(int8File, 0, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
                    cmp = new ModelComparison().compare(s.reference, int8, s.compareOn.open(), s.compareBinding,
                            evalCfg.path("batchSize").asInt(32), evalCfg.path("maxSamples").asLong(2000), p.scaled(0.1, 1.0));
                }
                exec.log(String.format("%s calibrator: INT8 top-1 %s (FP32 %s), agreement %.4f, output SQNR %.1f dB",
                        method.apiName(), fmt(cmp.top1Candidate()), fmt(cmp.top1Reference()), cmp.agreement(), cmp.sqnrDb()));
                candidates.add(new Candidate(method, ranges, qdq, int8File, cmp));
            }
            Candidate best = candidates.get(0);
            for (Candidate c : candidates) {
                if (c.score() > best.score()) {
                    best = c;
                }
            }
            if (candidates.size() > 1) {
                exec.log("best calibrator: " + best.method().apiName());
            }

            // what ONNX Runtime made of it
            Map<String, Integer> fused = OrtFusionCheck.fusedOps(best.file());
            int fusedKernels = OrtFusionCheck.fusedInt8Count(fused);
            exec.log("ONNX Runtime's optimized INT8 graph: " + fused + " (" + fusedKernels + " fused int8 kernels)");

            // per-layer error: each quantized tensor against its FP32 twin on a few samples
            progress.update(0.76, "evaluate", "per-layer SQNR");
            Map<String, Double> layerSqnr = LayerErrors.sqnrPerTensor(s.fp32, best.qdq().model(), plan.activationTensors(),
                    s.compareOn.open(), s.compareBinding, 16);

            // latency, FP32 and INT8 interleaved in the same run
            List<BenchmarkResult> latency = s.latency(best.file(), progress.scaled(0.8, 0.99));
            BenchmarkResult fpLat = latency.get(0);
            BenchmarkResult qLat = latency.get(1);
            double speedup = qLat.latencyMs().p50() > 0 ? fpLat.latencyMs().p50() / qLat.latencyMs().p50() : 0;
            exec.log(String.format("latency p50: FP32 %.3f ms, INT8 %.3f ms (%.2fx), batch %d, %d thread(s)",
                    fpLat.latencyMs().p50(), qLat.latencyMs().p50(), speedup, fpLat.batchSize(), fpLat.threads()));

            return outcome(exec, cfg, settings, plan, s.prepared, candidates, best, fused, fusedKernels, layerSqnr, fpLat, qLat, speedup,
                    histogramsFile, s.histograms);
        }
    }

    static HistogramSet histograms(JobExecution exec, OnnxMl.ModelProto fp32, QdqPlan plan, JobExecution.DatasetInput calibData,
                                    Map<String, String> binding, JsonNode cal, int bins, Progress progress) throws IOException {
        String from = cal.path("fromJobId").asString(null);
        if (from != null) {
            Path file = exec.artifactOf(UUID.fromString(from), "histograms").orElseThrow(() -> new InvalidInputException(
                    "calibration.fromJobId: job " + from + " has no histograms artifact; give a ptq job that calibrated this model"));
            HistogramSet set;
            try (InputStream in = Files.newInputStream(file)) {
                set = HistogramSet.read(in);
            }
            List<String> missing = plan.activationTensors().stream().filter(t -> !set.histograms().containsKey(t)).toList();
            if (!missing.isEmpty()) {
                throw new InvalidInputException("calibration.fromJobId: the histograms of job " + from + " lack " + missing.size()
                        + " tensors this configuration quantizes (e.g. '" + missing.get(0) + "'); calibrate again without fromJobId");
            }
            exec.log("calibration: reusing the histograms of job " + from + " (" + set.samples() + " samples, " + set.bins()
                    + " bins); no new pass");
            progress.update(1, "calibrate", "reused histograms of job " + from);
            return set;
        }
        SampleSource source = calibData.open();
        long samples = Math.min(cal.path("maxSamples").asLong(512), source.sampleCount());
        exec.log("calibration: one pass over " + samples + " samples of " + calibData.name() + ", " + plan.activationTensors().size()
                + " tensors, " + bins + " bins");
        long t0 = System.nanoTime();
        Map<String, TensorHistogram> h = new ActivationCollector().collect(fp32, new ArrayList<>(plan.activationTensors()), source,
                binding, cal.path("batchSize").asInt(32), samples, bins, progress);
        exec.log(String.format("calibration pass done in %.2f s", (System.nanoTime() - t0) / 1e9));
        return new HistogramSet(bins, samples, h);
    }

    static QuantizationSettings settings(JsonNode cfg) {
        boolean int8 = "int8".equals(cfg.path("activations").path("dtype").asString("uint8"));
        String reduce = cfg.path("weights").path("reduceRange").asString("auto");
        // ONNX Runtime's u8s8 CPU kernels saturate without VNNI; TensorRT (int8 symmetric) does not need it
        boolean reduceRange = "true".equals(reduce) || ("auto".equals(reduce) && !int8 && !CpuFeatures.hasVnni());
        JsonNode ex = cfg.path("exclude");
        return new QuantizationSettings("per_channel".equals(cfg.path("weights").path("granularity").asString("per_channel")),
                int8 ? QuantizationSettings.ActivationType.INT8_SYMMETRIC : QuantizationSettings.ActivationType.UINT8_ASYMMETRIC,
                cfg.path("quantizeResidualAdd").asBoolean(true), Set.copyOf(textList(ex.path("nodes"))),
                Set.copyOf(textList(ex.path("opTypes"))), textList(ex.path("patterns")), reduceRange);
    }

    static CalibrationParams params(JsonNode cfg, QuantizationSettings settings) {
        double percentile = cfg.path("activations").path("percentile").asDouble(99.99);
        return settings.activationType() == QuantizationSettings.ActivationType.INT8_SYMMETRIC
                ? CalibrationParams.int8Symmetric().withPercentile(percentile)
                : CalibrationParams.uint8Asymmetric().withPercentile(percentile);
    }

    /** A per-node override: node name patterns and the calibrator (and percentile) for their activation inputs. */
    record Overrides(List<Pattern> nodes, CalibrationMethod calibrator, Double percentile) {
        boolean matches(String node) {
            return nodes.stream().anyMatch(p -> p.matcher(node).matches());
        }
    }

    static List<Overrides> overrides(JsonNode cfg) {
        List<Overrides> out = new ArrayList<>();
        for (JsonNode o : cfg.path("overrides")) {
            List<Pattern> patterns = textList(o.path("nodes")).stream().map(PtqHandler::pattern).toList();
            JsonNode a = o.path("activations");
            CalibrationMethod m = a.has("calibrator") ? CalibrationMethod.fromApiName(a.get("calibrator").asString()) : null;
            Double p = a.has("percentile") ? a.get("percentile").asDouble() : null;
            out.add(new Overrides(patterns, m, p));
        }
        return out;
    }

    /** A regex, or a glob when it is not a valid regex (the same rule as the exclude patterns). */
    static Pattern pattern(String p) {
        try {
            return Pattern.compile(p);
        } catch (java.util.regex.PatternSyntaxException e) {
            return Pattern.compile(Pattern.quote(p).replace("*", "\\E.*\\Q").replace("?", "\\E.\\Q"));
        }
    }

    /** The range of every calibrated tensor: the override of a node that reads it wins over the job's calibrator. */
    static Map<String, CalibrationResult> ranges(QdqPlan plan, HistogramSet histograms, CalibrationMethod method,
                                                 List<Overrides> overrides, CalibrationParams params) {
        Map<String, CalibrationResult> out = new LinkedHashMap<>();
        for (String tensor : plan.activationTensors()) {
            CalibrationMethod m = method;
            CalibrationParams p = params;
            for (QdqPlan.PlannedNode node : plan.quantizedNodes()) {
                boolean reads = node.activationInputs().stream().anyMatch(in -> tensor.equals(plan.quantizedTensors().getOrDefault(in, in)));
                if (!reads) {
                    continue;
                }
                for (Overrides o : overrides) {
                    if (o.matches(node.name())) {
                        m = o.calibrator() != null ? o.calibrator() : m;
                        p = o.percentile() != null ? p.withPercentile(o.percentile()) : p;
                    }
                }
            }
            TensorHistogram h = histograms.histograms().get(tensor);
            if (h == null) {
                throw new InvalidInputException("no histogram for tensor '" + tensor + "'");
            }
            out.put(tensor, Calibrators.compute(h, m, p));
        }
        return out;
    }

    /** A QDQ model built with one calibrator, and how it compared with FP32. */
    record Candidate(CalibrationMethod method, Map<String, CalibrationResult> ranges, QdqModel qdq, Path file,
                     ModelComparison.Result comparison) {
        /** Top-1 when labels exist, else agreement; output SQNR breaks ties. */
        double score() {
            double primary = comparison.top1Candidate() != null ? comparison.top1Candidate() : comparison.agreement();
            return primary * 1000 + comparison.sqnrDb() / 1000;
        }
    }

    private JobOutcome outcome(JobExecution exec, JsonNode cfg, QuantizationSettings settings, QdqPlan plan, PreparedModel prepared,
                               List<Candidate> candidates, Candidate best, Map<String, Integer> fused, int fusedKernels,
                               Map<String, Double> layerSqnr, BenchmarkResult fpLat, BenchmarkResult qLat, double speedup,
                               Path histogramsFile, HistogramSet histograms) throws IOException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode runtime = RuntimeInfoJson.of(qLat.runtime());
        List<JobOutcome.ReportDraft> reports = new ArrayList<>();

        ObjectNode fp32Metrics = f.objectNode();
        putNullable(fp32Metrics, "top1", best.comparison().top1Reference());
        putLatency(fp32Metrics, fpLat);
        fp32Metrics.put("modelSizeBytes", Files.size(exec.modelFile()));
        reports.add(new JobOutcome.ReportDraft(RuntimeInfoJson.fp32Config(), fp32Metrics, runtime, f.arrayNode(), "fp32ReportId"));

        ArrayNode perCalibrator = f.arrayNode();
        for (Candidate c : candidates) {
            ObjectNode metrics = f.objectNode();
            ModelComparison.Result cmp = c.comparison();
            putNullable(metrics, "top1", cmp.top1Candidate());
            putNullable(metrics, "top1Fp32", cmp.top1Reference());
            if (cmp.top1Candidate() != null && cmp.top1Reference() != null) {
                metrics.put("accuracyDrop", cmp.top1Reference() - cmp.top1Candidate());
            }
            metrics.put("agreement", cmp.agreement());
            metrics.put("sqnrDb", cmp.sqnrDb());
            metrics.put("cosine", cmp.cosine());
            metrics.put("samples", cmp.samples());
            metrics.put("modelSizeBytes", Files.size(c.file()));
            if (c == best) {
                putLatency(metrics, qLat);
                metrics.put("latencyFp32P50Ms", fpLat.latencyMs().p50());
                metrics.put("speedupP50", speedup);
                metrics.put("fusedInt8Kernels", fusedKernels);
            }
            reports.add(new JobOutcome.ReportDraft(layerConfig(settings, plan, c), metrics, runtime,
                    layers(plan, c, c == best ? layerSqnr : Map.of()), c == best ? "reportId" : null));
            ObjectNode row = perCalibrator.addObject();
            row.put("calibrator", c.method().apiName());
            putNullable(row, "top1", cmp.top1Candidate());
            row.put("agreement", cmp.agreement());
            row.put("sqnrDb", cmp.sqnrDb());
            row.put("cosine", cmp.cosine());
        }

        ObjectNode result = f.objectNode();
        ObjectNode fp = result.putObject("fp32");
        putNullable(fp, "top1", best.comparison().top1Reference());
        fp.set("latencyMs", latencyJson(fpLat));
        ObjectNode q = result.putObject("quantized");
        putNullable(q, "top1", best.comparison().top1Candidate());
        q.set("latencyMs", latencyJson(qLat));
        q.put("agreement", best.comparison().agreement());
        q.put("sqnrDb", best.comparison().sqnrDb());
        q.put("cosine", best.comparison().cosine());
        q.put("modelSizeBytes", Files.size(best.file()));
        result.put("quantizedNodes", plan.quantizedNodes().size());
        result.put("skippedNodes", plan.nodes().size() - plan.quantizedNodes().size());
        result.put("calibrator", best.method().apiName());
        result.set("calibrators", perCalibrator);
        result.put("speedupP50", speedup);
        result.put("fusedInt8Kernels", fusedKernels);
        ObjectNode fusedJson = result.putObject("optimizedGraphOps");
        fused.forEach(fusedJson::put);
        result.put("activations", settings.activationType() == QuantizationSettings.ActivationType.INT8_SYMMETRIC ? "int8_symmetric" : "uint8_asymmetric");
        result.put("reduceRangeWeights", settings.reduceRangeWeights());
        result.put("calibrationSamples", histograms.samples());
        ArrayNode steps = result.putArray("preparation");
        prepared.steps().forEach(steps::add);

        String base = exec.modelFile().getFileName().toString();
        List<JobOutcome.ArtifactDraft> artifacts = List.of(
                new JobOutcome.ArtifactDraft("quantized_model", "model.int8.onnx", best.file(), "quantizedModelArtifactId"),
                new JobOutcome.ArtifactDraft("histograms", "histograms.bin", histogramsFile, "histogramsArtifactId"));
        exec.log("quantized model written (" + Files.size(best.file()) + " bytes) from " + base);
        return new JobOutcome(result, reports, artifacts);
    }

    /** The effective per-layer configuration (what the configHash is computed from): no measured values. */
    static ObjectNode layerConfig(QuantizationSettings settings, QdqPlan plan, Candidate c) {
        ObjectNode cfg = JsonNodeFactory.instance.objectNode();
        cfg.put("precision", "int8");
        cfg.put("activations", settings.activationType() == QuantizationSettings.ActivationType.INT8_SYMMETRIC ? "int8_symmetric" : "uint8_asymmetric");
        cfg.put("weights", settings.weightsPerChannel() ? "per_channel" : "per_tensor");
        cfg.put("reduceRangeWeights", settings.reduceRangeWeights());
        cfg.put("quantizeResidualAdd", settings.quantizeResidualAdd());
        ObjectNode layers = cfg.putObject("layers");
        for (QdqPlan.PlannedNode n : plan.nodes()) {
            ObjectNode l = layers.putObject(n.name());
            l.put("quantized", n.quantized());
            if (n.quantized()) {
                ArrayNode calibrators = l.putArray("activationCalibrators");
                for (String in : n.activationInputs()) {
                    CalibrationResult r = c.ranges().get(plan.quantizedTensors().getOrDefault(in, in));
                    calibrators.add(r == null ? "none" : c.method() == CalibrationMethod.AUTO ? "auto" : r.methodUsed().apiName());
                }
            }
        }
        return cfg;
    }

    static ArrayNode layers(QdqPlan plan, Candidate c, Map<String, Double> sqnr) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        Map<String, QuantizedLayer> byNode = new LinkedHashMap<>();
        c.qdq().layers().forEach(l -> byNode.put(l.node(), l));
        for (QdqPlan.PlannedNode n : plan.nodes()) {
            ObjectNode row = out.addObject();
            row.put("node", n.name());
            row.put("opType", n.opType());
            row.put("quantized", n.quantized());
            if (!n.quantized()) {
                row.put("reason", n.reason());
            }
            QuantizedLayer l = byNode.get(n.name());
            if (l != null && l.weightGranularity() != null) {
                row.put("weightGranularity", l.weightGranularity());
                putNullable(row, "weightAmax", l.weightAmaxMax());
            }
            if (n.quantized() && !n.activationInputs().isEmpty()) {
                String tensor = plan.quantizedTensors().getOrDefault(n.activationInputs().get(0), n.activationInputs().get(0));
                CalibrationResult r = c.ranges().get(tensor);
                if (r != null) {
                    row.put("activationCalibrator", r.methodUsed().apiName());
                    row.put("amax", r.range().amax());
                    row.put("rangeMin", r.range().min());
                    row.put("rangeMax", r.range().max());
                }
                if (l != null && !l.activations().isEmpty()) {
                    row.put("scale", l.activations().get(0).scale());
                    row.put("zeroPoint", l.activations().get(0).zeroPoint());
                }
                putNullable(row, "sqnrDb", sqnr.get(tensor));
            }
            row.putNull("sensitivity");
        }
        return out;
    }

    private static void putLatency(ObjectNode metrics, BenchmarkResult r) {
        metrics.put("latencyP50Ms", r.latencyMs().p50());
        metrics.put("latencyP90Ms", r.latencyMs().p90());
        metrics.put("latencyP99Ms", r.latencyMs().p99());
        metrics.put("latencyMeanMs", r.latencyMs().mean());
        metrics.put("throughputPerSecond", r.throughputPerSecond());
        metrics.put("batchSize", r.batchSize());
    }

    private static ObjectNode latencyJson(BenchmarkResult r) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("p50", r.latencyMs().p50());
        o.put("p90", r.latencyMs().p90());
        o.put("p99", r.latencyMs().p99());
        o.put("mean", r.latencyMs().mean());
        return o;
    }

    static void putNullable(ObjectNode o, String field, Double v) {
        if (v == null) {
            o.putNull(field);
        } else {
            o.put(field, v);
        }
    }

    static String fmt(Double v) {
        return v == null ? "n/a" : String.format("%.4f", v);
    }

    static List<String> textList(JsonNode arr) {
        List<String> out = new ArrayList<>();
        if (arr != null && arr.isArray()) {
            arr.forEach(n -> out.add(n.asString()));
        }
        return out;
    }
}
