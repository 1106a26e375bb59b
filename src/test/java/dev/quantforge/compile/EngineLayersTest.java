package dev.quantforge.compile;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Layer info joined with the profile (by layer name) and the ONNX model (by node name), on the real fixtures. */
class EngineLayersTest {

    @Test
    void profileFileReadsTheCountRecordAndEveryLayer() {
        ProfileFile profile = ProfileFile.read(Fixtures.profile(Fixtures.MOBILENET_QAT));
        assertThat(profile.runs()).isEqualTo(4216);
        assertThat(profile.layers()).hasSize(85);
        LayerTiming first = profile.layers().get(0);
        assertThat(first.name()).isEqualTo("QuantizeLinear_2");
        assertThat(first.totalMs()).isEqualTo(51.4526);
        assertThat(first.averageMs()).isEqualTo(0.0122041);
        assertThat(first.percentage()).isEqualTo(1.88608);
    }

    @Test
    void mapsEachLayerToItsOnnxNodesWithPrecisionAndTime() {
        EngineLayers.Joined joined = join(Fixtures.MOBILENET_QAT, new OnnxGraphIndex(TensorRtFixtureModels.mobilenetQat()));
        Map<String, EngineLayer> rows = joined.layers().stream().collect(Collectors.toMap(EngineLayer::name, Function.identity()));
        assertThat(joined.layers()).hasSize(73);

        EngineLayer residual = rows.get("features.3.conv.2.weight + QuantizeLinear_138 + Conv_142 + Add_144");
        // the weight initializer in the name is not a node
        assertThat(residual.onnxNodes()).containsExactly("QuantizeLinear_138", "Conv_142", "Add_144");
        assertThat(residual.precision()).isEqualTo(EnginePrecision.INT8);
        assertThat(residual.outputPrecision()).isEqualTo(EnginePrecision.FP16);
        assertThat(residual.weightsPrecision()).isEqualTo(EnginePrecision.INT8);
        assertThat(residual.timeMs()).isEqualTo(0.013199);
        assertThat(residual.percentage()).isEqualTo(2.03983);

        assertThat(rows.get("features.0.0.weight + QuantizeLinear_8 + Conv_12 + PWN(Clip_16)").onnxNodes())
                .containsExactly("QuantizeLinear_8", "Conv_12", "Clip_16");
        assertThat(rows.get("Reformatting CopyNode for Input Tensor 0 to GlobalAveragePool_843").onnxNodes()).isEmpty();
        assertThat(rows.get("classifier.1.weight + QuantizeLinear_860 + Gemm_864 + classifier.1.bias + (Unnamed Layer* 849) "
                + "[Shuffle] + unsqueeze_node_after_classifier.1.bias + (Unnamed Layer* 849) [Shuffle]_(Unnamed Layer* 849) "
                + "[Shuffle]_output + (Unnamed Layer* 850) [ElementWise]").onnxNodes()).containsExactly("QuantizeLinear_860", "Gemm_864");
        assertThat(rows.get("copied_squeeze_after_(Unnamed Layer* 850) [ElementWise]").onnxNodes()).isEmpty();
        assertThat(rows.get("QuantizeLinear_98").onnxNodes()).containsExactly("QuantizeLinear_98");
        // every Conv, Clip, Add, pooling and Gemm of the model is in exactly one layer
        List<String> covered = joined.layers().stream().flatMap(l -> l.onnxNodes().stream()).toList();
        assertThat(covered).doesNotHaveDuplicates()
                .filteredOn(n -> n.matches("(Conv|Clip|Add|GlobalAveragePool|Gemm)_\\d+")).hasSize(52 + 35 + 10 + 1 + 1);
        double total = joined.layers().stream().filter(l -> l.percentage() != null).mapToDouble(EngineLayer::percentage).sum();
        assertThat(total).isCloseTo(100.0 - 8.767076, within(0.001)); // the 12 reformats missing from the layer info hold the rest
    }

    /** The two files of the mobilenet.qat fixture come from different builds: the warning says so and names some. */
    @Test
    void warnsAboutProfiledLayersTheLayerInfoDoesNotHave() {
        EngineLayers.Joined joined = join(Fixtures.MOBILENET_QAT, new OnnxGraphIndex(TensorRtFixtureModels.mobilenetQat()));
        assertThat(joined.warnings()).singleElement().asString()
                .startsWith("12 profiled layer(s) are not in the layer info")
                .contains("'Reformatting CopyNode for Output Tensor 0 to features.2.conv.2.weight + QuantizeLinear_90 + Conv_94'");
        EngineLayers.Joined residuals = join(Fixtures.MOBILENET_V2_RESIDUALS_QAT,
                new OnnxGraphIndex(TensorRtFixtureModels.mobilenetV2ResidualsQat()));
        assertThat(residuals.warnings()).singleElement().asString().startsWith("1 profiled layer(s)");
        assertThat(residuals.layers()).allSatisfy(l -> assertThat(l.timeMs()).isNotNull());
    }

    @Test
    void warnsWhenTheModelIsNotTheOneTheEngineWasBuiltFrom() {
        EngineLayers.Joined joined = join(Fixtures.MOBILENET_QAT, new OnnxGraphIndex(TensorRtFixtureModels.mobilenetV2ResidualsQat()));
        assertThat(joined.warnings()).anySatisfy(w -> assertThat(w).contains("name no node of the ONNX model"));
    }

    @Test
    void withoutTheModelKeepsEveryNamePart() {
        EngineLayers.Joined joined = EngineLayers.join(LayerInfoFile.read(Fixtures.layerInfo(Fixtures.MOBILENET_QAT)), null, null);
        assertThat(joined.layers().get(1).onnxNodes())
                .containsExactly("features.0.0.weight", "QuantizeLinear_8", "Conv_12", "Clip_16");
        assertThat(joined.layers().get(1).timeMs()).isNull();
        assertThat(joined.warnings()).isEmpty();
    }

    private static EngineLayers.Joined join(String fixture, OnnxGraphIndex model) {
        return EngineLayers.join(LayerInfoFile.read(Fixtures.layerInfo(fixture)), ProfileFile.read(Fixtures.profile(fixture)), model);
    }
}
