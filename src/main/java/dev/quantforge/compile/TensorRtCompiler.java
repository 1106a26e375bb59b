package dev.quantforge.compile;

import dev.quantforge.quant.onnx.Graphs;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.inspect.ModelSummary;
import dev.quantforge.quant.progress.Progress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The front door of TensorRT compilation: builds an engine from an ONNX model with trtexec, benchmarks and
 * profiles it, maps its layers back to the ONNX nodes with their precision and time, checks its precision
 * against the QDQ plan, and, when asked, measures its accuracy by running it.
 *
 * <p>Plain Java; a worker makes one per TensorRT installation ({@link #detect}) and calls
 * {@link #compile} per job. Log lines go to the caller's consumer as trtexec prints them; the caller's
 * {@link Progress} is asked at least once a second and may cancel ({@code CancelledException}), which kills
 * trtexec's process tree.
 */
public final class TensorRtCompiler {

    private static final String PHASE_BUILD = "build";
    private static final String PHASE_ANALYZE = "analyze";
    /** Share of the progress bar the build takes when the engine is also evaluated. */
    private static final double BUILD_SHARE_WITH_EVALUATION = 0.5;
    private static final double BUILD_SHARE = 0.95;

    private final TensorRtInstallation tensorrt;
    private final List<GpuInfo> gpus;

    /**
     * @param gpus what nvidia-smi listed (may be empty: the GPU is then read from trtexec's log)
     */
    public TensorRtCompiler(TensorRtInstallation tensorrt, List<GpuInfo> gpus) {
        this.tensorrt = tensorrt;
        this.gpus = List.copyOf(gpus);
    }

    /** A compiler for this machine's trtexec and GPUs; empty when there is no trtexec (reasons go to diagnostics). */
    public static Optional<TensorRtCompiler> detect(Consumer<String> diagnostics) {
        return TensorRtProbe.probe(diagnostics)
                .map(trt -> new TensorRtCompiler(trt, GpuProbe.probe("nvidia-smi", diagnostics)));
    }

    public TensorRtInstallation tensorrt() {
        return tensorrt;
    }

    public List<GpuInfo> gpus() {
        return gpus;
    }

    /**
     * Builds, benchmarks, profiles and (when {@code request.evaluation()} is set) evaluates an engine.
     *
     * @throws IllegalArgumentException  when the request cannot be built by this TensorRT or misses shapes
     *                                   (before trtexec runs)
     * @throws TrtexecFailedException    when trtexec fails or times out (the message says what to change)
     * @throws EngineReportException     when trtexec's report files cannot be read
     * @throws dev.quantforge.quant.progress.CancelledException when the progress says stop
     */
    public CompileOutcome compile(CompileRequest request, Consumer<String> log, Progress progress) {
        // parsed, not loaded: the model was validated at upload, and TensorRT's parser is the judge here
        OnnxMl.ModelProto model = Graphs.parse(request.onnxModel());
        refuseWhatCannotBeBuilt(request, ModelInspector.summarize(model));
        Path dir = request.outputDirectory();
        TrtexecCommand.BuildFiles files = TrtexecCommand.BuildFiles.in(dir);
        boolean cache = request.timingCacheFile() != null;
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(files.timingCache());
            if (cache && Files.isRegularFile(request.timingCacheFile())) {
                // a job-local copy: concurrent builds never write the shared file while another reads it
                Files.copy(request.timingCacheFile(), files.timingCache());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir, e);
        }

        List<String> argv = TrtexecCommand.build(tensorrt.trtexec(), request, files, cache);
        log.accept("running " + String.join(" ", argv));
        double buildShare = request.evaluation() == null ? BUILD_SHARE : BUILD_SHARE_WITH_EVALUATION;
        ExternalProcess.Result build = TrtexecRunner.run(argv, dir, request.buildTimeout(), log,
                progress.scaled(0, buildShare), PHASE_BUILD, "building the engine", request.workspaceMiB(),
                "Raise buildTimeout, lower builderOptimizationLevel, or keep the timing cache on (rebuilds reuse it)");
        write(files.log(), build.output());
        for (Path expected : List.of(files.engine(), files.layerInfo(), files.profile())) {
            if (!Files.isRegularFile(expected)) {
                throw new EngineReportException("trtexec exited 0 but did not write " + expected.getFileName()
                        + "; its log is in " + files.log().getFileName());
            }
        }
        progress.update(buildShare, PHASE_ANALYZE, "reading the layer info and profile");

        TensorRtInstallation used = new TensorRtInstallation(tensorrt.trtexec(),
                TensorRtVersion.fromOutput(build.output()).orElse(tensorrt.version()));
        List<String> warnings = new ArrayList<>();
        GpuInfo gpu = gpuOf(build.output(), warnings);
        OnnxGraphIndex index = new OnnxGraphIndex(model);
        EngineLayers.Joined joined = EngineLayers.join(LayerInfoFile.read(files.layerInfo()),
                ProfileFile.read(files.profile()), index);
        warnings.addAll(joined.warnings());
        Int8PlanCheck.Result plan = Int8PlanCheck.check(index, joined.layers());
        if (!plan.unmatchedNodes().isEmpty()) {
            warnings.add(plan.unmatchedNodes().size() + " node(s) planned INT8 are named by no engine layer, so their "
                    + "precision is unknown: " + plan.unmatchedNodes().stream().limit(5).collect(Collectors.joining(", ")));
        }
        Optional<PerformanceSummary> performance = PerformanceSummary.parse(build.output());
        if (performance.isEmpty()) {
            warnings.add("trtexec printed no performance summary, so the engine has no latency");
        }
        Path timingCache = cache ? publishTimingCache(files.timingCache(), request.timingCacheFile(), warnings) : null;

        EngineAccuracy accuracy = null;
        if (request.evaluation() != null) {
            accuracy = EngineEvaluator.evaluate(tensorrt.trtexec(), files.engine(), request.onnxModel(), request.shapes(),
                    request.evaluation(), dir.resolve("engine-evaluation"), log, progress.scaled(buildShare, 1.0));
        }
        progress.update(1.0, PHASE_ANALYZE, "engine built");
        return new CompileOutcome(files.engine(), engineName(request.onnxModel(), gpu, used.version()), timingCache,
                files.layerInfo(), files.profile(), files.log(), used, gpu, performance.orElse(null), joined.layers(),
                plan.plannedInt8Nodes(), plan.notInt8AsPlanned(), warnings, accuracy, argv, build.elapsed());
    }

    /**
     * Runs a built engine over an evaluation set and compares it with the QDQ model in ONNX Runtime (the
     * same measurement {@link #compile} makes when the request has an evaluation).
     *
     * @param shapes the optimization profiles the engine was built with (empty for a static engine)
     */
    public EngineAccuracy evaluateEngine(Path engine, Path qdqModel, List<InputShapeRange> shapes,
                                         EngineEvaluationRequest evaluation, Path workDirectory, Consumer<String> log,
                                         Progress progress) {
        return EngineEvaluator.evaluate(tensorrt.trtexec(), engine, qdqModel, shapes, evaluation, workDirectory, log, progress);
    }

    private void refuseWhatCannotBeBuilt(CompileRequest request, ModelSummary summary) {
        TensorRtVersion version = tensorrt.version();
        if (request.precision().isWeaklyTyped() && !version.hasWeakTypingFlags()) {
            throw new IllegalArgumentException("precision " + request.precision().apiName() + " needs trtexec's weak-typing "
                    + "flags (--int8/--fp16), which TensorRT " + version + " no longer has (removed in TensorRT 11). Use "
                    + "precision strongly_typed with a QDQ model (a ptq, qat or auto_quantize artifact)");
        }
        if (!request.precision().isWeaklyTyped() && !version.buildsStronglyTyped()) {
            throw new IllegalArgumentException("precision strongly_typed needs TensorRT " + TensorRtVersion.FIRST_STRONGLY_TYPED
                    + " or newer; this worker has TensorRT " + version + ". Use a worker with TensorRT 10, or precision int8");
        }
        checkShapes(summary.inputs(), request.shapes());
    }

    /**
     * The shapes against the model's inputs: every input with a dynamic dimension needs a range, a range's rank
     * is the input's, a fixed dimension is the same in min, opt and max, and every range names an input.
     * A job checks this at submission with the same words trtexec's run would otherwise need.
     *
     * @throws IllegalArgumentException saying which input and what to give
     */
    public static void checkShapes(List<ModelSummary.IoInfo> inputs, List<InputShapeRange> ranges) {
        Map<String, InputShapeRange> shapes = ranges.stream()
                .collect(Collectors.toMap(InputShapeRange::input, s -> s, (a, b) -> a, java.util.LinkedHashMap::new));
        for (ModelSummary.IoInfo input : inputs) {
            List<Object> dims = input.shape();
            InputShapeRange range = shapes.remove(input.name());
            if (dims == null) {
                continue; // unknown rank: TensorRT's parser will say
            }
            // fixed dimensions are numbers (Long from the inspector, Integer from a summary read back from JSON)
            boolean dynamic = dims.stream().anyMatch(d -> !(d instanceof Number));
            if (range == null) {
                if (dynamic) {
                    throw new IllegalArgumentException("input '" + input.name() + "' has dynamic dimensions " + dims
                            + ": give shapes." + input.name() + " {min, opt, max}, e.g. min " + example(dims, 1)
                            + ", opt " + example(dims, 8) + ", max " + example(dims, 32));
                }
                continue;
            }
            if (range.min().size() != dims.size()) {
                throw new IllegalArgumentException("shapes." + input.name() + " have rank " + range.min().size()
                        + " but the input has rank " + dims.size() + " " + dims);
            }
            for (int i = 0; i < dims.size(); i++) {
                if (dims.get(i) instanceof Number fixed && (range.min().get(i) != fixed.longValue()
                        || range.max().get(i) != fixed.longValue())) {
                    throw new IllegalArgumentException("shapes." + input.name() + ": dimension " + i + " is fixed at "
                            + fixed + " in the model, so min, opt and max must all be " + fixed);
                }
            }
        }
        if (!shapes.isEmpty()) {
            throw new IllegalArgumentException("shapes name input(s) " + shapes.keySet() + " that the model does not have; "
                    + "its inputs are " + inputs.stream().map(ModelSummary.IoInfo::name).toList());
        }
    }

    /** The dims with every dynamic one replaced by {@code value} ("1x3x224x224"). */
    private static String example(List<Object> dims, long value) {
        return dims.stream().map(d -> d instanceof Number n ? Long.toString(n.longValue()) : Long.toString(value))
                .collect(Collectors.joining("x"));
    }

    /** nvidia-smi's entry for the device trtexec selected (driver and CUDA included), else trtexec's own lines. */
    private GpuInfo gpuOf(List<String> output, List<String> warnings) {
        Optional<GpuInfo> selected = GpuProbe.fromTrtexecLog(output);
        if (selected.isPresent()) {
            for (GpuInfo g : gpus) {
                if (g.name().equals(selected.get().name())) {
                    return g;
                }
            }
            return selected.get();
        }
        if (!gpus.isEmpty()) {
            return gpus.get(0);
        }
        warnings.add("neither nvidia-smi nor trtexec's log named the GPU");
        return null;
    }

    /** Writes the build's timing cache back over the shared one atomically (a reader never sees half a file). */
    private static Path publishTimingCache(Path local, Path shared, List<String> warnings) {
        if (!Files.isRegularFile(local)) {
            warnings.add("trtexec wrote no timing cache");
            return null;
        }
        try {
            Files.createDirectories(shared.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(shared.toAbsolutePath().getParent(), shared.getFileName().toString(), ".tmp");
            Files.copy(local, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, shared, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            warnings.add("the timing cache could not be written back to " + shared + ": " + e.getMessage());
        }
        return local;
    }

    private static String engineName(Path model, GpuInfo gpu, TensorRtVersion version) {
        String stem = model.getFileName().toString().replaceFirst("\\.onnx$", "");
        String device = gpu == null ? "unknown-gpu" : TimingCaches.slug(gpu.name()) + "-sm" + gpu.computeCapability().replace(".", "");
        return stem + "." + device + ".trt" + version + ".engine";
    }

    private static void write(Path file, List<String> lines) {
        try {
            Files.write(file, lines);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
