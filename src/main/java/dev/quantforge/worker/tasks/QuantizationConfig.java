package dev.quantforge.worker.tasks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.platform.ApiException.FieldError;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.bench.BenchmarkSettings;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.HistogramSet;
import dev.quantforge.quant.eval.Task;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.worker.JobExecution;

/**
 * The quantization config shared by ptq, sensitivity, auto_quantize and qat: its schema (defaults from
 * {@link QuantizationSpec#DEFAULTS}), the checks across its keys, its binding to the engine's
 * {@link QuantizationSpec}, and opening a calibrated pipeline for a job.
 */
final class QuantizationConfig {

    private QuantizationConfig() {
    }

    /** The {@code benchmark} section (also the benchmark job's), defaults from {@link BenchmarkSettings#DEFAULTS}. */
    static final Consumer<ConfigSchema> BENCHMARK_SECTION = s -> s
            .intField("iterations", (long) BenchmarkSettings.DEFAULTS.iterations(), 1, 1_000_000)
            .intField("warmup", (long) BenchmarkSettings.DEFAULTS.warmup(), 0, 100_000)
            .intField("batchSize", (long) BenchmarkSettings.DEFAULTS.batchSize(), 1, 4096)
            .intField("threads", (long) BenchmarkSettings.DEFAULTS.threads(), 1, 256);

    /** The key of the quantization mode: {@code mode}, except where a job type's own {@code mode} came first. */
    static final String MODE = "mode";
    /** sensitivity's {@code mode} is its probe mode (only_this / all_but_this); its quantization mode is this key. */
    static final String SENSITIVITY_MODE = "quantizationMode";

    /** The ptq config keys; the other quantizing types embed them and add their own. */
    static ConfigSchema schema() {
        return schema(MODE);
    }

    static ConfigSchema schema(String modeKey) {
        QuantizationSpec d = QuantizationSpec.DEFAULTS;
        return ConfigSchema.object()
                .enumField(modeKey, d.mode(), QuantizationSpec.Mode.class)
                .enumField("target", d.target(), QuantizationSpec.Target.class)
                .enumField("task", null, Task.class)
                .section("weights", s -> s
                        // derived from the mode when absent: int4 for weight_only, else int8
                        .enumField("dtype", null, QuantizationSpec.WeightDtype.class)
                        .enumField("granularity", d.weights().granularity(), QuantizationSpec.WeightGranularity.class)
                        .enumField("calibrator", "max", Set.of("max"))
                        .enumField("reduceRange", d.weights().reduceRange(), QuantizationSpec.ReduceRange.class)
                        .intField("blockSize", (long) d.weights().blockSize(), 16, 256))
                .section("activations", s -> s
                        // derived from the target when absent: uint8 for onnxruntime_cpu, int8 (symmetric) for tensorrt
                        .enumField("dtype", null, QuantizationSpec.ActivationDtype.class)
                        .boolField("symmetric", null)
                        .enumField("granularity", "per_tensor", Set.of("per_tensor"))
                        .enumField("calibrator", d.activations().calibrator(), CalibrationMethod.class)
                        .numberField("percentile", d.activations().percentile(), 50, 100)
                        .intField("bins", (long) d.activations().bins(), 128, 65536))
                .section("calibration", s -> s
                        .intField("maxSamples", d.calibration().maxSamples(), 1, 10_000_000)
                        .intField("batchSize", (long) d.calibration().batchSize(), 1, 4096)
                        .stringField("fromJobId", null, 64)
                        .boolField("compareCalibrators", d.calibration().compareCalibrators()))
                .section("exclude", s -> s.stringListField("nodes").stringListField("opTypes").stringListField("patterns"))
                .objectListField("overrides", o -> o
                        .stringListField("nodes")
                        .section("activations", a -> a.enumField("calibrator", null, CalibrationMethod.class)
                                .numberField("percentile", null, 50, 100)))
                .boolField("quantizeResidualAdd", d.quantizeResidualAdd())
                .boolField("quantizeNormalizationInputs", d.quantizeNormalizationInputs())
                .boolField("foldBatchNorm", d.foldBatchNorm())
                .section("evaluation", s -> s.intField("maxSamples", d.evaluation().maxSamples(), 1, Integer.MAX_VALUE)
                        .intField("batchSize", (long) d.evaluation().batchSize(), 1, 4096))
                .section("benchmark", BENCHMARK_SECTION);
    }

    /**
     * Checks across the keys that the schema cannot express; fills the derived {@code weights.dtype} (from the mode),
     * {@code activations.dtype} (from the target) and {@code activations.symmetric}.
     */
    static void check(ObjectNode c, List<FieldError> errors) {
        check(c, MODE, errors);
    }

    static void check(ObjectNode c, String modeKey, List<FieldError> errors) {
        String mode = c.path(modeKey).asString("static");
        JsonNode weights = c.path("weights");
        if (weights.isObject()) {
            String expected = "weight_only".equals(mode) ? "int4" : "int8";
            JsonNode dtype = weights.get("dtype");
            if (dtype == null) {
                ((ObjectNode) weights).put("dtype", expected);
            } else if (!dtype.asString().equals(expected)) {
                errors.add(new FieldError("config.weights.dtype", "mode " + mode + " quantizes weights to " + expected + ", got "
                        + dtype.asString() + (expected.equals("int8") ? "; int4 weights are mode weight_only" : "")));
            }
            int block = weights.path("blockSize").asInt(32);
            if (Integer.bitCount(block) != 1) {
                errors.add(new FieldError("config.weights.blockSize", "must be a power of two (16, 32, 64, 128 or 256), got " + block));
            }
        }
        JsonNode act = c.path("activations");
        if (act.isObject() && act.get("dtype") == null) {
            ((ObjectNode) act).put("dtype", "tensorrt".equals(c.path("target").asString()) ? "int8" : "uint8");
        }
        if (act.isObject()) {
            boolean int8 = "int8".equals(act.path("dtype").asString());
            JsonNode sym = act.get("symmetric");
            if (sym == null) {
                ((ObjectNode) act).put("symmetric", int8);
            } else if (sym.asBoolean() != int8) {
                errors.add(new FieldError("config.activations.symmetric",
                        "int8 activations are symmetric (TensorRT) and uint8 asymmetric (ONNX Runtime CPU); got dtype "
                                + act.path("dtype").asString() + " with symmetric " + sym.asBoolean()));
            }
        }
        checkJobId(c.path("calibration").path("fromJobId"), "config.calibration.fromJobId", "an earlier ptq job", errors);
        checkPatterns(c.path("exclude").path("patterns"), "config.exclude.patterns", errors);
        int i = 0;
        for (JsonNode o : c.path("overrides")) {
            checkPatterns(o.path("nodes"), "config.overrides[" + i + "].nodes", errors);
            i++;
        }
    }

    /** A string field that must hold a job id. */
    static void checkJobId(JsonNode value, String field, String what, List<FieldError> errors) {
        if (value.isString()) {
            try {
                UUID.fromString(value.asString());
            } catch (IllegalArgumentException e) {
                errors.add(new FieldError(field, "must be the UUID of " + what));
            }
        }
    }

    private static void checkPatterns(JsonNode list, String field, List<FieldError> errors) {
        for (JsonNode p : list) {
            if (p.isString() && p.asString().isBlank()) {
                errors.add(new FieldError(field, "patterns must not be empty"));
            }
        }
    }

    /**
     * Static quantization calibrates (a calibration set, or the histograms of an earlier job); every mode compares the
     * quantized model with FP32 on some data: the evaluation set, else the calibration set.
     */
    static void checkDatasets(ObjectNode c, Set<DatasetRole> given, List<FieldError> errors) {
        checkDatasets(c, MODE, given, errors);
    }

    static void checkDatasets(ObjectNode c, String modeKey, Set<DatasetRole> given, List<FieldError> errors) {
        boolean statik = "static".equals(c.path(modeKey).asString("static"));
        if (statik && !given.contains(DatasetRole.CALIBRATION) && !given.contains(DatasetRole.TRAINING)) {
            errors.add(new FieldError(DatasetRole.CALIBRATION.field(), "is required for mode static (calibrated activation ranges);"
                    + " mode dynamic or weight_only needs no calibration set"));
        }
        if (!statik && given.stream().noneMatch(r -> r != DatasetRole.TRAINING)) {
            errors.add(new FieldError(DatasetRole.EVALUATION.field(), "is required for mode " + c.path(modeKey).asString()
                    + ": the quantized model is compared with FP32 on it (no calibration set needed)"));
        }
    }

    /** The engine's spec of a validated config. */
    static QuantizationSpec spec(JsonNode config) {
        return spec(config, MODE);
    }

    /** The spec of a config whose quantization mode is under {@code modeKey}. */
    static QuantizationSpec spec(JsonNode config, String modeKey) {
        if (MODE.equals(modeKey)) {
            return dev.quantforge.platform.ApiJson.bind(config, QuantizationSpec.class);
        }
        ObjectNode copy = (ObjectNode) config.deepCopy();
        copy.set(MODE, config.get(modeKey));
        copy.remove(modeKey);
        return dev.quantforge.platform.ApiJson.bind(copy, QuantizationSpec.class);
    }

    /** The job whose histograms the config reuses ({@code calibration.fromJobId}). */
    static Optional<UUID> histogramsFrom(JsonNode config) {
        JsonNode from = config.path("calibration").path("fromJobId");
        return from.isString() ? Optional.of(UUID.fromString(from.asString())) : Optional.empty();
    }

    /**
     * Prepares the job's model and calibrates it once: the histograms of {@code histogramsFrom} when given,
     * else one pass over the calibration set (or, for qat without one, the training set).
     */
    static QuantizationPipeline open(JobExecution exec, QuantizationSpec spec, Optional<UUID> histogramsFrom, Progress progress)
            throws IOException {
        QuantizationPipeline p = QuantizationPipeline.prepare(exec.modelFile(), spec, exec.workDir(), exec::log, progress.scaled(0, 0.05));
        try {
            Progress calibration = progress.scaled(0.05, 1);
            if (!spec.needsCalibration()) {
                exec.log("mode " + spec.mode().name().toLowerCase(java.util.Locale.ROOT) + ": weights quantized ahead, no calibration pass");
            } else if (histogramsFrom.isPresent()) {
                UUID from = histogramsFrom.get();
                Path file = exec.artifactOf(from, "histograms").orElseThrow(() -> new InvalidInputException(
                        "calibration.fromJobId: job " + from + " has no histograms artifact; give a ptq job that calibrated this model"));
                HistogramSet set;
                try (InputStream in = Files.newInputStream(file)) {
                    set = HistogramSet.read(in);
                }
                p.useHistograms(set, "job " + from, calibration);
            } else {
                JobExecution.DatasetInput calib = exec.dataset(DatasetRole.CALIBRATION)
                        .or(() -> exec.dataset(DatasetRole.TRAINING)).orElseThrow();
                p.calibrate(calib.open(), calib.name(), calibration);
            }
            return p;
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** The data FP32 and INT8 are compared on: the evaluation set, else the calibration (or training) set. */
    static JobExecution.DatasetInput compareOn(JobExecution exec) {
        return exec.dataset(DatasetRole.EVALUATION).or(() -> exec.dataset(DatasetRole.CALIBRATION))
                .or(() -> exec.dataset(DatasetRole.TRAINING)).orElseThrow();
    }
}
