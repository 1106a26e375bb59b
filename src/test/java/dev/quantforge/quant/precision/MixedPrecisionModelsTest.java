package dev.quantforge.quant.precision;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.dataset.io.DatasetFormat;
import dev.quantforge.dataset.io.DatasetReaders;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.OnnxChecker;
import dev.quantforge.quant.pipeline.EnginePtq;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.progress.EngineLog;
import dev.quantforge.quant.qdq.OrtFusionCheck;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.testsupport.SharedData;

/**
 * INT8 + FP16 models on real networks, run by ONNX Runtime CPU (which runs FP16 graphs, casting where it has no FP16
 * kernel) and checked by the ONNX checker.
 */
class MixedPrecisionModelsTest {

    @Test
    void cifarNetInt8PlusFp16IsWithinHalfAPointOfInt8PlusFp32(@TempDir Path dir) throws Exception {
        Path model = SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx");
        SampleSource calibration = images(dir, 900, 1000);
        SampleSource evaluation = images(dir, 0, 100);
        QuantizationSpec spec = QuantizationSpec.DEFAULTS.withMode(QuantizationSpec.Mode.STATIC)
                .withCalibration(new QuantizationSpec.Calibration(500, 32, false));
        // the Gemm tail kept out of INT8: what FP16 is for
        Set<String> keptFloat = Set.of(lastOfType(model, "Gemm"));
        ModelComparison.Result fp32Kept;
        ModelComparison.Result fp16Kept;
        QdqBuild mixed;
        Path int8File;
        try (QuantizationPipeline p = QuantizationPipeline.prepare(model, spec, dir.resolve("int8"), EngineLog.NONE, Progress.NONE)) {
            p.calibrate(calibration, "calibration", Progress.NONE);
            int8File = p.build(keptFloat).file();
            fp32Kept = p.compare(int8File, evaluation, Progress.NONE);
        }
        try (QuantizationPipeline p = QuantizationPipeline.prepare(model, spec.withFloatPrecision(QuantizationSpec.FloatPrecision.FP16),
                dir.resolve("mixed"), EngineLog.NONE, Progress.NONE)) {
            p.calibrate(calibration, "calibration", Progress.NONE);
            mixed = p.build(keptFloat);
            fp16Kept = p.compare(mixed.file(), evaluation, Progress.NONE);
        }
        OnnxChecker.check(mixed.file());
        Map<Fp16Conversion.Precision, Long> counts = countByPrecision(mixed);
        assertThat(counts.get(Fp16Conversion.Precision.FP16)).as(mixed.precisions().toString()).isPositive();
        assertThat(counts.get(Fp16Conversion.Precision.INT8)).isPositive();
        assertThat(mixed.fp16Nodes()).contains(keptFloat.iterator().next());
        assertThat(initializerTypes(mixed)).contains(Graphs.FLOAT16);
        assertThat(fp16Kept.top1Candidate()).isCloseTo(fp32Kept.top1Candidate(), org.assertj.core.data.Offset.offset(0.005));
        assertThat(fp16Kept.sqnrDb()).isGreaterThan(10);
        // ReLU6 between Q/DQ stays in the int8 chain: FP16 costs ONNX Runtime none of its int8 fusions
        assertThat(mixed.precisions()).filteredOn(n -> n.opType().equals("Clip"))
                .allSatisfy(n -> assertThat(n.precision()).isEqualTo(Fp16Conversion.Precision.INT8));
        assertThat(OrtFusionCheck.fusedInt8Count(OrtFusionCheck.fusedOps(mixed.file())))
                .isEqualTo(OrtFusionCheck.fusedInt8Count(OrtFusionCheck.fusedOps(int8File)));
        // the model's inputs and outputs keep their types
        OnnxMl.GraphProto g = mixed.qdq().model().getGraph();
        assertThat(g.getInput(0).getType().getTensorType().getElemType()).isEqualTo(Graphs.FLOAT);
        assertThat(g.getOutput(0).getType().getTensorType().getElemType()).isEqualTo(Graphs.FLOAT);
    }

    @Test
    void ultraFaceKeepsItsSoftmaxAndExpInFp32AndSaysWhy(@TempDir Path dir) throws Exception {
        Path model = SharedData.file("ultraface-rfb-320/version-RFB-320.onnx");
        SampleSource faces = faces(dir);
        QuantizationSpec spec = QuantizationSpec.DEFAULTS.withMode(QuantizationSpec.Mode.STATIC)
                .withFloatPrecision(QuantizationSpec.FloatPrecision.FP16)
                .withCalibration(new QuantizationSpec.Calibration(22, 11, false));
        try (QuantizationPipeline p = QuantizationPipeline.prepare(model, spec, dir, EngineLog.NONE, Progress.NONE)) {
            p.calibrate(faces, "faces", Progress.NONE);
            QdqBuild mixed = p.build(Set.of());
            OnnxChecker.check(mixed.file());
            ModelComparison.Result cmp = p.compare(mixed.file(), faces, Progress.NONE);
            assertThat(cmp.outputs()).hasSize(2);
            assertThat(cmp.sqnrDb()).isGreaterThan(10);
            List<Fp16Conversion.NodePrecision> softmax = mixed.precisions().stream().filter(n -> n.opType().equals("Softmax")).toList();
            assertThat(softmax).isNotEmpty().allSatisfy(n -> {
                assertThat(n.precision()).isEqualTo(Fp16Conversion.Precision.FP32);
                assertThat(n.reason()).contains("needs FP32");
            });
            assertThat(mixed.precisions()).anySatisfy(n -> assertThat(n.precision()).isEqualTo(Fp16Conversion.Precision.FP16));
            assertThat(mixed.precisions()).anySatisfy(n -> assertThat(n.precision()).isEqualTo(Fp16Conversion.Precision.INT8));
        }
    }

    @Test
    void nodesAnOverrideKeepsInFp32StayFp32(@TempDir Path dir) throws Exception {
        Path model = SharedData.file("cifar10-mlperftiny-ic/model_ic.onnx");
        String gemm = lastOfType(model, "Gemm");
        QuantizationSpec spec = QuantizationSpec.DEFAULTS.withMode(QuantizationSpec.Mode.STATIC)
                .withCalibration(new QuantizationSpec.Calibration(100, 32, false))
                .withFloatPrecision(QuantizationSpec.FloatPrecision.FP16)
                .withOverrides(List.of(new QuantizationSpec.NodeOverride(List.of(gemm), null, QuantizationSpec.FloatPrecision.FP32)));
        try (QuantizationPipeline p = QuantizationPipeline.prepare(model, spec, dir, EngineLog.NONE, Progress.NONE)) {
            p.calibrate(images(dir, 900, 910), "calibration", Progress.NONE);
            QdqBuild mixed = p.build(Set.of(gemm));
            assertThat(mixed.precisions()).filteredOn(n -> n.node().equals(gemm)).singleElement()
                    .satisfies(n -> assertThat(n.precision()).isEqualTo(Fp16Conversion.Precision.FP32));
        }
    }

    private static Map<Fp16Conversion.Precision, Long> countByPrecision(QdqBuild b) {
        Map<Fp16Conversion.Precision, Long> counts = new java.util.EnumMap<>(Fp16Conversion.Precision.class);
        for (Fp16Conversion.Precision p : Fp16Conversion.Precision.values()) {
            counts.put(p, b.precisions().stream().filter(n -> n.precision() == p).count());
        }
        return counts;
    }

    private static List<Integer> initializerTypes(QdqBuild b) {
        return b.qdq().model().getGraph().getInitializerList().stream().map(OnnxMl.TensorProto::getDataType).distinct().toList();
    }

    private static String lastOfType(Path model, String op) {
        List<OnnxMl.NodeProto> nodes = Graphs.parse(model).getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(op)).toList();
        String name = nodes.get(nodes.size() - 1).getName();
        assertThat(name).isNotEmpty();
        return name;
    }

    private static SampleSource images(Path dir, int from, int to) throws IOException {
        Path zip = dir.resolve("cifar-" + from + "-" + to + ".zip");
        Files.write(zip, SharedData.cifarZip(from, to));
        return DatasetReaders.open(zip, DatasetFormat.IMAGE_FOLDER, EnginePtq.CIFAR);
    }

    /** The 22 UltraFace demo photos, (pixel - 127) / 128 at 320×240 (ultraface-rfb-320/SOURCES.md). */
    private static SampleSource faces(Path dir) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes); var files = Files.list(SharedData.file("ultraface-rfb-320/imgs"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".jpg")).sorted().toList()) {
                zip.putNextEntry(new ZipEntry("face/" + f.getFileName()));
                zip.write(Files.readAllBytes(f));
                zip.closeEntry();
            }
        }
        Path zip = dir.resolve("faces.zip");
        Files.write(zip, bytes.toByteArray());
        Preprocessing pre = new Preprocessing(new int[]{240, 320}, 1 / 255.0, new double[]{127 / 255.0, 127 / 255.0, 127 / 255.0},
                new double[]{128 / 255.0, 128 / 255.0, 128 / 255.0}, Preprocessing.NCHW, Preprocessing.RGB, false);
        return DatasetReaders.open(zip, DatasetFormat.IMAGE_FOLDER, pre);
    }
}
