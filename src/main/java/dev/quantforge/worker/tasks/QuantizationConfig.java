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
import dev.quantforge.job.JobTypeSpec;
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
import dev.quantforge.quant.inspect.ModelSummary;
import dev.quantforge.quant.qdq.QuantizationSettings;
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
                                .numberField("percentile", null, 50, 100))
                        .enumField("floatPrecision", null, QuantizationSpec.FloatPrecision.class))
                .enumField("floatPrecision", d.floatPrecision(), QuantizationSpec.FloatPrecision.class)
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
            } else if (p.isString()) {
                try {
                    QuantizationSettings.compile(p.asString());
                } catch (InvalidInputException e) {
                    errors.add(new FieldError(field, e.getMessage()));
                }
            }
        }
    }

    /**
     * What the config names must exist: every excluded node, op type and pattern (and every override's pattern) must match a
     * node of the model, the reused histograms must be a succeeded static ptq job's of the same model, a fixed-batch model
     * benchmarks at its batch, and top-1 needs labels.
     */
    static void checkSubmission(ObjectNode c, JobTypeSpec.Submission s, List<FieldError> errors) {
        checkSubmission(c, MODE, s, errors);
    }

    static void checkSubmission(ObjectNode c, String modeKey, JobTypeSpec.Submission s, List<FieldError> errors) {
        resolveMode(c, modeKey, s, errors);
        checkFloatPrecision(c, modeKey, errors);
        checkNames(c, s, errors);
        checkHistogramsJob(c.path("calibration").path("fromJobId"), "config.calibration.fromJobId", s, errors);
        checkBenchmarkBatch(c, s, errors);
    }

    /**
     * Mode {@code auto} is made concrete for the model at submission ({@link QuantizationSpec#resolvedFor}), so the job
     * stores, runs and reports one mode; a static result needs calibration data.
     */
    private static void resolveMode(ObjectNode c, String modeKey, JobTypeSpec.Submission s, List<FieldError> errors) {
        boolean auto = "auto".equals(c.path(modeKey).asString());
        if (auto) {
            c.put(modeKey, ConfigSchema.apiName(spec(c, modeKey).autoMode(s.model())));
        }
        boolean calibrates = c.path("calibration").path("fromJobId").isString() || s.dataset(DatasetRole.CALIBRATION).isPresent()
                || s.dataset(DatasetRole.TRAINING).isPresent();
        if ("static".equals(c.path(modeKey).asString()) && !calibrates) {
            errors.add(new FieldError(DatasetRole.CALIBRATION.field(), "is required: " + (auto ? modeKey + " auto is static for this model"
                    + " (dynamic is chosen only for text transformers)" : "mode static calibrates activation ranges")
                    + "; give a calibration set (or calibration.fromJobId), or " + modeKey + " dynamic or weight_only, which need none"));
        }
    }

    /** FP16 for the float nodes is decided from the ranges the calibration pass observes: static mode only. */
    private static void checkFloatPrecision(ObjectNode c, String modeKey, List<FieldError> errors) {
        String mode = c.path(modeKey).asString();
        if (mode.equals("static") || mode.equals("auto")) {
            return;
        }
        if ("fp16".equals(c.path("floatPrecision").asString())) {
            errors.add(new FieldError("config.floatPrecision", "fp16 needs " + modeKey + " static: the calibration pass observes the "
                    + "ranges each FP16 node must hold (mode " + mode + " has no calibration pass)"));
        }
        int i = 0;
        for (JsonNode o : c.path("overrides")) {
            if ("fp16".equals(o.path("floatPrecision").asString())) {
                errors.add(new FieldError("config.overrides[" + i + "].floatPrecision", "fp16 needs " + modeKey + " static, got " + mode));
            }
            i++;
        }
    }

    private static void checkNames(ObjectNode c, JobTypeSpec.Submission s, List<FieldError> errors) {
        JsonNode exclude = c.path("exclude");
        boolean any = !exclude.path("nodes").isEmpty() || !exclude.path("patterns").isEmpty() || !c.path("overrides").isEmpty();
        for (JsonNode op : exclude.path("opTypes")) {
            if (!s.model().opTypes().containsKey(op.asString())) {
                errors.add(new FieldError("config.exclude.opTypes", "the model has no " + op.asString() + " node; its op types are "
                        + String.join(", ", s.model().opTypes().keySet())));
            }
        }
        if (!any) {
            return; // the node list is read from the stored model only when names are given
        }
        List<ModelSummary.NodeRef> nodes = s.nodes();
        Set<String> names = new java.util.HashSet<>();
        nodes.forEach(n -> names.add(n.name()));
        String examples = examples(s.model().quantizableNodes().isEmpty() ? nodes : s.model().quantizableNodes());
        for (JsonNode n : exclude.path("nodes")) {
            if (!names.contains(n.asString())) {
                errors.add(new FieldError("config.exclude.nodes", "the model has no node named '" + n.asString() + "'; node names look like "
                        + examples + " (GET /api/v1/models/" + s.modelId() + " lists the quantizable ones)"));
            }
        }
        checkPatternsMatch(exclude.path("patterns"), "config.exclude.patterns", nodes, examples, errors);
        int i = 0;
        for (JsonNode o : c.path("overrides")) {
            checkPatternsMatch(o.path("nodes"), "config.overrides[" + i + "].nodes", nodes, examples, errors);
            i++;
        }
    }

    private static void checkPatternsMatch(JsonNode patterns, String field, List<ModelSummary.NodeRef> nodes, String examples,
                                           List<FieldError> errors) {
        for (JsonNode p : patterns) {
            java.util.regex.Pattern regex = QuantizationSettings.compile(p.asString());
            if (nodes.stream().noneMatch(n -> regex.matcher(n.name()).matches())) {
                errors.add(new FieldError(field, "pattern '" + p.asString() + "' matches no node of the model (it must match a whole"
                        + " node name); node names look like " + examples));
            }
        }
    }

    private static String examples(List<ModelSummary.NodeRef> nodes) {
        return nodes.stream().limit(4).map(n -> "'" + n.name() + "'").collect(java.util.stream.Collectors.joining(", "));
    }

    /** A job whose histograms are reused: it exists, quantized the same model, is a ptq job and has its histograms. */
    static void checkHistogramsJob(JsonNode value, String field, JobTypeSpec.Submission s, List<FieldError> errors) {
        if (!value.isString()) {
            return;
        }
        UUID id;
        try {
            id = UUID.fromString(value.asString());
        } catch (IllegalArgumentException e) {
            return; // reported by the config check
        }
        Optional<JobTypeSpec.JobFacts> job = s.job(id);
        if (job.isEmpty()) {
            errors.add(new FieldError(field, "there is no job " + id + "; give the id of a succeeded ptq job of this model"));
            return;
        }
        JobTypeSpec.JobFacts j = job.get();
        if (!j.modelId().equals(s.modelId())) {
            errors.add(new FieldError(field, "job " + id + " quantized another model (" + j.modelId() + "); its histograms do not fit model "
                    + s.modelId()));
        } else if (!"ptq".equals(j.type())) {
            errors.add(new FieldError(field, "job " + id + " is a " + j.type() + " job; histograms come from a ptq job (mode static)"));
        } else if (!"succeeded".equals(j.state())) {
            errors.add(new FieldError(field, "job " + id + " is " + j.state() + "; its histograms exist once it has succeeded"));
        } else if (j.result() == null || j.result().path("histogramsArtifactId").isMissingNode()) {
            errors.add(new FieldError(field, "job " + id + " has no histograms (it was a " + (j.result() == null ? "?" : j.result().path("mode")
                    .asString("?")) + " ptq: only mode static calibrates)"));
        }
    }

    /** A model with a fixed batch dimension runs at that batch only. */
    static void checkBenchmarkBatch(ObjectNode c, JobTypeSpec.Submission s, List<FieldError> errors) {
        JsonNode batch = c.path("benchmark").path("batchSize");
        if (!batch.isNumber()) {
            return;
        }
        Long fixed = fixedBatch(s.model());
        if (fixed != null && fixed != batch.asLong() && batch.asLong() == BenchmarkSettings.DEFAULTS.batchSize()) {
            ((ObjectNode) c.path("benchmark")).put("batchSize", fixed); // the default batch: the model's own instead
        } else if (fixed != null && fixed != batch.asLong()) {
            errors.add(new FieldError("config.benchmark.batchSize", "model " + s.modelId() + " has a fixed batch of " + fixed
                    + " (its inputs' first dimension); use batchSize " + fixed + " or export the model with a dynamic batch"));
        }
    }

    /** The fixed first dimension shared by the model's tensor inputs, or null when any is symbolic. */
    private static Long fixedBatch(ModelSummary model) {
        Long fixed = null;
        for (var in : model.tensorInputs()) {
            if (in.shape().isEmpty() || !(in.shape().get(0) instanceof Long d)) {
                return null;
            }
            fixed = d;
        }
        return fixed;
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
        boolean reusesHistograms = c.path("calibration").path("fromJobId").isString();
        if (statik && !reusesHistograms && !given.contains(DatasetRole.CALIBRATION) && !given.contains(DatasetRole.TRAINING)) {
            errors.add(new FieldError(DatasetRole.CALIBRATION.field(), "is required for mode static (calibrated activation ranges), unless"
                    + " calibration.fromJobId reuses an earlier ptq job's histograms; mode dynamic or weight_only needs no calibration set"));
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
            if (!p.spec().needsCalibration()) {
                exec.log("mode " + p.spec().mode().name().toLowerCase(java.util.Locale.ROOT) + ": weights quantized ahead, no calibration pass");
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
