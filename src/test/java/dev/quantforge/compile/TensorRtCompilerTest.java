package dev.quantforge.compile;

import dev.quantforge.dataset.io.NpzDataset;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.testdata.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The front door end to end, with the trtexec TEST DOUBLE in place of trtexec: it writes the real engine reports
 * of the fixtures, so everything after the build (report parsing, ONNX join, plan check, engine evaluation) runs
 * on real TensorRT output or, for the evaluation, on outputs computed from the submitted inputs.
 */
class TensorRtCompilerTest {

    private static final TensorRtVersion TRT_10_9 = new TensorRtVersion(10, 9, 0);
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    @Test
    void buildsAnEngineAndReportsItsLayersPrecisionLatencyAndPlanDeviations() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"));
        Path model = write("mobilenet.qat.onnx", TensorRtFixtureModels.mobilenetQat().toByteArray());
        Path sharedCache = dir.resolve("worker-cache/timing.cache");
        CompileRequest request = new CompileRequest(model, dir.resolve("job"), TensorRtPrecision.STRONGLY_TYPED, List.of(), 2048, 4,
                sharedCache, new TrtexecBenchmark(500, 300, 2), null, TIMEOUT);
        List<String> log = new ArrayList<>();
        List<Double> fractions = new ArrayList<>();

        CompileOutcome outcome = compiler(trtexec, TRT_10_9).compile(request, log::add, (f, phase, message) -> fractions.add(f));

        assertThat(log.get(0)).startsWith("running " + trtexec + " --onnx=" + model.toAbsolutePath() + " --saveEngine=");
        assertThat(outcome.buildCommand()).contains("--stronglyTyped", "--memPoolSize=workspace:2048", "--builderOptimizationLevel=4",
                "--timingCacheFile=" + dir.resolve("job/timing.cache"), "--profilingVerbosity=detailed", "--separateProfileRun",
                "--iterations=500", "--warmUp=300", "--duration=2");
        assertThat(outcome.engineFile()).isRegularFile();
        assertThat(outcome.engineName()).isEqualTo("mobilenet.qat.nvidia-h100-80gb-hbm3-sm90.trt10.9.0.engine");
        assertThat(outcome.buildLogFile()).isRegularFile();
        assertThat(Files.readAllLines(outcome.buildLogFile())).last().asString().startsWith("&&&& PASSED");
        assertThat(outcome.tensorrt().version()).isEqualTo(TRT_10_9);
        assertThat(outcome.gpu()).isEqualTo(new GpuInfo(TrtexecTestDouble.GPU, "9.0", 81079, null, null));

        PerformanceSummary perf = outcome.performance();
        assertThat(perf.throughputQps()).isEqualTo(2418.71);
        assertThat(perf.latency().p50Ms()).isEqualTo(0.4051);
        assertThat(perf.latency().p90Ms()).isEqualTo(0.4213);
        assertThat(perf.latency().p99Ms()).isEqualTo(0.5208);
        assertThat(perf.latency().meanMs()).isEqualTo(0.4112);

        assertThat(outcome.layers()).hasSize(73);
        assertThat(outcome.plannedInt8Nodes()).hasSize(53);
        assertThat(outcome.notInt8AsPlanned()).hasSize(15).first().extracting(NotInt8AsPlanned::node).isEqualTo("Conv_94");
        assertThat(outcome.warnings()).singleElement().asString().startsWith("12 profiled layer(s) are not in the layer info");
        assertThat(outcome.accuracy()).isNull();
        assertThat(fractions).isNotEmpty().allSatisfy(f -> assertThat(f).isBetween(0.0, 1.0)).last().isEqualTo(1.0);

        // the timing cache went back to the worker's shared file, and the next build starts from it
        assertThat(Files.readAllLines(sharedCache)).containsExactly("timing entries for mobilenet.qat.onnx");
        CompileOutcome again = compiler(trtexec, TRT_10_9).compile(request, line -> { }, Progress.NONE);
        assertThat(Files.readAllLines(again.timingCacheFile())).hasSize(2);
        assertThat(Files.readAllLines(sharedCache)).hasSize(2);
    }

    @Test
    void theResidualQuantizedModelRunsInt8AsPlanned() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_FIXTURE", Fixtures.MOBILENET_V2_RESIDUALS_QAT));
        Path model = write("mobilenet_v2_residuals.qat.onnx", TensorRtFixtureModels.mobilenetV2ResidualsQat().toByteArray());
        CompileOutcome outcome = compiler(trtexec, TRT_10_9).compile(CompileRequest.of(model, dir.resolve("job")), line -> { }, Progress.NONE);
        assertThat(outcome.plannedInt8Nodes()).hasSize(63);
        assertThat(outcome.notInt8AsPlanned()).isEmpty();
        assertThat(outcome.timingCacheFile()).isNull();
        assertThat(outcome.buildCommand()).noneMatch(a -> a.startsWith("--timingCacheFile") || a.startsWith("--memPoolSize"));
    }

    @Test
    void refusesBeforeRunningWhatThisTensorRtCannotBuild() throws IOException {
        Path argsFile = dir.resolve("args");
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_ARGS_FILE", argsFile.toString()));
        Path model = write("mobilenet.qat.onnx", TensorRtFixtureModels.mobilenetQat().toByteArray());
        CompileRequest fp16 = new CompileRequest(model, dir.resolve("job"), TensorRtPrecision.FP16, List.of(), null, 3, null,
                TrtexecBenchmark.DEFAULT, null, TIMEOUT);
        assertThatThrownBy(() -> compiler(trtexec, new TensorRtVersion(11, 0, 0)).compile(fp16, l -> { }, Progress.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("precision fp16 needs trtexec's weak-typing flags (--int8/--fp16), which TensorRT 11.0.0 no longer has "
                        + "(removed in TensorRT 11). Use precision strongly_typed with a QDQ model (a ptq, qat or auto_quantize artifact)");
        assertThatThrownBy(() -> compiler(trtexec, new TensorRtVersion(8, 6, 1)).compile(CompileRequest.of(model, dir.resolve("job")),
                l -> { }, Progress.NONE))
                .hasMessageStartingWith("precision strongly_typed needs TensorRT 10.0.0 or newer; this worker has TensorRT 8.6.1");
        assertThat(argsFile).doesNotExist();
    }

    @Test
    void aDynamicInputNeedsShapesThatFitTheModel() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"));
        TensorRtCompiler compiler = compiler(trtexec, TRT_10_9);
        assertThatThrownBy(() -> compiler.compile(CompileRequest.of(Models.TRIBUO_CNN, dir), l -> { }, Progress.NONE))
                .hasMessage("input 'input_image' has dynamic dimensions [batch, 1, 28, 28]: give shapes.input_image {min, opt, max}, "
                        + "e.g. min 1x1x28x28, opt 8x1x28x28, max 32x1x28x28");
        assertThatThrownBy(() -> compiler.compile(withShapes(Models.TRIBUO_CNN, new InputShapeRange("input_image",
                List.of(1L, 3L, 28L, 28L), List.of(8L, 3L, 28L, 28L), List.of(32L, 3L, 28L, 28L))), l -> { }, Progress.NONE))
                .hasMessage("shapes.input_image: dimension 1 is fixed at 1 in the model, so min, opt and max must all be 1");
        assertThatThrownBy(() -> compiler.compile(withShapes(Models.TRIBUO_CNN, batchRange(1, 8, 32), new InputShapeRange("images",
                List.of(1L), List.of(1L), List.of(1L))), l -> { }, Progress.NONE))
                .hasMessage("shapes name input(s) [images] that the model does not have; its inputs are [input_image]");
        assertThatThrownBy(() -> new InputShapeRange("x", List.of(8L), List.of(4L), List.of(16L)))
                .hasMessageContaining("needs 1 <= min <= opt <= max");
    }

    /**
     * Engine accuracy by running the engine: the double runs the submitted inputs through the model it "built",
     * so an engine that matches the model must score exactly like the model, and a broken one must not.
     */
    @Test
    void measuresTheEnginesAccuracyByRunningItOnTheEvaluationSet() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"));
        NpzDataset eval = mnistEval();
        CompileRequest request = evaluating(eval, batchRange(1, 64, 256), 1000, 250);
        List<String> log = new ArrayList<>();
        CompileOutcome outcome = compiler(trtexec, TRT_10_9).compile(request, log::add, Progress.NONE);
        EngineAccuracy accuracy = outcome.accuracy();
        assertThat(accuracy.samples()).isEqualTo(1000);
        assertThat(accuracy.trtexecRuns()).isEqualTo(4);
        assertThat(accuracy.batchSize()).isEqualTo(250);
        assertThat(accuracy.qdqTop1()).isGreaterThan(0.97);
        assertThat(accuracy.engineTop1()).isEqualTo(accuracy.qdqTop1());
        assertThat(accuracy.agreement()).isEqualTo(1.0);
        assertThat(accuracy.sqnrDb()).isGreaterThan(100);
        assertThat(accuracy.cosine()).isGreaterThan(0.999999);
        assertThat(log).anySatisfy(l -> assertThat(l).contains("--loadEngine=").contains("--loadInputs=input_image:input-0.bin")
                .contains("--shapes=input_image:250x1x28x28").contains("--exportOutput=output.json"));
    }

    @Test
    void aBrokenEngineShowsInItsAccuracy() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_SCRAMBLE_OUTPUTS", "1"));
        NpzDataset eval = mnistEval();
        EngineAccuracy accuracy = compiler(trtexec, TRT_10_9).compile(evaluating(eval, batchRange(1, 64, 256), 500, 250),
                l -> { }, Progress.NONE).accuracy();
        assertThat(accuracy.qdqTop1()).isGreaterThan(0.97);
        assertThat(accuracy.engineTop1()).isLessThan(0.3);
        assertThat(accuracy.agreement()).isLessThan(0.3);
        assertThat(accuracy.sqnrDb()).isLessThan(10);
    }

    /** A last batch smaller than the engine's minimum batch is padded; the padding rows are not scored. */
    @Test
    void padsAShortLastBatchToTheEnginesMinimum() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"));
        NpzDataset eval = mnistEval();
        EngineAccuracy accuracy = compiler(trtexec, TRT_10_9).compile(evaluating(eval, batchRange(4, 4, 8), 10, 100),
                l -> { }, Progress.NONE).accuracy();
        assertThat(accuracy.batchSize()).isEqualTo(8); // 100 clamped to the profile's max
        assertThat(accuracy.trtexecRuns()).isEqualTo(2);
        assertThat(accuracy.samples()).isEqualTo(10);
        assertThat(accuracy.agreement()).isEqualTo(1.0);
    }

    @Test
    void anEngineFromAnotherTensorRtIsRefusedWhenRun() throws IOException {
        Path trtexec = TrtexecTestDoubles.install(dir.resolve("bin"), Map.of("TRTEXEC_TEST_DOUBLE_FAIL", "engine_incompatible"));
        Path engine = write("old.engine", new byte[]{1, 2, 3});
        NpzDataset eval = mnistEval();
        assertThatThrownBy(() -> compiler(trtexec, TRT_10_9).evaluateEngine(engine, Models.TRIBUO_CNN, List.of(batchRange(1, 8, 8)),
                new EngineEvaluationRequest(eval, binding(eval), 8, 8, TIMEOUT), dir.resolve("eval"), l -> { }, Progress.NONE))
                .isInstanceOfSatisfying(TrtexecFailedException.class, e -> {
                    assertThat(e.kind()).isEqualTo(TrtexecFailedException.Kind.ENGINE_INCOMPATIBLE);
                    assertThat(e.getMessage()).startsWith("trtexec failed (exit code 1) running the engine on samples 0..7: "
                            + "the engine was built by another TensorRT version or for another GPU");
                });
    }

    private CompileRequest evaluating(SampleSource eval, InputShapeRange shapes, long maxSamples, int batch) {
        return new CompileRequest(Models.TRIBUO_CNN, dir.resolve("job"), TensorRtPrecision.STRONGLY_TYPED, List.of(shapes), null, 3,
                null, TrtexecBenchmark.DEFAULT, new EngineEvaluationRequest(eval, binding(eval), maxSamples, batch, TIMEOUT), TIMEOUT);
    }

    private CompileRequest withShapes(Path model, InputShapeRange... shapes) {
        return new CompileRequest(model, dir.resolve("job"), TensorRtPrecision.STRONGLY_TYPED, List.of(shapes), null, 3, null,
                TrtexecBenchmark.DEFAULT, null, TIMEOUT);
    }

    private static InputShapeRange batchRange(long min, long opt, long max) {
        return new InputShapeRange("input_image", List.of(min, 1L, 28L, 28L), List.of(opt, 1L, 28L, 28L), List.of(max, 1L, 28L, 28L));
    }

    private static Map<String, String> binding(SampleSource data) {
        return InputBinding.bind(new ModelInspector().inspect(Models.TRIBUO_CNN).tensorInputs(), data.tensors());
    }

    /** MNIST test images 1000..2999 with labels; the Tribuo CNN wants raw 0..255 pixels. */
    private static NpzDataset mnistEval() throws IOException {
        return new NpzDataset(Models.MNIST8_EVAL, Preprocessing.fromMap(Map.of("scale", 255)), ZipLimits.DEFAULT);
    }

    private static TensorRtCompiler compiler(Path trtexec, TensorRtVersion version) {
        return new TensorRtCompiler(new TensorRtInstallation(trtexec, version), List.of());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }
}
