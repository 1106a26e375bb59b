package dev.quantforge.compile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The exact trtexec argument lists (argv, no shell), in TensorRT 10's documented syntax.
 */
final class TrtexecCommand {

    private TrtexecCommand() {
    }

    /** The files a build writes, all in the request's output directory. */
    record BuildFiles(Path engine, Path layerInfo, Path profile, Path timingCache, Path log) {

        static BuildFiles in(Path directory) {
            return new BuildFiles(directory.resolve("model.engine"), directory.resolve("layer-info.json"),
                    directory.resolve("profile.json"), directory.resolve("timing.cache"), directory.resolve("trtexec-build.log"));
        }
    }

    /**
     * Build, benchmark and profile in one run: {@code --separateProfileRun} measures latency without the
     * profiler attached and then profiles in a second pass, so both numbers are clean.
     *
     * @param useTimingCache pass {@code --timingCacheFile=files.timingCache()}
     */
    static List<String> build(Path trtexec, CompileRequest request, BuildFiles files, boolean useTimingCache) {
        List<String> argv = new ArrayList<>();
        argv.add(trtexec.toString());
        argv.add("--onnx=" + request.onnxModel().toAbsolutePath());
        argv.add("--saveEngine=" + files.engine());
        switch (request.precision()) {
            case STRONGLY_TYPED -> argv.add("--stronglyTyped");
            case FP16 -> argv.add("--fp16");
            case INT8 -> argv.add("--int8"); // INT8 where the Q/DQ nodes say, FP32 elsewhere
        }
        if (!request.shapes().isEmpty()) {
            argv.add("--minShapes=" + shapes(request.shapes(), InputShapeRange::min));
            argv.add("--optShapes=" + shapes(request.shapes(), InputShapeRange::opt));
            argv.add("--maxShapes=" + shapes(request.shapes(), InputShapeRange::max));
            argv.add("--shapes=" + shapes(request.shapes(), InputShapeRange::opt)); // benchmark at the typical shape
        }
        if (request.workspaceMiB() != null) {
            argv.add("--memPoolSize=workspace:" + request.workspaceMiB()); // no suffix: MiB
        }
        argv.add("--builderOptimizationLevel=" + request.builderOptimizationLevel());
        if (useTimingCache) {
            argv.add("--timingCacheFile=" + files.timingCache());
        }
        argv.add("--profilingVerbosity=detailed");
        argv.add("--exportLayerInfo=" + files.layerInfo());
        argv.add("--exportProfile=" + files.profile());
        argv.add("--separateProfileRun");
        argv.add("--iterations=" + request.benchmark().iterations());
        argv.add("--warmUp=" + request.benchmark().warmUpMs());
        argv.add("--duration=" + request.benchmark().durationSeconds());
        return argv;
    }

    /**
     * One inference of a built engine on given inputs, its outputs written as JSON.
     *
     * @param inputFiles input name → file name relative to the working directory (trtexec's
     *                   {@code --loadInputs} spec splits at ':' and ',', so no directory goes in it)
     * @param shapes     input name → shape, for the engine's dynamic inputs
     */
    static List<String> runEngine(Path trtexec, Path engine, Map<String, String> inputFiles, Map<String, List<Long>> shapes,
                                  String outputFile) {
        List<String> argv = new ArrayList<>();
        argv.add(trtexec.toString());
        argv.add("--loadEngine=" + engine.toAbsolutePath());
        argv.add("--loadInputs=" + inputFiles.entrySet().stream()
                .map(e -> InputShapeRange.quotedName(e.getKey()) + ":" + e.getValue()).collect(Collectors.joining(",")));
        if (!shapes.isEmpty()) {
            argv.add("--shapes=" + shapes.entrySet().stream()
                    .map(e -> InputShapeRange.spec(e.getKey(), e.getValue())).collect(Collectors.joining(",")));
        }
        argv.add("--exportOutput=" + outputFile);
        argv.add("--iterations=1");
        argv.add("--avgRuns=1");
        argv.add("--warmUp=0");
        argv.add("--duration=0");
        return argv;
    }

    private static String shapes(List<InputShapeRange> ranges, Function<InputShapeRange, List<Long>> which) {
        return ranges.stream().map(r -> InputShapeRange.spec(r.input(), which.apply(r))).collect(Collectors.joining(","));
    }
}
