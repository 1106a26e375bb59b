package dev.quantforge.compile;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine's precision against the QDQ plan, on the two real engines: one built from a model without Q/DQ
 * on the residual shortcuts, one with.
 */
class Int8PlanCheckTest {

    @Test
    void residualAddsWithoutQdqForceTheConvOutputsAroundThemToFloat() {
        OnnxGraphIndex model = new OnnxGraphIndex(TensorRtFixtureModels.mobilenetQat());
        Int8PlanCheck.Result result = Int8PlanCheck.check(model, layers(Fixtures.MOBILENET_QAT, model));

        // 52 Conv + 1 Gemm have DequantizeLinear on activation and weights; the Adds' shortcut is not dequantized
        assertThat(result.plannedInt8Nodes()).hasSize(53).noneMatch(n -> n.startsWith("Add_"));
        assertThat(result.unmatchedNodes()).isEmpty();
        // every project conv whose block output stays float because a residual Add reads it unquantized
        assertThat(result.notInt8AsPlanned()).extracting(NotInt8AsPlanned::node).containsExactly(
                "Conv_94", "Conv_142", "Conv_191", "Conv_239", "Conv_288", "Conv_337", "Conv_385", "Conv_434", "Conv_483",
                "Conv_532", "Conv_580", "Conv_629", "Conv_678", "Conv_726", "Conv_775");

        NotInt8AsPlanned producer = result.notInt8AsPlanned().get(0);
        assertThat(producer.opType()).isEqualTo("Conv");
        assertThat(producer.layer()).isEqualTo("features.2.conv.2.weight + QuantizeLinear_90 + Conv_94");
        assertThat(producer.layerPrecision()).isEqualTo(EnginePrecision.INT8);
        assertThat(producer.outputPrecision()).isEqualTo(EnginePrecision.FP16);
        assertThat(producer.reason()).isEqualTo("the layer writes '410' as FP16 although QuantizeLinear_98 quantizes it, "
                + "so TensorRT runs that QuantizeLinear as a separate layer: '410' also feeds Add_144 without Q/DQ, which "
                + "needs it in float (quantize that input too, e.g. the residual Add's shortcut)");

        NotInt8AsPlanned fused = result.notInt8AsPlanned().get(1);
        assertThat(fused.layer()).isEqualTo("features.3.conv.2.weight + QuantizeLinear_138 + Conv_142 + Add_144");
        assertThat(fused.reason()).isEqualTo("the layer writes '459' as FP16 although QuantizeLinear_147 quantizes it, so "
                + "TensorRT runs that QuantizeLinear as a separate layer: the fused Add_144 reads '410' as FP16 (no Q/DQ on "
                + "that input), which keeps the fused result in float (quantize that input too, e.g. the residual Add's shortcut)");

        NotInt8AsPlanned fp32 = result.notInt8AsPlanned().stream().filter(d -> d.node().equals("Conv_678")).findFirst().orElseThrow();
        assertThat(fp32.outputPrecision()).isEqualTo(EnginePrecision.FP32);
    }

    /** Not flagged: the conv before the pooling (the plan keeps its output float too) and the classifier Gemm. */
    @Test
    void floatOutputsThePlanKeepsFloatAreAsPlanned() {
        OnnxGraphIndex model = new OnnxGraphIndex(TensorRtFixtureModels.mobilenetQat());
        Int8PlanCheck.Result result = Int8PlanCheck.check(model, layers(Fixtures.MOBILENET_QAT, model));
        assertThat(result.plannedInt8Nodes()).contains("Conv_838", "Gemm_864", "Conv_824");
        assertThat(result.notInt8AsPlanned()).extracting(NotInt8AsPlanned::node).doesNotContain("Conv_838", "Gemm_864", "Conv_824");
    }

    @Test
    void withQdqOnBothResidualInputsEverythingRunsInt8AsPlanned() {
        OnnxGraphIndex model = new OnnxGraphIndex(TensorRtFixtureModels.mobilenetV2ResidualsQat());
        Int8PlanCheck.Result result = Int8PlanCheck.check(model, layers(Fixtures.MOBILENET_V2_RESIDUALS_QAT, model));
        assertThat(result.plannedInt8Nodes()).hasSize(53 + 10).contains("Add_123", "Add_693");
        assertThat(result.unmatchedNodes()).isEmpty();
        assertThat(result.notInt8AsPlanned()).isEmpty();
    }

    /** A layer that dequantized its weights and computes in FP16 (what TensorRT does without an INT8 kernel). */
    @Test
    void aPlannedConvRunInFloatIsFlaggedWithItsWeights() {
        OnnxGraphIndex model = new OnnxGraphIndex(TensorRtFixtureModels.mobilenetV2ResidualsQat());
        EngineLayer fp16 = new EngineLayer("features.0.0.weight + QuantizeLinear_7 + Conv_9 + PWN(Clip_13)", "CaskConvolution",
                List.of("QuantizeLinear_7", "Conv_9", "Clip_13"), EnginePrecision.FP16,
                List.of(new EngineTensor("433", List.of(), "Row major linear FP16 format", EnginePrecision.FP16)),
                List.of(new EngineTensor("449", List.of(), "Row major linear FP16 format", EnginePrecision.FP16)),
                EnginePrecision.FP16, "sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc", 0.01, 1.0);
        Int8PlanCheck.Result result = Int8PlanCheck.check(model, List.of(fp16));
        assertThat(result.notInt8AsPlanned()).singleElement().satisfies(d -> {
            assertThat(d.node()).isEqualTo("Conv_9");
            assertThat(d.layerPrecision()).isEqualTo(EnginePrecision.FP16);
            assertThat(d.reason()).startsWith("its layer holds the weights as FP16 and computes in FP16");
        });
        // the other planned nodes are in no layer of this one-layer engine
        assertThat(result.unmatchedNodes()).hasSize(62);
    }

    private static List<EngineLayer> layers(String fixture, OnnxGraphIndex model) {
        return EngineLayers.join(LayerInfoFile.read(Fixtures.layerInfo(fixture)), ProfileFile.read(Fixtures.profile(fixture)), model).layers();
    }
}
