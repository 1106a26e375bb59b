package dev.quantforge.compile;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The layer-info reader and the precision rule, on the real engines of the fixtures. */
class LayerInfoFileTest {

    private static final List<LayerInfo> MOBILENET = LayerInfoFile.read(Fixtures.layerInfo(Fixtures.MOBILENET_QAT));
    private static final List<LayerInfo> RESIDUALS = LayerInfoFile.read(Fixtures.layerInfo(Fixtures.MOBILENET_V2_RESIDUALS_QAT));

    @Test
    void readsEveryLayerWithItsTensorsWeightsAndTactic() {
        assertThat(MOBILENET).hasSize(73);
        assertThat(RESIDUALS).hasSize(58);
        LayerInfo conv = byName(MOBILENET).get("features.3.conv.2.weight + QuantizeLinear_138 + Conv_142 + Add_144");
        assertThat(conv.layerType()).isEqualTo("CaskConvolution");
        assertThat(conv.weightsType()).isEqualTo("Int8");
        assertThat(conv.tacticName()).isEqualTo("turing_fp16_i8816cudnn_int8_128x128_ldg16_relu_small_nt_v1");
        assertThat(conv.inputs()).extracting(EngineTensor::name).containsExactly("447", "410");
        assertThat(conv.inputs()).extracting(EngineTensor::precision).containsExactly(EnginePrecision.INT8, EnginePrecision.FP16);
        assertThat(conv.inputs().get(1).dimensions()).containsExactly(1L, 24L, 56L, 56L);
        assertThat(conv.outputs()).extracting(EngineTensor::precision).containsExactly(EnginePrecision.FP16);

        LayerInfo quantize = MOBILENET.get(0);
        assertThat(quantize.name()).isEqualTo("QuantizeLinear_2");
        assertThat(quantize.origin()).isEqualTo("QDQ");
        assertThat(quantize.weightsType()).isNull();
        assertThat(quantize.tacticName()).isNull(); // only a TacticValue

        LayerInfo depthwise = byName(MOBILENET).get("features.1.conv.0.0.weight + QuantizeLinear_25 + Conv_29 + PWN(Clip_33)");
        assertThat(depthwise.layerType()).isEqualTo("CudaDepthwiseConvolution");
        assertThat(depthwise.tacticName()).isNull();
    }

    /**
     * The rule of {@link LayerInfo#precision()}. Every weighted layer of both engines computes in INT8, including
     * those writing FP16/FP32 and the fused Conv + Add layers whose shortcut arrives in float; QuantizeLinear
     * reformats report the float type they read; the pooling and its reformat run in FP16.
     */
    @Test
    void derivesEachLayersPrecisionFromFormatsAndWeights() {
        assertThat(histogram(MOBILENET)).containsExactlyInAnyOrderEntriesOf(Map.of(
                EnginePrecision.INT8, 53L, EnginePrecision.FP16, 15L, EnginePrecision.FP32, 5L));
        assertThat(histogram(RESIDUALS)).containsExactlyInAnyOrderEntriesOf(Map.of(
                EnginePrecision.INT8, 53L, EnginePrecision.FP16, 3L, EnginePrecision.FP32, 2L));
        Map<String, LayerInfo> m = byName(MOBILENET);
        assertThat(m.get("features.3.conv.2.weight + QuantizeLinear_138 + Conv_142 + Add_144").precision()).isEqualTo(EnginePrecision.INT8);
        assertThat(m.get("features.14.conv.2.weight + QuantizeLinear_674 + Conv_678").outputPrecision()).isEqualTo(EnginePrecision.FP32);
        assertThat(m.get("features.14.conv.2.weight + QuantizeLinear_674 + Conv_678").precision()).isEqualTo(EnginePrecision.INT8);
        assertThat(m.get("QuantizeLinear_98").precision()).isEqualTo(EnginePrecision.FP16);
        assertThat(m.get("QuantizeLinear_2").precision()).isEqualTo(EnginePrecision.FP32);
        assertThat(m.get("GlobalAveragePool_843").precision()).isEqualTo(EnginePrecision.FP16);
        assertThat(m.get("copied_squeeze_after_(Unnamed Layer* 850) [ElementWise]").precision()).isEqualTo(EnginePrecision.FP32);
        Map<String, LayerInfo> r = byName(RESIDUALS);
        assertThat(r.get("features.3.conv.2.weight + QuantizeLinear_119 + Conv_121 + Add_123").inputs())
                .extracting(EngineTensor::precision).containsOnly(EnginePrecision.INT8);
        assertThat(r.get("features.18.0.weight + QuantizeLinear_740 + Conv_742 + PWN(Clip_746)").outputPrecision())
                .isEqualTo(EnginePrecision.FP16);
    }

    @Test
    void fallsBackToOutputsThenTacticWhenInputsSayNothing() {
        LayerInfo noFormats = new LayerInfo("myelin", "kgen", List.of(), List.of(), null,
                "sm80_xmma_gemm_i8i8_i8i32_f32_tn", null, null);
        assertThat(noFormats.precision()).isEqualTo(EnginePrecision.INT8);
        LayerInfo halfOut = new LayerInfo("myelin", "kgen", List.of(),
                List.of(new EngineTensor("y", List.of(), "Half", EnginePrecision.FP16)), null, null, null, null);
        assertThat(halfOut.precision()).isEqualTo(EnginePrecision.FP16);
    }

    @Test
    void keepsOnlyTheFirstOptimizationProfileAndDropsSyncLayers() {
        String json = """
                {"Layers": [
                  {"Name": "Conv_1", "LayerType": "CaskConvolution", "Inputs": [], "Outputs": []},
                  {"Name": "Conv_1 [profile 1]", "LayerType": "CaskConvolution", "Inputs": [], "Outputs": []},
                  {"Name": "sync", "LayerType": "signal", "Inputs": [], "Outputs": []}],
                 "Bindings": ["x", "y", "x [profile 1]", "y [profile 1]"]}""";
        assertThat(LayerInfoFile.parse(Json.parse(json, "test"))).extracting(LayerInfo::name).containsExactly("Conv_1");
    }

    @Test
    void refusesLayerInfoWrittenWithoutDetailedVerbosity() {
        // --profilingVerbosity=layer_names_only writes bare names
        assertThatThrownBy(() -> LayerInfoFile.parse(Json.parse("{\"Layers\": [\"Conv_1\", \"Relu_2\"]}", "test")))
                .isInstanceOf(EngineReportException.class)
                .hasMessageContaining("--profilingVerbosity=detailed");
        assertThatThrownBy(() -> LayerInfoFile.parse(Json.parse("[]", "test")))
                .hasMessageContaining("no \"Layers\" array");
    }

    private static Map<String, LayerInfo> byName(List<LayerInfo> layers) {
        return layers.stream().collect(Collectors.toMap(LayerInfo::name, Function.identity()));
    }

    private static Map<EnginePrecision, Long> histogram(List<LayerInfo> layers) {
        return layers.stream().collect(Collectors.groupingBy(LayerInfo::precision, Collectors.counting()));
    }
}
