package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.PrepareOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each supported op against the ONNX backend node tests of Debian's {@code libonnx-testdata}
 * (model.onnx + test_data_set_0 input/output protobufs), in inference mode. Cases that need an
 * attribute, element type or opset conversion that QAT does not support are skipped with the reason;
 * every supported op needs at least one passing case and no failing one.
 */
class OnnxNodeConformanceTest {

    static final Path NODE_TESTS = Path.of("/usr/share/libonnx-testdata/data/node");

    /** op → test-name prefixes (a name must equal the prefix or continue with '_'). */
    static final Map<String, List<String>> CASES = new LinkedHashMap<>();

    static {
        CASES.put("Conv", List.of("test_conv", "test_basic_conv"));
        CASES.put("Gemm", List.of("test_gemm"));
        CASES.put("MatMul", List.of("test_matmul"));
        CASES.put("Add", List.of("test_add"));
        CASES.put("Mul", List.of("test_mul"));
        CASES.put("Sub", List.of("test_sub"));
        CASES.put("Div", List.of("test_div"));
        CASES.put("Relu", List.of("test_relu"));
        CASES.put("Clip", List.of("test_clip"));
        CASES.put("Sigmoid", List.of("test_sigmoid"));
        CASES.put("BatchNormalization", List.of("test_batchnorm"));
        CASES.put("MaxPool", List.of("test_maxpool"));
        CASES.put("AveragePool", List.of("test_averagepool"));
        CASES.put("GlobalAveragePool", List.of("test_globalaveragepool"));
        CASES.put("Flatten", List.of("test_flatten"));
        CASES.put("Reshape", List.of("test_reshape"));
        CASES.put("Squeeze", List.of("test_squeeze"));
        CASES.put("Unsqueeze", List.of("test_unsqueeze"));
        CASES.put("Concat", List.of("test_concat"));
        CASES.put("Softmax", List.of("test_softmax"));
        CASES.put("LogSoftmax", List.of("test_logsoftmax"));
        CASES.put("Constant", List.of("test_constant"));
        CASES.put("Identity", List.of("test_identity"));
        CASES.put("Shape", List.of("test_shape"));
        CASES.put("Gather", List.of("test_gather"));
    }

    record Outcome(String test, String status, String detail) {
    }

    @Test
    void everySupportedOpMatchesTheOnnxNodeTests() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(NODE_TESTS),
                "libonnx-testdata is not installed (apt-get install libonnx-testdata): conformance not checked");
        QatEngine engine = QatTestEngine.get();
        List<String> all;
        try (Stream<Path> s = Files.list(NODE_TESTS)) {
            all = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        Map<String, List<Outcome>> results = new TreeMap<>();
        for (Map.Entry<String, List<String>> e : CASES.entrySet()) {
            List<Outcome> outcomes = new ArrayList<>();
            for (String test : all) {
                if (e.getValue().stream().anyMatch(prefix -> test.equals(prefix) || test.startsWith(prefix + "_"))
                        && !test.endsWith("_expanded") && !test.contains("_expanded_")
                        && !test.startsWith("test_gather_elements")) {
                    outcomes.add(runCase(engine, e.getKey(), test));
                }
            }
            results.put(e.getKey(), outcomes);
        }

        StringBuilder table = new StringBuilder("\nONNX node conformance (TrainableGraph, inference mode)\n");
        table.append(String.format("%-20s %6s %7s %6s%n", "op", "passed", "skipped", "failed"));
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<Outcome>> e : results.entrySet()) {
            long passed = e.getValue().stream().filter(o -> o.status.equals("passed")).count();
            long skipped = e.getValue().stream().filter(o -> o.status.equals("skipped")).count();
            long failed = e.getValue().stream().filter(o -> o.status.equals("failed")).count();
            table.append(String.format("%-20s %6d %7d %6d%n", e.getKey(), passed, skipped, failed));
            if (passed == 0) {
                problems.add(e.getKey() + ": no passing case");
            }
            for (Outcome o : e.getValue()) {
                if (!o.status.equals("passed")) {
                    table.append(String.format("    %-8s %-45s %s%n", o.status, o.test, o.detail));
                }
                if (o.status.equals("failed")) {
                    problems.add(e.getKey() + ": " + o.test + " failed: " + o.detail);
                }
            }
        }
        System.out.println(table);
        assertTrue(problems.isEmpty(), String.join("\n", problems) + table);
    }

    private static Outcome runCase(QatEngine engine, String op, String test) {
        Path dir = NODE_TESTS.resolve(test);
        OnnxMl.ModelProto model;
        try {
            model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx")));
        } catch (IOException e) {
            return new Outcome(test, "skipped", "unreadable model: " + e.getMessage());
        }
        Long opset = Graphs.defaultOpset(model);
        if (opset != null && opset < GraphPreparer.TARGET_OPSET) {
            try {
                model = new GraphPreparer().prepare(model, new PrepareOptions(false)).model();
            } catch (RuntimeException e) {
                return new Outcome(test, "skipped", "opset " + opset + " → 13 conversion refused: " + e.getMessage());
            }
        }
        Path data = dir.resolve("test_data_set_0");
        try (NDManager manager = engine.newManager()) {
            TrainableGraph graph;
            try {
                graph = TrainableGraph.of(model, manager);
            } catch (UnsupportedModelException | UnsupportedOperationException e) {
                return new Outcome(test, "skipped", e.getMessage());
            }
            Map<String, NDArray> inputs = new HashMap<>();
            List<OnnxMl.TensorProto> expected = new ArrayList<>();
            try {
                for (int i = 0; Files.exists(data.resolve("input_" + i + ".pb")); i++) {
                    OnnxMl.TensorProto t = OnnxMl.TensorProto.parseFrom(Files.readAllBytes(data.resolve("input_" + i + ".pb")));
                    String name = t.getName().isEmpty() ? graph.inputNames().get(i) : t.getName();
                    inputs.put(name, QatTensors.toNDArray(manager, t));
                }
                for (int i = 0; Files.exists(data.resolve("output_" + i + ".pb")); i++) {
                    expected.add(OnnxMl.TensorProto.parseFrom(Files.readAllBytes(data.resolve("output_" + i + ".pb"))));
                }
            } catch (UnsupportedOperationException | dev.quantforge.quant.InvalidInputException e) {
                return new Outcome(test, "skipped", "test data: " + e.getMessage());
            } catch (IOException e) {
                return new Outcome(test, "skipped", "unreadable test data: " + e.getMessage());
            }
            try {
                NDList out = graph.forward(inputs, false);
                for (int i = 0; i < expected.size(); i++) {
                    String mismatch = compare(expected.get(i), out.get(i));
                    if (mismatch != null) {
                        return new Outcome(test, "failed", "output " + i + ": " + mismatch);
                    }
                }
                return new Outcome(test, "passed", "");
            } catch (UnsupportedModelException e) {
                return new Outcome(test, "skipped", e.getMessage());
            } catch (RuntimeException e) {
                return new Outcome(test, "failed", e.toString());
            } finally {
                graph.close();
            }
        }
    }

    static String compare(OnnxMl.TensorProto expected, NDArray actual) {
        long[] dims = expected.getDimsList().stream().mapToLong(Long::longValue).toArray();
        long[] got = actual.getShape().getShape();
        if (!java.util.Arrays.equals(dims, got)) {
            return "shape " + java.util.Arrays.toString(got) + " expected " + java.util.Arrays.toString(dims);
        }
        float[] want = expected.getDataType() == OnnxMl.TensorProto.DataType.FLOAT_VALUE ? Graphs.floats(expected) : toFloats(Graphs.longs(expected));
        float[] have = QatTensors.floats(actual);
        for (int i = 0; i < want.length; i++) {
            double tol = 1e-4 * Math.max(1.0, Math.abs(want[i]));
            if (!(Math.abs(want[i] - have[i]) <= tol) && !(Float.isNaN(want[i]) && Float.isNaN(have[i]))
                    && !(Float.isInfinite(want[i]) && want[i] == have[i])) {
                return "element " + i + ": " + have[i] + " expected " + want[i];
            }
        }
        return null;
    }

    private static float[] toFloats(long[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }
}
