package dev.quantforge.compile;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.runtime.OrtModel;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * TEST DOUBLE of NVIDIA's trtexec, run by {@code src/test/resources/tensorrt/trtexec-test-double} in the
 * compile tests only. It accepts exactly the trtexec options listed below (anything else is refused with
 * trtexec's own "Unknown option" error), prints trtexec's banner and log lines, writes the files it is asked
 * to write, and can be told to fail, hang or scramble its outputs (see the launcher script's header).
 *
 * <p>What it writes: {@code --exportLayerInfo} and {@code --exportProfile} are copies of the real TensorRT
 * outputs in the fixtures; {@code --saveEngine} is a marker line followed by the ONNX model's bytes (no
 * compilation happens), so that {@code --loadEngine ... --loadInputs ... --exportOutput} can run that model
 * with ONNX Runtime and export its outputs in trtexec's JSON layout. The latency figures it prints are
 * constants: they test parsing, not speed.
 */
public final class TrtexecTestDouble {

    static final String ENGINE_MARKER = "TRTEXEC-TEST-DOUBLE-ENGINE (not a TensorRT engine)\n";
    static final String GPU = "NVIDIA H100 80GB HBM3";
    static final String COMPUTE_CAPABILITY = "9.0";
    static final long GPU_MEMORY_MIB = 81079;

    private static final Set<String> OPTIONS = Set.of("help", "onnx", "saveEngine", "loadEngine", "stronglyTyped",
            "minShapes", "optShapes", "maxShapes", "shapes", "memPoolSize", "builderOptimizationLevel", "timingCacheFile",
            "profilingVerbosity", "exportLayerInfo", "exportProfile", "separateProfileRun", "iterations", "warmUp",
            "duration", "avgRuns", "loadInputs", "exportOutput", "skipInference", "device", "noDataTransfers",
            "useCudaGraph", "verbose");
    /** The weak-typing flags TensorRT 11 removed. */
    private static final Set<String> WEAK_TYPING = Set.of("fp16", "int8", "best");

    private final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    private final String[] argv;
    private final int version;
    private final Map<String, String> options = new LinkedHashMap<>();
    private final List<String> unknown = new ArrayList<>();

    private TrtexecTestDouble(String[] argv) {
        this.argv = argv;
        this.version = Integer.parseInt(env("TRTEXEC_TEST_DOUBLE_VERSION", "100900"));
        for (String arg : argv) {
            String body = arg.startsWith("--") ? arg.substring(2) : arg;
            int eq = body.indexOf('=');
            String key = eq < 0 ? body : body.substring(0, eq);
            String value = eq < 0 ? "" : body.substring(eq + 1);
            boolean known = OPTIONS.contains(key) || (WEAK_TYPING.contains(key) && version < 110000);
            if (known && arg.startsWith("--")) {
                options.put(key, value);
            } else {
                unknown.add(arg.startsWith("--") ? "--" + key : arg);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        System.exit(new TrtexecTestDouble(args).run());
    }

    private int run() throws Exception {
        recordArgs();
        out.println("&&&& RUNNING TensorRT.trtexec [TensorRT v" + version + "] [b34] # trtexec " + String.join(" ", argv));
        if (options.containsKey("help")) {
            out.println("=== Model Options ===");
            out.println("  --onnx=<file>               ONNX model");
            out.println("=== Build Options ===");
            out.println("  --stronglyTyped                    Create a strongly typed network. (default = disabled)");
            return 0;
        }
        if (!unknown.isEmpty()) {
            for (String u : unknown) {
                log("E", "Unknown option: " + u + " ");
            }
            return fail();
        }
        deviceInformation();
        String failure = env("TRTEXEC_TEST_DOUBLE_FAIL", "");
        if (options.containsKey("onnx")) {
            return build(failure);
        }
        if (options.containsKey("loadEngine")) {
            return runEngine(failure);
        }
        log("E", "Model missing or format not recognized");
        return fail();
    }

    private int build(String failure) throws Exception {
        Path model = Path.of(options.get("onnx"));
        log("I", "[TRT] ----------------------------------------------------------------");
        log("I", "[TRT] Input filename:   " + model);
        log("I", "[TRT] ONNX IR version:  0.0.8");
        if (!Files.isRegularFile(model)) {
            log("E", "[TRT] ModelImporter.cpp:775: Failed to parse ONNX model from file: " + model);
            log("E", "Failed to parse onnx file");
            log("E", "Engine set up failed");
            return fail();
        }
        pauseIfAsked();
        hangIfAsked();
        switch (failure) {
            case "unsupported_op" -> {
                log("E", "[TRT] ModelImporter.cpp:949: While parsing node number 3 [DeformConv -> \"features.3\"]:");
                log("E", "[TRT] ModelImporter.cpp:950: --- Begin node ---");
                log("E", "[TRT] ModelImporter.cpp:953: --- End node ---");
                log("E", "[TRT] ModelImporter.cpp:956: ERROR: ModelImporter.cpp:195 In function parseNode:");
                log("E", "[8] No importer registered for op: DeformConv");
                log("E", "Failed to parse onnx file");
                log("E", "Engine set up failed");
                return fail();
            }
            case "workspace" -> {
                log("E", "Error[10]: IBuilder::buildSerializedNetwork: Error Code 10: Internal Error (Could not find any "
                        + "implementation for node /features/features.3/Conv.)");
                log("E", "Engine could not be created from network");
                log("E", "Building engine failed");
                log("E", "Failed to create engine from model or file.");
                log("E", "Engine set up failed");
                return fail();
            }
            case "dynamic_shapes" -> {
                log("E", "Error[4]: [network.cpp::validate::3451] Error Code 4: Internal Error (input_image: dynamic input "
                        + "is missing dimensions in profile 0.)");
                log("E", "Engine could not be created from network");
                log("E", "Engine set up failed");
                return fail();
            }
            case "out_of_memory" -> {
                log("E", "Error[2]: [virtualMemoryBuffer.cpp::resizePhysical::145] Error Code 2: OutOfMemory (no further information)");
                log("E", "Engine set up failed");
                return fail();
            }
            default -> {
                // builds
            }
        }
        String engine = required("saveEngine");
        byte[] onnx = Files.readAllBytes(model);
        byte[] marker = ENGINE_MARKER.getBytes(StandardCharsets.UTF_8);
        byte[] plan = Arrays.copyOf(marker, marker.length + onnx.length);
        System.arraycopy(onnx, 0, plan, marker.length, onnx.length);
        Files.write(Path.of(engine), plan);
        if (options.containsKey("timingCacheFile")) {
            // a timing cache grows with every build that reuses it
            Files.writeString(Path.of(options.get("timingCacheFile")), "timing entries for " + model.getFileName() + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            log("I", "[TRT] Saved " + 57 + " entries to the timing cache");
        }
        log("I", "Engine built in 12.3456 sec.");
        log("I", "Created engine with size: 3.71 MiB");
        String fixture = env("TRTEXEC_TEST_DOUBLE_FIXTURE", "mobilenet.qat");
        if (options.containsKey("exportLayerInfo")) {
            copyFixture(fixture + ".onnx.engine.graph.json", Path.of(options.get("exportLayerInfo")));
        }
        if (options.containsKey("exportProfile")) {
            copyFixture(fixture + ".onnx.engine.profile.json", Path.of(options.get("exportProfile")));
        }
        performanceSummary();
        return pass();
    }

    private int runEngine(String failure) throws Exception {
        byte[] plan = Files.readAllBytes(Path.of(options.get("loadEngine")));
        log("I", "Engine loaded in 0.0123 sec.");
        byte[] marker = ENGINE_MARKER.getBytes(StandardCharsets.UTF_8);
        if ("engine_incompatible".equals(failure) || plan.length < marker.length
                || !Arrays.equals(Arrays.copyOf(plan, marker.length), marker)) {
            log("E", "Error[6]: [runtime.cpp::deserializeCudaEngine::66] Error Code 6: API Usage Error (The engine plan file "
                    + "is not compatible with this version of TensorRT, expecting library version 10.9.0.34 got 10.3.0.26, "
                    + "please rebuild.)");
            log("E", "Engine deserialization failed");
            return fail();
        }
        byte[] onnx = Arrays.copyOfRange(plan, marker.length, plan.length);
        Map<String, String> inputFiles = specs(options.getOrDefault("loadInputs", ""));
        Map<String, String> shapes = specs(options.getOrDefault("shapes", ""));
        try (OrtModel model = OrtModel.load(onnx, 1, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            Map<String, NdArray> tensors = new LinkedHashMap<>();
            Map<String, String> binding = new LinkedHashMap<>();
            long rows = 1;
            for (TensorInfo input : model.inputs()) {
                long[] shape = shapeOf(input, shapes.get(input.name()));
                String file = inputFiles.get(input.name());
                if (file == null) {
                    log("E", "Input '" + input.name() + "' was not given with --loadInputs");
                    return fail();
                }
                byte[] bytes = Files.readAllBytes(Path.of(file));
                long expected = Arrays.stream(shape).reduce(1, (a, b) -> a * b) * input.elementType().byteSize();
                if (bytes.length != expected) {
                    log("E", "Input '" + input.name() + "': file " + file + " has " + bytes.length + " bytes, the tensor needs "
                            + expected);
                    return fail();
                }
                tensors.put(input.name(), new NdArray(input.elementType(), shape, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)));
                binding.put(input.name(), input.name());
                rows = shape.length == 0 ? 1 : shape[0];
            }
            Batch batch = new Batch(0, Math.toIntExact(rows), tensors, null);
            Map<String, OnnxTensor> feeds = model.createFeeds(batch, binding, 0, batch.size());
            try (OrtSession.Result result = model.session().run(feeds)) {
                if (options.containsKey("exportOutput")) {
                    writeOutputs(result, Path.of(options.get("exportOutput")),
                            "1".equals(env("TRTEXEC_TEST_DOUBLE_SCRAMBLE_OUTPUTS", "")));
                }
            } finally {
                OnnxValue.close(feeds);
            }
        }
        performanceSummary();
        return pass();
    }

    private static long[] shapeOf(TensorInfo input, String spec) {
        if (spec != null) {
            return Arrays.stream(spec.split("x")).mapToLong(Long::parseLong).toArray();
        }
        return input.shape().stream().mapToLong(d -> d instanceof Long l ? l : 1).toArray();
    }

    /** trtexec's --exportOutput layout (samples/common/sampleReporting.cpp, exportJSONOutput). */
    private void writeOutputs(OrtSession.Result result, Path file, boolean scramble) throws IOException, OrtException {
        StringBuilder json = new StringBuilder("[\n");
        String sep = "  ";
        for (Map.Entry<String, OnnxValue> entry : result) {
            OnnxTensor tensor = (OnnxTensor) entry.getValue();
            long[] shape = tensor.getInfo().getShape();
            float[] values = floats(tensor);
            if (scramble && shape.length > 0 && shape[0] > 0) {
                int width = Math.toIntExact(values.length / shape[0]);
                for (int r = 0; r < shape[0]; r++) {
                    for (int i = 0, j = width - 1; i < j; i++, j--) {
                        float t = values[r * width + i];
                        values[r * width + i] = values[r * width + j];
                        values[r * width + j] = t;
                    }
                }
            }
            json.append(sep).append("{ \"name\" : \"").append(entry.getKey()).append("\"\n");
            sep = ", ";
            json.append("  , \"dimensions\" : \"").append(String.join("x", Arrays.stream(shape).mapToObj(Long::toString).toList()))
                    .append("\"\n");
            json.append("  , \"values\" : [ ");
            for (int i = 0; i < values.length; i++) {
                json.append(i == 0 ? "" : ", ").append(values[i]);
            }
            json.append(" ]\n  }\n");
        }
        json.append("]\n");
        Files.writeString(file, json);
    }

    private static float[] floats(OnnxTensor tensor) {
        return switch (tensor.getInfo().type) {
            case FLOAT -> {
                var b = tensor.getFloatBuffer();
                float[] f = new float[b.remaining()];
                b.get(f);
                yield f;
            }
            case INT64 -> {
                var b = tensor.getLongBuffer();
                float[] f = new float[b.remaining()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = b.get();
                }
                yield f;
            }
            default -> throw new IllegalStateException("the test double exports float and int64 outputs only");
        };
    }

    /** "a:x,'b:0':y" → {a: x, b:0: y}; names may be wrapped in single quotes, as trtexec allows. */
    private static Map<String, String> specs(String spec) {
        Map<String, String> map = new LinkedHashMap<>();
        if (spec.isEmpty()) {
            return map;
        }
        for (String item : spec.split(",")) {
            String name;
            String value;
            if (item.startsWith("'")) {
                int close = item.indexOf('\'', 1);
                name = item.substring(1, close);
                value = item.substring(close + 2);
            } else {
                int colon = item.lastIndexOf(':');
                name = item.substring(0, colon);
                value = item.substring(colon + 1);
            }
            map.put(name, value);
        }
        return map;
    }

    private void deviceInformation() {
        log("I", "=== Device Information ===");
        log("I", "Available Devices:");
        log("I", "  Device 0: \"" + GPU + "\" UUID: GPU-8c3ef4e1-0a7b-4f0e-9d0c-2b8e5b0c5a11");
        log("I", "Selected Device: " + GPU);
        log("I", "Selected Device ID: 0");
        log("I", "Compute Capability: " + COMPUTE_CAPABILITY);
        log("I", "SMs: 132");
        log("I", "Device Global Memory: " + GPU_MEMORY_MIB + " MiB");
        log("I", "Shared Memory per SM: 228 KiB");
        log("I", "");
        log("I", "TensorRT version: " + (version / 10000) + "." + (version / 100 % 100) + "." + (version % 100));
        log("I", "Loading standard plugins");
        if ("no_gpu".equals(env("TRTEXEC_TEST_DOUBLE_FAIL", ""))) {
            log("E", "Cuda failure: no CUDA-capable device is detected");
            System.exit(fail());
        }
    }

    private void performanceSummary() {
        log("I", "");
        log("I", "=== Performance summary ===");
        log("I", "Throughput: 2418.71 qps");
        log("I", "Latency: min = 0.3921 ms, max = 0.7115 ms, mean = 0.4112 ms, median = 0.4051 ms, percentile(90%) = 0.4213 ms, "
                + "percentile(95%) = 0.4477 ms, percentile(99%) = 0.5208 ms");
        log("I", "Enqueue Time: min = 0.0301 ms, max = 0.0612 ms, mean = 0.0340 ms, median = 0.0332 ms, percentile(90%) = 0.0361 ms, "
                + "percentile(95%) = 0.0384 ms, percentile(99%) = 0.0455 ms");
        log("I", "H2D Latency: min = 0.0611 ms, max = 0.0902 ms, mean = 0.0650 ms, median = 0.0640 ms, percentile(90%) = 0.0670 ms, "
                + "percentile(95%) = 0.0690 ms, percentile(99%) = 0.0790 ms");
        log("I", "GPU Compute Time: min = 0.3012 ms, max = 0.6020 ms, mean = 0.3183 ms, median = 0.3150 ms, percentile(90%) = 0.3310 ms, "
                + "percentile(95%) = 0.3500 ms, percentile(99%) = 0.4101 ms");
        log("I", "D2H Latency: min = 0.0201 ms, max = 0.0402 ms, mean = 0.0279 ms, median = 0.0270 ms, percentile(90%) = 0.0300 ms, "
                + "percentile(95%) = 0.0320 ms, percentile(99%) = 0.0350 ms");
        log("I", "Total Host Walltime: 3.00021 s");
        log("I", "Total GPU Compute Time: 2.31012 s");
    }

    private void pauseIfAsked() throws InterruptedException {
        long pause = Long.parseLong(env("TRTEXEC_TEST_DOUBLE_PAUSE_MS", "0"));
        if (pause > 0) {
            log("I", "[TRT] Local timing cache in use. Profiling results in this builder pass will not be stored.");
            Thread.sleep(pause);
        }
    }

    /** Starts a child (so the test can see that the whole tree is killed) and waits on it. */
    private void hangIfAsked() throws Exception {
        String seconds = env("TRTEXEC_TEST_DOUBLE_HANG_SECONDS", "");
        if (seconds.isEmpty()) {
            return;
        }
        Process child = new ProcessBuilder("sleep", seconds).inheritIO().start();
        String pidFile = env("TRTEXEC_TEST_DOUBLE_PID_FILE", "");
        if (!pidFile.isEmpty()) {
            Files.writeString(Path.of(pidFile), ProcessHandle.current().pid() + " " + child.pid() + "\n");
        }
        log("I", "[TRT] Compiler backend is used during engine build.");
        child.waitFor(Long.parseLong(seconds) + 5, TimeUnit.SECONDS);
    }

    private void copyFixture(String resource, Path target) throws IOException {
        try (InputStream in = TrtexecTestDouble.class.getResourceAsStream("/tensorrt/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("fixture " + resource + " is not on the classpath");
            }
            Files.write(target, in.readAllBytes());
        }
    }

    private void recordArgs() throws IOException {
        String file = env("TRTEXEC_TEST_DOUBLE_ARGS_FILE", "");
        if (!file.isEmpty()) {
            Files.write(Path.of(file), List.of(argv), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    private String required(String option) {
        String v = options.get(option);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException("--" + option + " is required here");
        }
        return v;
    }

    private void log(String severity, String message) {
        out.println("[" + new SimpleDateFormat("MM/dd/yyyy-HH:mm:ss").format(new Date()) + "] [" + severity + "] " + message);
    }

    private int pass() {
        out.println("&&&& PASSED TensorRT.trtexec [TensorRT v" + version + "] [b34] # trtexec " + String.join(" ", argv));
        return 0;
    }

    private int fail() {
        out.println("&&&& FAILED TensorRT.trtexec [TensorRT v" + version + "] [b34] # trtexec " + String.join(" ", argv));
        return 1;
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null ? dflt : v;
    }
}
