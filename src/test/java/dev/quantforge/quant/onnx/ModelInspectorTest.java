package dev.quantforge.quant.onnx;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.inspect.ModelSummary.IoInfo;
import dev.quantforge.quant.inspect.ModelSummary.NodeRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.quantforge.quant.testdata.Models.*;
import static org.junit.jupiter.api.Assertions.*;

class ModelInspectorTest {

    private final ModelInspector inspector = new ModelInspector();

    private static List<Object> shape(Object... dims) {
        return Arrays.asList(dims);
    }

    private static long countOf(List<NodeRef> nodes, String opType) {
        return nodes.stream().filter(n -> n.opType().equals(opType)).count();
    }

    @Test
    void mnist8() {
        ModelSummary s = inspector.inspect(MNIST8);
        assertEquals(3, s.irVersion());
        assertEquals(8, s.opsetVersion());
        assertEquals("CNTK 2.5.1", s.producer());
        assertEquals(List.of(new IoInfo("Input3", "float32", shape(1L, 1L, 28L, 28L))), s.inputs());
        assertEquals(List.of(new IoInfo("Plus214_Output_0", "float32", shape(1L, 10L))), s.outputs());
        assertEquals(12, s.nodeCount());
        assertEquals(List.of("Add", "Conv", "MaxPool", "Relu", "Reshape", "MatMul"), new ArrayList<>(s.opTypes().keySet()));
        assertEquals(3, s.opTypes().get("Add"));
        assertEquals(List.of(new NodeRef("Convolution28", "Conv"), new NodeRef("Convolution110", "Conv"),
                new NodeRef("Times212", "MatMul")), s.quantizableNodes());
        assertEquals(1, s.tensorInputs().size());
    }

    @Test
    void mnist7HasOpset7() {
        ModelSummary s = inspector.inspect(MNIST7);
        assertEquals(7, s.opsetVersion());
        assertEquals(3, s.quantizableNodes().size());
    }

    @Test
    void tribuoCnnHasSymbolicBatchAndGeneratedNodeNames() {
        ModelSummary s = inspector.inspect(TRIBUO_CNN);
        assertEquals(4, s.irVersion());
        assertEquals(9, s.opsetVersion());
        assertEquals("pytorch 1.1", s.producer());
        assertEquals(List.of(new IoInfo("input_image", "float32", shape("batch", 1L, 28L, 28L))), s.inputs());
        assertEquals(List.of(new IoInfo("output_probs", "float32", shape("batch", 10L))), s.outputs());
        assertEquals(List.of(new NodeRef("Conv_0", "Conv"), new NodeRef("Conv_3", "Conv"),
                new NodeRef("Gemm_8", "Gemm"), new NodeRef("Gemm_10", "Gemm")), s.quantizableNodes());
    }

    @Test
    void sklLogisticRegressionHasNothingQuantizableAndNonTensorOutput() {
        ModelSummary s = inspector.inspect(SKL_LR);
        assertEquals(9, s.opsetVersion());
        assertEquals(Map.of("", 9L, "ai.onnx.ml", 1L), s.opsetImports());
        assertEquals(List.of(), s.quantizableNodes());
        assertEquals(List.of(new IoInfo("float_input", "float32", shape(null, 784L))), s.inputs());
        assertEquals(2, s.outputs().size());
        assertEquals("int64", s.outputs().get(0).elementType());
        IoInfo probabilities = s.outputs().get(1);
        assertEquals(new IoInfo("output_probability", "sequence<map<int64,float32>>", null), probabilities);
        assertFalse(probabilities.isTensor());
        assertEquals(Map.of("Cast", 1, "LinearClassifier", 1, "Normalizer", 1, "ZipMap", 1), s.opTypes());
    }

    @Test
    void cifarResNet() {
        ModelSummary s = inspector.inspect(CIFAR_IC);
        assertEquals(6, s.irVersion());
        assertEquals(11, s.opsetVersion());
        assertEquals(110, s.nodeCount());
        assertEquals(26, s.opTypes().get("Conv"));
        assertEquals(26, s.opTypes().get("BatchNormalization"));
        assertEquals(17, s.opTypes().get("Clip"));
        assertEquals(3, s.opTypes().get("Add"));
        // by count, then name
        assertEquals(List.of("Constant", "BatchNormalization", "Conv", "Clip", "Add", "Squeeze", "Gemm", "GlobalAveragePool"),
                new ArrayList<>(s.opTypes().keySet()));
        assertEquals(27, s.quantizableNodes().size());
        assertEquals(26, countOf(s.quantizableNodes(), "Conv"));
        assertEquals(1, countOf(s.quantizableNodes(), "Gemm"));
        assertEquals(List.of(new IoInfo("actual_input_1", "float32", shape("batch", 3L, 32L, 32L))), s.inputs());
        assertEquals(List.of(new IoInfo("output1", "float32", shape("batch", 10L))), s.outputs());
    }

    @Test
    void ultrafaceInputsExcludeInitializers() {
        ModelSummary s = inspector.inspect(ULTRAFACE);
        assertEquals(List.of(new IoInfo("input", "float32", shape(1L, 3L, 240L, 320L))), s.inputs());
        assertEquals(List.of(new IoInfo("scores", "float32", shape(1L, 4420L, 2L)),
                new IoInfo("boxes", "float32", shape(1L, 4420L, 4L))), s.outputs());
        assertEquals(9, s.opsetVersion());
        assertEquals(52, s.quantizableNodes().size());
    }

    @Test
    void tinybertHasThreeInt64Inputs() {
        ModelSummary s = inspector.inspect(TINYBERT);
        assertEquals(11, s.opsetVersion());
        assertEquals(List.of(new IoInfo("input_ids", "int64", shape("batch", "sequence")),
                new IoInfo("attention_mask", "int64", shape("batch", "sequence")),
                new IoInfo("token_type_ids", "int64", shape("batch", "sequence"))), s.inputs());
        assertEquals(List.of(new IoInfo("output_0", "float32", shape("batch", "sequence", 50L)),
                new IoInfo("output_1", "float32", shape("batch", 50L))), s.outputs());
        assertEquals(8, countOf(s.quantizableNodes(), "MatMul"));
        assertEquals(1, countOf(s.quantizableNodes(), "Gemm"));
    }

    @Test
    void kws() {
        ModelSummary s = inspector.inspect(KWS);
        assertEquals(9, s.opsetVersion());
        assertEquals("tf2onnx 1.9.2", s.producer());
        assertEquals(List.of(new IoInfo("x:0", "float32", shape(1L, 49L, 10L, 1L))), s.inputs());
        assertEquals(List.of(new IoInfo("Identity:0", "float32", shape(1L, 12L))), s.outputs());
        assertEquals(10, s.quantizableNodes().size());
        assertEquals("functional_1/conv2d/BiasAdd", s.quantizableNodes().get(0).name());
    }

    @Test
    void visualWakeWordsAndAnomalyDetection() {
        ModelSummary vww = inspector.inspect(VWW);
        assertEquals(List.of(new IoInfo("actual_input_1", "float32", shape(1L, 3L, 96L, 96L))), vww.inputs());
        assertEquals(List.of(new IoInfo("output1", "float32", shape(1L, 2L))), vww.outputs());
        assertEquals(28, vww.quantizableNodes().size());
        ModelSummary ad = inspector.inspect(AD);
        assertEquals(List.of(new IoInfo("actual_input_1", "float32", shape(1L, 640L))), ad.inputs());
        assertEquals(6, ad.quantizableNodes().size());
        assertEquals(Map.of("Gemm", 6, "BatchNormalization", 5, "Relu", 5), ad.opTypes());
    }

    // ---- refused files ----

    @Test
    void randomBytesAreNotAModel(@TempDir Path dir) throws IOException {
        byte[] bytes = new byte[4096];
        new Random(7).nextBytes(bytes);
        Path file = dir.resolve("random.onnx");
        Files.write(file, bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> inspector.inspect(file));
        assertTrue(e.getMessage().startsWith("not an ONNX model"), e.getMessage());
    }

    @Test
    void emptyFileIsNotAModel(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> inspector.inspect(file));
        assertTrue(e.getMessage().startsWith("not an ONNX model"), e.getMessage());
    }

    @Test
    void truncatedModelIsRefused(@TempDir Path dir) throws IOException {
        byte[] model = Files.readAllBytes(MNIST8);
        Path file = Files.write(dir.resolve("half.onnx"), Arrays.copyOf(model, model.length / 2));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> inspector.inspect(file));
        assertTrue(e.getMessage().startsWith("not an ONNX model (or the file is truncated)"), e.getMessage());
    }

    @Test
    void modelWithoutGraphIsRefused(@TempDir Path dir) throws IOException {
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(7)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(13)).build();
        Path file = Files.write(dir.resolve("nograph.onnx"), model.toByteArray());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> inspector.inspect(file));
        assertEquals("the ONNX model has no graph", e.getMessage());
    }

    @Test
    void externalDataOutsideTheModelIsRefused(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("escape.onnx"), modelWithExternalData("../../etc/passwd").toByteArray());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> inspector.inspect(file));
        assertTrue(e.getMessage().startsWith("external data path '../../etc/passwd' points outside the model; "),
                e.getMessage());

        Path absolute = Files.write(dir.resolve("absolute.onnx"), modelWithExternalData("/etc/passwd").toByteArray());
        e = assertThrows(InvalidInputException.class, () -> inspector.inspect(absolute));
        assertTrue(e.getMessage().startsWith("external data path '/etc/passwd' points outside the model; "),
                e.getMessage());

        Path sneaky = Files.write(dir.resolve("sneaky.onnx"), modelWithExternalData("weights/../../x.bin").toByteArray());
        e = assertThrows(InvalidInputException.class, () -> inspector.inspect(sneaky));
        assertTrue(e.getMessage().contains("points outside the model"), e.getMessage());
    }

    @Test
    void externalDataInsideTheDirectoryIsRefusedToo(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("ext.onnx"), modelWithExternalData("weights.bin").toByteArray());
        Files.write(dir.resolve("weights.bin"), new byte[4]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> inspector.inspect(file));
        assertTrue(e.getMessage().contains("external file 'weights.bin'"), e.getMessage());
        assertTrue(e.getMessage().contains("one self-contained .onnx file"), e.getMessage());
    }

    @Test
    void modelOnnxRuntimeCannotLoadIsRefused(@TempDir Path dir) throws IOException {
        OnnxMl.GraphProto graph = OnnxMl.GraphProto.newBuilder().setName("g")
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("NoSuchOperator").addInput("X").addOutput("Y"))
                .addInput(floatValue("X")).addOutput(floatValue("Y")).build();
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(7)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(graph).build();
        Path file = Files.write(dir.resolve("unknown-op.onnx"), model.toByteArray());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> inspector.inspect(file));
        assertTrue(e.getMessage().startsWith("ONNX Runtime cannot load the model: "), e.getMessage());
        assertTrue(e.getMessage().contains("NoSuchOperator"), e.getMessage());
    }

    @Test
    void escapeDetection() {
        assertTrue(ModelInspector.escapesModelDirectory("../w.bin"));
        assertTrue(ModelInspector.escapesModelDirectory("a/../../w.bin"));
        assertTrue(ModelInspector.escapesModelDirectory("/abs/w.bin"));
        assertTrue(ModelInspector.escapesModelDirectory("C:\\w.bin"));
        assertTrue(ModelInspector.escapesModelDirectory("..\\w.bin"));
        assertFalse(ModelInspector.escapesModelDirectory("w.bin"));
        assertFalse(ModelInspector.escapesModelDirectory("sub/../w.bin"));
    }

    private static OnnxMl.ValueInfoProto floatValue(String name) {
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxMl.TensorProto.DataType.FLOAT_VALUE)
                        .setShape(OnnxMl.TensorShapeProto.newBuilder()
                                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(1)))))
                .build();
    }

    /** X + W where W's data lives in an external file at {@code location}. */
    static OnnxMl.ModelProto modelWithExternalData(String location) {
        OnnxMl.TensorProto weight = OnnxMl.TensorProto.newBuilder().setName("W").addDims(1)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE)
                .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("offset").setValue("0"))
                .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("length").setValue("4"))
                .build();
        OnnxMl.GraphProto graph = OnnxMl.GraphProto.newBuilder().setName("g")
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Add").addInput("X").addInput("W").addOutput("Y"))
                .addInitializer(weight).addInput(floatValue("X")).addOutput(floatValue("Y")).build();
        return OnnxMl.ModelProto.newBuilder().setIrVersion(7).setProducerName("test")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(graph).build();
    }
}
