package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.testdata.Models;
import dev.quantforge.quant.testdata.TestNpz;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Runs the original and the prepared model in ONNX Runtime on real (or, where no data is shared,
 * random) inputs and requires every output to agree: |a − b| ≤ 1e-4 · max(1, |a|), i.e. absolute
 * 1e-4 for values up to 1 and relative 1e-4 above.
 */
class GraphPreparerTest {

    private static final double TOLERANCE = 1e-4;
    private final GraphPreparer preparer = new GraphPreparer();

    @Test
    void mnist8IsUpgradedAndUnchanged() throws Exception {
        OnnxMl.ModelProto original = Graphs.parse(Models.MNIST8);
        PreparedModel prepared = preparer.prepare(original, PrepareOptions.defaults());
        assertPreparedBasics(prepared);
        assertThat(prepared.steps()).contains("opset 8 → 13", "removed 8 initializers from graph inputs");
        assertThat(prepared.model().getIrVersion()).isGreaterThanOrEqualTo(7);

        float[] images = mnistImages(200);
        List<Map<String, float[]>> feeds = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            feeds.add(Map.of("Input3", Arrays.copyOfRange(images, i * 784, (i + 1) * 784)));
        }
        double diff = compare(original, prepared.model(), feeds, Map.of("Input3", new long[] {1, 1, 28, 28}));
        System.out.println("mnist-8 max abs diff " + diff + ", steps " + prepared.steps());
    }

    @Test
    void tribuoCnnIsUpgradedAndUnchanged() throws Exception {
        OnnxMl.ModelProto original = Graphs.parse(Models.TRIBUO_CNN);
        PreparedModel prepared = preparer.prepare(original, PrepareOptions.defaults());
        assertPreparedBasics(prepared);
        assertThat(prepared.steps()).contains("opset 9 → 13");

        float[] images = mnistImages(200);
        for (int i = 0; i < images.length; i++) {
            images[i] *= 255f;
        }
        double diff = compare(original, prepared.model(), List.of(Map.of("input_image", images)),
                Map.of("input_image", new long[] {200, 1, 28, 28}));
        System.out.println("tribuo CNN max abs diff " + diff + ", steps " + prepared.steps());
    }

    @Test
    void cifarBatchNormIsFoldedIntoConv() throws Exception {
        OnnxMl.ModelProto original = Graphs.parse(Models.CIFAR_IC);
        PreparedModel prepared = preparer.prepare(original, PrepareOptions.defaults());
        assertPreparedBasics(prepared);
        assertThat(count(prepared.model(), "BatchNormalization")).isZero();
        assertThat(count(prepared.model(), "Conv")).isEqualTo(26);
        assertThat(prepared.steps()).contains("opset 11 → 13");
        assertThat(prepared.steps()).anyMatch(s -> s.startsWith("folded 26 BatchNormalization into Conv"));

        String[] classes = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        float[] batch = new float[classes.length * 3 * 32 * 32];
        for (int n = 0; n < classes.length; n++) {
            BufferedImage image = ImageIO.read(Models.DATASETS
                    .resolve("cifar10-mlperftiny-ic/test-jpeg/" + classes[n] + "/0000.jpg").toFile());
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int rgb = image.getRGB(x, y);
                    int[] channel = {(rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF};
                    for (int c = 0; c < 3; c++) {
                        batch[((n * 3 + c) * 32 + y) * 32 + x] = (channel[c] / 255f - mean[c]) / std[c];
                    }
                }
            }
        }
        double diff = compare(original, prepared.model(), List.of(Map.of("actual_input_1", batch)),
                Map.of("actual_input_1", new long[] {classes.length, 3, 32, 32}));
        System.out.println("CIFAR IC max abs diff " + diff + ", steps " + prepared.steps());

        PreparedModel unfolded = preparer.prepare(original, new PrepareOptions(false));
        assertThat(count(unfolded.model(), "BatchNormalization")).isEqualTo(26);
    }

    @Test
    void autoencoderBatchNormIsFoldedIntoItsGemms() throws Exception {
        OnnxMl.ModelProto original = Graphs.parse(Models.AD);
        assertThat(count(original, "BatchNormalization")).isEqualTo(5);
        PreparedModel prepared = preparer.prepare(original, PrepareOptions.defaults());
        assertPreparedBasics(prepared);
        assertThat(count(prepared.model(), "BatchNormalization")).isZero();
        assertThat(count(prepared.model(), "Gemm")).isEqualTo(6);
        assertThat(prepared.steps()).anyMatch(s -> s.startsWith("folded 5 BatchNormalization into Gemm/MatMul"));
        Random random = new Random(11);
        List<Map<String, float[]>> feeds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            feeds.add(Map.of("actual_input_1", gaussian(random, 640)));
        }
        double diff = compare(original, prepared.model(), feeds, Map.of("actual_input_1", new long[] {1, 640}));
        System.out.println("AD autoencoder max abs diff " + diff + ", steps " + prepared.steps());
    }

    @Test
    void batchNormAfterA2dMatMulBecomesOneGemm() throws Exception {
        Random random = new Random(5);
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("mm_bn")
                .addInput(floatInput("x", 2, 4)).addOutput(floatInput("y", 2, 3))
                .addInitializer(Graphs.floatTensor("w", new long[] {4, 3}, gaussian(random, 12)))
                .addInitializer(Graphs.floatTensor("gamma", new long[] {3}, new float[] {1.5f, 0.5f, 2f}))
                .addInitializer(Graphs.floatTensor("beta", new long[] {3}, new float[] {0.1f, -0.2f, 0.3f}))
                .addInitializer(Graphs.floatTensor("mean", new long[] {3}, new float[] {0.2f, 0.1f, -0.4f}))
                .addInitializer(Graphs.floatTensor("var", new long[] {3}, new float[] {0.9f, 1.2f, 0.5f}))
                .addNode(node("MatMul", List.of("x", "w"), "h", "mm"))
                .addNode(node("BatchNormalization", List.of("h", "gamma", "beta", "mean", "var"), "y", "bn"));
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(7).setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(13)).build();
        PreparedModel prepared = preparer.prepare(model, PrepareOptions.defaults());
        assertThat(prepared.model().getGraph().getNodeList()).extracting(OnnxMl.NodeProto::getOpType).containsExactly("Gemm");
        compare(model, prepared.model(), List.of(Map.of("x", gaussian(random, 8))), Map.of("x", new long[] {2, 4}));
    }

    @Test
    void kwsIsUpgradedAndUnchanged() throws Exception {
        OnnxMl.ModelProto original = Graphs.parse(Models.KWS);
        PreparedModel prepared = preparer.prepare(original, PrepareOptions.defaults());
        assertPreparedBasics(prepared);
        Random random = new Random(7);
        List<Map<String, float[]>> feeds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            float[] x = new float[49 * 10];
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) random.nextGaussian();
            }
            feeds.add(Map.of("x:0", x));
        }
        double diff = compare(original, prepared.model(), feeds, Map.of("x:0", new long[] {1, 49, 10, 1}));
        System.out.println("KWS max abs diff " + diff + ", steps " + prepared.steps());
    }

    @Test
    void ultraFaceLosesBatchNormAndInitializerInputs() throws Exception {
        OnnxMl.ModelProto original = Graphs.parse(Models.ULTRAFACE);
        PreparedModel prepared = preparer.prepare(original, PrepareOptions.defaults());
        assertPreparedBasics(prepared);
        assertThat(count(prepared.model(), "BatchNormalization")).isZero();
        assertThat(count(prepared.model(), "Conv")).isEqualTo(52);
        assertThat(prepared.model().getGraph().getInputList()).extracting(OnnxMl.ValueInfoProto::getName)
                .containsExactly("input");
        assertThat(prepared.steps()).contains("removed 244 initializers from graph inputs");

        Random random = new Random(11);
        List<Map<String, float[]>> feeds = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            float[] x = new float[3 * 240 * 320];
            for (int j = 0; j < x.length; j++) {
                x[j] = random.nextFloat() * 2 - 1;
            }
            feeds.add(Map.of("input", x));
        }
        double diff = compare(original, prepared.model(), feeds, Map.of("input", new long[] {1, 3, 240, 320}));
        System.out.println("UltraFace max abs diff " + diff + ", steps " + prepared.steps());
    }

    @Test
    void preparationIsDeterministic() {
        OnnxMl.ModelProto original = Graphs.parse(Models.ULTRAFACE);
        PreparedModel first = preparer.prepare(original, PrepareOptions.defaults());
        PreparedModel second = preparer.prepare(original, PrepareOptions.defaults());
        assertThat(first.model().toByteString()).isEqualTo(second.model().toByteString());
        assertThat(first.steps()).isEqualTo(second.steps());
        assertThat(NodeNames.of(first.model().getGraph()))
                .containsExactlyElementsOf(first.model().getGraph().getNodeList().stream().map(OnnxMl.NodeProto::getName).toList());
    }

    /** Conv (grouped, no bias) + BN and Conv (with bias, weight shared by a second Conv) + BN, opset 13. */
    @Test
    void foldingMatchesTheUnfoldedModel() throws Exception {
        Random random = new Random(3);
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("tiny");
        g.addInput(floatInput("x", 1, 4, 8, 8));
        g.addOutput(floatInput("y", 1, 4, 8, 8));
        g.addOutput(floatInput("z", 1, 4, 8, 8));
        g.addOutput(floatInput("z2", 1, 4, 8, 8));
        g.addInitializer(Graphs.floatTensor("w1", new long[] {4, 2, 3, 3}, gaussian(random, 4 * 2 * 9)));
        g.addInitializer(Graphs.floatTensor("w2", new long[] {4, 4, 1, 1}, gaussian(random, 16)));
        g.addInitializer(Graphs.floatTensor("b2", new long[] {4}, gaussian(random, 4)));
        for (String bn : List.of("bn1", "bn2")) {
            float[] var = gaussian(random, 4);
            for (int i = 0; i < 4; i++) {
                var[i] = Math.abs(var[i]) + 0.1f;
            }
            g.addInitializer(Graphs.floatTensor(bn + "_gamma", new long[] {4}, gaussian(random, 4)));
            g.addInitializer(Graphs.floatTensor(bn + "_beta", new long[] {4}, gaussian(random, 4)));
            g.addInitializer(Graphs.floatTensor(bn + "_mean", new long[] {4}, gaussian(random, 4)));
            g.addInitializer(Graphs.floatTensor(bn + "_var", new long[] {4}, var));
        }
        g.addNode(node("Conv", List.of("x", "w1"), "c1", "conv1").addAttribute(intAttr("group", 2))
                .addAttribute(intsAttr("pads", 1, 1, 1, 1)));
        g.addNode(node("BatchNormalization", List.of("c1", "bn1_gamma", "bn1_beta", "bn1_mean", "bn1_var"), "y", "")
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("epsilon").setF(1e-3f)
                        .setType(OnnxMl.AttributeProto.AttributeType.FLOAT)));
        g.addNode(node("Conv", List.of("y", "w2", "b2"), "c2", ""));
        g.addNode(node("BatchNormalization", List.of("c2", "bn2_gamma", "bn2_beta", "bn2_mean", "bn2_var"), "z", "dup"));
        g.addNode(node("Conv", List.of("y", "w2", "b2"), "z2", "conv1"));
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(13)).build();

        PreparedModel prepared = preparer.prepare(model, PrepareOptions.defaults());
        assertPreparedBasics(prepared);
        assertThat(count(prepared.model(), "BatchNormalization")).isZero();
        assertThat(prepared.steps()).anyMatch(s -> s.startsWith("folded 2 BatchNormalization into Conv"));
        // named before folding (so names do not depend on folding): the unnamed Conv and the unnamed first BN
        assertThat(prepared.steps()).contains("named 2 unnamed nodes", "renamed 1 node with duplicate names");
        Set<String> initializers = new HashSet<>();
        prepared.model().getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        assertThat(initializers).doesNotContain("bn1_gamma", "bn2_var").contains("w2", "b2"); // w2/b2 still used by the 3rd Conv

        // ONNX Runtime refuses the raw model (duplicate node names): the reference is the same graph
        // prepared without folding, which keeps both BatchNormalization nodes.
        PreparedModel unfolded = preparer.prepare(model, new PrepareOptions(false));
        assertThat(count(unfolded.model(), "BatchNormalization")).isEqualTo(2);
        double diff = compare(unfolded.model(), prepared.model(), List.of(Map.of("x", gaussian(random, 4 * 64))),
                Map.of("x", new long[] {1, 4, 8, 8}));
        System.out.println("tiny Conv+BN max abs diff " + diff);
    }

    @Test
    void lastAxisSoftmaxStaysOneSoftmaxAndOtherAxesKeepTheirOldMeaning() throws Exception {
        // opset 11: Softmax(axis=-1) as PyTorch exports attention, and Softmax(axis=1) whose old meaning (flatten at 1) the
        // converter must keep as Flatten/Softmax/Reshape
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("softmax")
                .addInput(floatInput("x", 2, 3, 4)).addOutput(floatInput("last", 2, 3, 4)).addOutput(floatInput("flat", 2, 3, 4))
                .addNode(node("Softmax", List.of("x"), "last", "attention_softmax").addAttribute(intAttr("axis", -1)))
                .addNode(node("Softmax", List.of("x"), "flat", "old_softmax").addAttribute(intAttr("axis", 1)));
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(6).setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(11)).build();
        PreparedModel prepared = preparer.prepare(model, PrepareOptions.defaults());
        OnnxMl.NodeProto last = prepared.model().getGraph().getNodeList().stream().filter(n -> n.getName().equals("attention_softmax"))
                .findFirst().orElseThrow();
        assertThat(last.getInputList()).containsExactly("x");
        assertThat(last.getOutputList()).containsExactly("last");
        assertThat(count(prepared.model(), "Softmax")).isEqualTo(2);
        assertThat(count(prepared.model(), "Flatten")).as("only the axis-1 Softmax keeps its flatten").isEqualTo(1);
        compare(model, prepared.model(), List.of(Map.of("x", gaussian(new Random(3), 24))), Map.of("x", new long[] {2, 3, 4}));
    }

    @Test
    void unconvertibleOpIsRefusedByName() {
        // Scan-8 with a sequence_lens input: Scan-9 dropped that input and the converter cannot map it.
        OnnxMl.GraphProto body = OnnxMl.GraphProto.newBuilder().setName("body")
                .addInput(floatInput("s_in", 2)).addInput(floatInput("x_in", 2))
                .addOutput(floatInput("s_out", 2)).addOutput(floatInput("y_out", 2))
                .addNode(node("Add", List.of("s_in", "x_in"), "s_out", "add"))
                .addNode(node("Identity", List.of("s_out"), "y_out", "id")).build();
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("scan")
                .addInput(OnnxMl.ValueInfoProto.newBuilder().setName("lens").setType(OnnxMl.TypeProto.newBuilder()
                        .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(6))))
                .addInput(floatInput("init", 1, 2)).addInput(floatInput("xs", 1, 3, 2))
                .addOutput(floatInput("final", 1, 2)).addOutput(floatInput("ys", 1, 3, 2))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Scan").setName("my_scan")
                        .addInput("lens").addInput("init").addInput("xs").addOutput("final").addOutput("ys")
                        .addAttribute(intAttr("num_scan_inputs", 1))
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("body").setG(body)
                                .setType(OnnxMl.AttributeProto.AttributeType.GRAPH)));
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(4).setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(8)).build();

        assertThatThrownBy(() -> preparer.prepare(model, PrepareOptions.defaults()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("Scan")
                .hasMessageContaining("my_scan")
                .hasMessageContaining("opset 8");
    }

    // ---------------------------------------------------------------------------------------------

    private static void assertPreparedBasics(PreparedModel prepared) {
        assertThat(Graphs.defaultOpset(prepared.model())).isEqualTo(13L);
        assertThat(prepared.model().getIrVersion()).isGreaterThanOrEqualTo(7);
        List<String> names = prepared.model().getGraph().getNodeList().stream().map(OnnxMl.NodeProto::getName).toList();
        assertThat(names).allMatch(n -> !n.isEmpty()).doesNotHaveDuplicates();
    }

    private static long count(OnnxMl.ModelProto model, String opType) {
        return model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(opType)).count();
    }

    private static float[] mnistImages(int count) throws Exception {
        TestNpz npz = TestNpz.read(Models.MNIST8_EVAL);
        try (var batches = npz.batches(count, count)) {
            return batches.next().tensors().get("Input3").toFloatArray();
        }
    }

    /** Runs both models on every feed and asserts all outputs agree; returns the max absolute difference. */
    private static double compare(OnnxMl.ModelProto original, OnnxMl.ModelProto prepared,
                                  List<Map<String, float[]>> feeds, Map<String, long[]> shapes) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double maxDiff = 0;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            // No graph optimizations: compare the graphs as written, not what ORT fuses them into.
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession a = env.createSession(original.toByteArray(), options);
                 OrtSession b = env.createSession(prepared.toByteArray(), options)) {
                assertThat(b.getOutputNames()).containsExactlyElementsOf(a.getOutputNames());
                for (Map<String, float[]> feed : feeds) {
                    Map<String, float[]> ra = run(env, a, feed, shapes);
                    Map<String, float[]> rb = run(env, b, feed, shapes);
                    for (String output : ra.keySet()) {
                        float[] x = ra.get(output);
                        float[] y = rb.get(output);
                        assertThat(y).as(output).hasSameSizeAs(x);
                        for (int i = 0; i < x.length; i++) {
                            double d = Math.abs(x[i] - y[i]);
                            maxDiff = Math.max(maxDiff, d);
                            assertThat(d).as("%s[%d]: %s vs %s", output, i, x[i], y[i])
                                    .isLessThanOrEqualTo(TOLERANCE * Math.max(1, Math.abs(x[i])));
                        }
                    }
                }
            }
        }
        return maxDiff;
    }

    private static Map<String, float[]> run(OrtEnvironment env, OrtSession session, Map<String, float[]> feed,
                                            Map<String, long[]> shapes) throws Exception {
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        try {
            for (var e : feed.entrySet()) {
                inputs.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue()), shapes.get(e.getKey())));
            }
            Map<String, float[]> out = new LinkedHashMap<>();
            try (OrtSession.Result result = session.run(inputs)) {
                for (var e : result) {
                    FloatBuffer buf = ((OnnxTensor) e.getValue()).getFloatBuffer();
                    float[] values = new float[buf.remaining()];
                    buf.get(values);
                    out.put(e.getKey(), values);
                }
            }
            return out;
        } finally {
            OnnxValue.close(inputs);
        }
    }

    private static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static OnnxMl.ValueInfoProto floatInput(String name, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    private static OnnxMl.NodeProto.Builder node(String op, List<String> inputs, String output, String name) {
        return OnnxMl.NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output);
    }

    private static OnnxMl.AttributeProto intAttr(String name, long value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setI(value)
                .setType(OnnxMl.AttributeProto.AttributeType.INT).build();
    }

    private static OnnxMl.AttributeProto intsAttr(String name, long... values) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name)
                .setType(OnnxMl.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }
}
