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

    /** The ptq config keys; the other quantizing types embed them and add their own. */
    static ConfigSchema schema() {
        QuantizationSpec d = QuantizationSpec.DEFAULTS;
        return ConfigSchema.object()
                .section("weights", s -> s
                        .enumField("dtype", "int8", Set.of("int8"))
                        .enumField("granularity", d.weights().granularity(), QuantizationSpec.WeightGranularity.class)
                        .enumField("calibrator", "max", Set.of("max"))
                        .enumField("reduceRange", d.weights().reduceRange(), QuantizationSpec.ReduceRange.class))
                .section("activations", s -> s
                        .enumField("dtype", d.activations().dtype(), QuantizationSpec.ActivationDtype.class)
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
                .boolField("foldBatchNorm", d.foldBatchNorm())
                .section("evaluation", s -> s.intField("maxSamples", d.evaluation().maxSamples(), 1, Integer.MAX_VALUE)
                        .intField("batchSize", (long) d.evaluation().batchSize(), 1, 4096))
                .section("benchmark", BENCHMARK_SECTION);
    }

    /** Checks across the keys that the schema cannot express; fills the derived {@code activations.symmetric}. */
    static void check(ObjectNode c, List<FieldError> errors) {
        JsonNode act = c.path("activations");
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

    /** The engine's spec of a validated config. */
    static QuantizationSpec spec(JsonNode config) {
        return dev.quantforge.platform.ApiJson.bind(config, QuantizationSpec.class);
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
            if (histogramsFrom.isPresent()) {
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
