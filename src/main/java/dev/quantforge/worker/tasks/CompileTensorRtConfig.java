package dev.quantforge.worker.tasks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.compile.CompileRequest;
import dev.quantforge.compile.EngineEvaluationRequest;
import dev.quantforge.compile.InputShapeRange;
import dev.quantforge.compile.TensorRtCompiler;
import dev.quantforge.compile.TensorRtPrecision;
import dev.quantforge.compile.TensorRtVersion;
import dev.quantforge.compile.TrtexecBenchmark;
import dev.quantforge.job.ConfigSchema;
import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.job.JobTypeSpec.DatasetRole;
import dev.quantforge.platform.ApiException.FieldError;
import dev.quantforge.worker.TensorRtRouting;

/**
 * The {@code compile_tensorrt} config (docs/API.md "compile_tensorrt"), bound at the edge: its defaults (from the
 * compile engine's own, {@link #DEFAULTS}), schema, the checks across keys, against the model (shapes of dynamic
 * inputs) and against the job it compiles ({@code fromJobId}), and the worker capabilities it requires.
 *
 * @param fromJobId            a succeeded ptq, qat or auto_quantize job whose quantized model is compiled; null
 *                             compiles the job's model as uploaded
 * @param precision            strongly_typed (Q/DQ decide; default), or the weakly typed fp16 / int8 of TensorRT &lt; 11
 * @param shapes               input → {min, opt, max}; required for every input with a dynamic dimension
 * @param workspaceMiB         TensorRT's workspace limit; null = TensorRT's default (the GPU's memory)
 * @param timingCache          reuse and update the worker's timing cache for this GPU model and TensorRT version
 * @param evaluate             run the engine over the evaluation set (resolved at submission: default true
 *                             exactly when an evaluation set is given)
 * @param buildTimeoutSeconds  limit of the build-and-benchmark trtexec run; the process is killed after it
 * @param requirements         where the engine must be built (engines only run on the GPU model and TensorRT
 *                             version they were built with)
 */
record CompileTensorRtConfig(String fromJobId, TensorRtPrecision precision, Map<String, Shape> shapes, Integer workspaceMiB,
                             int builderOptimizationLevel, boolean timingCache, Boolean evaluate, Evaluation evaluation,
                             Benchmark benchmark, int buildTimeoutSeconds, Requirements requirements) {

    record Shape(List<Long> min, List<Long> opt, List<Long> max) {
    }

    /** @param timeoutPerRunSeconds limit of one trtexec run over one batch */
    record Evaluation(long maxSamples, int batchSize, int timeoutPerRunSeconds) {
    }

    /** trtexec's own terms: {@code --iterations}, {@code --warmUp} (ms), {@code --duration} (s). */
    record Benchmark(int iterations, int warmUpMs, int durationSeconds) {
    }

    /**
     * @param gpu                  the GPU's name as nvidia-smi prints it ("NVIDIA L4"; case and punctuation do not matter)
     * @param minComputeCapability "8.0"
     * @param tensorrtVersion      "10", "10.9" or "10.9.0"
     */
    record Requirements(String gpu, String minComputeCapability, String tensorrtVersion) {
    }

    /** The job types whose quantized model a compile_tensorrt job can take ({@code quantized_model} artifact). */
    static final Set<String> SOURCE_TYPES = Set.of("ptq", "qat", "auto_quantize");
    static final String QUANTIZED_MODEL = "quantized_model";

    /** Every default in one place: the compile engine's ({@link CompileRequest}, {@link TrtexecBenchmark}, ...). */
    static final CompileTensorRtConfig DEFAULTS = new CompileTensorRtConfig(null, CompileRequest.DEFAULT_PRECISION, Map.of(), null,
            CompileRequest.DEFAULT_BUILDER_OPTIMIZATION_LEVEL, true, null,
            new Evaluation(EngineEvaluationRequest.DEFAULT_MAX_SAMPLES, EngineEvaluationRequest.DEFAULT_BATCH_SIZE,
                    (int) EngineEvaluationRequest.DEFAULT_TIMEOUT_PER_RUN.toSeconds()),
            new Benchmark(TrtexecBenchmark.DEFAULT.iterations(), TrtexecBenchmark.DEFAULT.warmUpMs(), TrtexecBenchmark.DEFAULT.durationSeconds()),
            (int) CompileRequest.DEFAULT_BUILD_TIMEOUT.toSeconds(), new Requirements(null, null, null));

    static ConfigSchema schema() {
        CompileTensorRtConfig d = DEFAULTS;
        return ConfigSchema.object()
                .stringField("fromJobId", null, 64)
                .enumField("precision", d.precision(), TensorRtPrecision.class)
                .anyField("shapes") // input names are the model's: checked in check() and against the model
                .intField("workspaceMiB", null, 1, 16L * 1024 * 1024)
                .intField("builderOptimizationLevel", (long) d.builderOptimizationLevel(), 0, CompileRequest.MAX_BUILDER_OPTIMIZATION_LEVEL)
                .boolField("timingCache", d.timingCache())
                .boolField("evaluate", null)
                .section("evaluation", s -> s
                        .intField("maxSamples", d.evaluation().maxSamples(), 1, Integer.MAX_VALUE)
                        .intField("batchSize", (long) d.evaluation().batchSize(), 1, 4096)
                        .intField("timeoutPerRunSeconds", (long) d.evaluation().timeoutPerRunSeconds(), 1, 86_400))
                .section("benchmark", s -> s
                        .intField("iterations", (long) d.benchmark().iterations(), 1, 1_000_000)
                        .intField("warmUpMs", (long) d.benchmark().warmUpMs(), 0, 600_000)
                        .intField("durationSeconds", (long) d.benchmark().durationSeconds(), 0, 3600))
                .intField("buildTimeoutSeconds", (long) d.buildTimeoutSeconds(), 1, 7L * 86_400)
                .section("requirements", s -> s
                        .stringField("gpu", null, 200)
                        .stringField("minComputeCapability", null, 16)
                        .stringField("tensorrtVersion", null, 16));
    }

    /** Checks across keys: the shapes' form, the job id's, the requirements' formats, precision vs a TensorRT 11 requirement. */
    static void check(ObjectNode c, List<FieldError> errors) {
        JsonNode from = c.path("fromJobId");
        if (from.isString()) {
            try {
                UUID.fromString(from.stringValue());
            } catch (IllegalArgumentException e) {
                errors.add(new FieldError("config.fromJobId", "must be the UUID of a succeeded ptq, qat or auto_quantize job, got '"
                        + from.stringValue() + "'"));
            }
        }
        shapes(c.get("shapes"), errors);
        JsonNode req = c.path("requirements");
        String cc = req.path("minComputeCapability").asString(null);
        if (cc != null && !cc.matches("\\d{1,2}\\.\\d")) {
            errors.add(new FieldError("config.requirements.minComputeCapability", "must be major.minor, e.g. \"8.0\", got '" + cc + "'"));
        }
        String trt = req.path("tensorrtVersion").asString(null);
        Optional<TensorRtVersion> version = TensorRtVersion.parse(trt);
        if (trt != null && version.isEmpty()) {
            errors.add(new FieldError("config.requirements.tensorrtVersion", "must be a TensorRT version: \"10\", \"10.9\" or \"10.9.0\", got '"
                    + trt + "'"));
        }
        String gpu = req.path("gpu").asString(null);
        if (gpu != null && !gpu.matches("(?s).*[A-Za-z0-9].*")) {
            errors.add(new FieldError("config.requirements.gpu", "must name a GPU as nvidia-smi prints it, e.g. \"NVIDIA L4\""));
        }
        String precision = c.path("precision").asString("strongly_typed");
        if (!precision.equals("strongly_typed") && version.isPresent() && !version.get().hasWeakTypingFlags()) {
            errors.add(new FieldError("config.precision", "precision " + precision + " is weak typing (--" + precision
                    + "), which TensorRT " + version.get() + " no longer has (removed in TensorRT 11); use strongly_typed with a QDQ model"));
        }
    }

    /** {@code evaluate} resolved: absent means "when an evaluation set is given"; true without one is an error. */
    static void checkDatasets(ObjectNode c, Set<DatasetRole> given, List<FieldError> errors) {
        boolean hasSet = given.contains(DatasetRole.EVALUATION);
        JsonNode evaluate = c.get("evaluate");
        if (evaluate == null) {
            c.put("evaluate", hasSet);
        } else if (evaluate.asBoolean() && !hasSet) {
            errors.add(new FieldError(DatasetRole.EVALUATION.field(), "is required for evaluate true (the engine is run over it); "
                    + "give an evaluation set or evaluate false"));
        }
    }

    /** What the submission points at: the job to compile, and the shapes against the model's inputs. */
    static void checkSubmission(ObjectNode c, JobTypeSpec.Submission s, List<FieldError> errors) {
        String from = c.path("fromJobId").asString(null);
        if (from != null) {
            UUID id = UUID.fromString(from); // checked by check()
            Optional<JobTypeSpec.JobFacts> job = s.job(id);
            if (job.isEmpty()) {
                errors.add(new FieldError("config.fromJobId", "there is no job " + id + "; give a succeeded ptq, qat or auto_quantize job"));
            } else if (!SOURCE_TYPES.contains(job.get().type())) {
                errors.add(new FieldError("config.fromJobId", "job " + id + " is a " + job.get().type() + " job; a quantized model comes "
                        + "from a ptq, qat or auto_quantize job"));
            } else if (!job.get().modelId().equals(s.modelId())) {
                errors.add(new FieldError("config.fromJobId", "job " + id + " quantized model " + job.get().modelId() + ", not modelId "
                        + s.modelId() + "; leave modelId out to compile that job's model"));
            } else if (!"succeeded".equals(job.get().state())) {
                errors.add(new FieldError("config.fromJobId", "job " + id + " is " + job.get().state()
                        + "; its quantized model exists once it has succeeded"));
            } else if (job.get().result() == null || !job.get().result().path("quantizedModelArtifactId").isString()) {
                errors.add(new FieldError("config.fromJobId", "job " + id + " has no quantized model artifact to compile"));
            }
        }
        if (!errors.isEmpty()) {
            return;
        }
        try {
            TensorRtCompiler.checkShapes(s.model().inputs(), ranges(c.get("shapes")));
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError("config.shapes", e.getMessage()));
        }
    }

    /** Engines are specific to GPU model and TensorRT version: the requirements become capability tags. */
    static Set<String> requirements(ObjectNode c) {
        Set<String> tags = new TreeSet<>();
        JsonNode req = c.path("requirements");
        if (req.path("gpu").isString()) {
            tags.add(TensorRtRouting.GPU);
            tags.add(TensorRtRouting.gpuTag(req.path("gpu").stringValue()));
        }
        if (req.path("minComputeCapability").isString()) {
            tags.add(TensorRtRouting.GPU);
            tags.add(TensorRtRouting.minComputeCapabilityTag(req.path("minComputeCapability").stringValue()));
        }
        TensorRtVersion.parse(req.path("tensorrtVersion").asString(null))
                .ifPresent(v -> tags.add(TensorRtRouting.tensorrtVersionTag(req.path("tensorrtVersion").stringValue().strip())));
        return tags;
    }

    List<InputShapeRange> shapeRanges() {
        List<InputShapeRange> out = new ArrayList<>();
        shapes.forEach((input, s) -> out.add(new InputShapeRange(input, s.min(), s.opt(), s.max())));
        return out;
    }

    Duration buildTimeout() {
        return Duration.ofSeconds(buildTimeoutSeconds);
    }

    TrtexecBenchmark trtexecBenchmark() {
        return new TrtexecBenchmark(benchmark.iterations(), benchmark.warmUpMs(), benchmark.durationSeconds());
    }

    // --- shapes: {input: {min: [..], opt: [..], max: [..]}} ---

    private static void shapes(JsonNode shapes, List<FieldError> errors) {
        if (shapes == null || shapes.isNull()) {
            return;
        }
        if (!shapes.isObject()) {
            errors.add(new FieldError("config.shapes", "must be an object: {\"<input>\": {\"min\": [1,3,224,224], \"opt\": [...], \"max\": [...]}}"));
            return;
        }
        for (var e : shapes.properties()) {
            String field = "config.shapes." + e.getKey();
            JsonNode r = e.getValue();
            if (!r.isObject()) {
                errors.add(new FieldError(field, "must be an object {min, opt, max}"));
                continue;
            }
            boolean ok = true;
            for (String key : r.propertyNames()) {
                if (!Set.of("min", "opt", "max").contains(key)) {
                    errors.add(new FieldError(field + "." + key, "unknown key; known keys here: min, opt, max"));
                    ok = false;
                }
            }
            for (String key : List.of("min", "opt", "max")) {
                JsonNode dims = r.get(key);
                if (dims == null || !dims.isArray() || dims.isEmpty()) {
                    errors.add(new FieldError(field + "." + key, "is required: the dimensions, e.g. [1, 3, 224, 224]"));
                    ok = false;
                    continue;
                }
                for (JsonNode d : dims) {
                    if (!d.isNumber() || !d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 1 || d.asLong() > Integer.MAX_VALUE) {
                        errors.add(new FieldError(field + "." + key, "dimensions must be positive integers, got " + d));
                        ok = false;
                        break;
                    }
                }
            }
            if (ok) {
                try {
                    range(e.getKey(), r);
                } catch (IllegalArgumentException bad) {
                    errors.add(new FieldError(field, bad.getMessage()));
                }
            }
        }
    }

    private static List<InputShapeRange> ranges(JsonNode shapes) {
        List<InputShapeRange> out = new ArrayList<>();
        if (shapes != null && shapes.isObject()) {
            for (var e : shapes.properties()) {
                out.add(range(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    private static InputShapeRange range(String input, JsonNode r) {
        return new InputShapeRange(input, dims(r.get("min")), dims(r.get("opt")), dims(r.get("max")));
    }

    private static List<Long> dims(JsonNode array) {
        List<Long> out = new ArrayList<>();
        array.forEach(d -> out.add(d.asLong()));
        return out;
    }

    /** For the binder: a config without shapes binds to an empty map. */
    CompileTensorRtConfig {
        shapes = shapes == null ? Map.of() : new LinkedHashMap<>(shapes);
    }
}
