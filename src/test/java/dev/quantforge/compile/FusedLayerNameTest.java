package dev.quantforge.compile;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FusedLayerNameTest {

    @Test
    void splitsFusedNamesAndUnwrapsPointwiseFusions() {
        FusedLayerName name = FusedLayerName.of("features.0.0.weight + QuantizeLinear_8 + Conv_12 + PWN(Clip_16)", null);
        assertThat(name.parts()).containsExactly("features.0.0.weight", "QuantizeLinear_8", "Conv_12", "Clip_16");
        assertThat(name.tensorRtMade()).isFalse();
        assertThat(name.fromMetadata()).isFalse();
        // nested pointwise fusion (TensorRT 8 names a SiLU this way)
        assertThat(FusedLayerName.of("Conv_3 + PWN(PWN(Sigmoid_4), Mul_5)", null).parts())
                .containsExactly("Conv_3", "Sigmoid_4", "Mul_5");
    }

    @Test
    void dropsTensorRtMadeLayersAndParserHelpers() {
        assertThat(FusedLayerName.of("Reformatting CopyNode for Input Tensor 0 to GlobalAveragePool_843", null).tensorRtMade()).isTrue();
        FusedLayerName copy = FusedLayerName.of(
                "Reformatting CopyNode for Output Tensor 0 to features.2.conv.2.weight + QuantizeLinear_90 + Conv_94", null);
        assertThat(copy.tensorRtMade()).isTrue();
        assertThat(copy.parts()).isEmpty();
        FusedLayerName gemm = FusedLayerName.of("classifier.1.weight + QuantizeLinear_860 + Gemm_864 + classifier.1.bias + "
                + "(Unnamed Layer* 849) [Shuffle] + unsqueeze_node_after_classifier.1.bias + (Unnamed Layer* 849) "
                + "[Shuffle]_(Unnamed Layer* 849) [Shuffle]_output + (Unnamed Layer* 850) [ElementWise]", null);
        assertThat(gemm.parts()).containsExactly("classifier.1.weight", "QuantizeLinear_860", "Gemm_864", "classifier.1.bias",
                "unsqueeze_node_after_classifier.1.bias");
    }

    @Test
    void prefersTheExactMetadataOfTensorRt86AndLater() {
        FusedLayerName name = FusedLayerName.of("/features/features.0/Conv + /features/features.0/Relu",
                "[ONNX Layer: /features/features.0/Conv]\u001f[ONNX Layer: /features/features.0/Relu]");
        assertThat(name.parts()).containsExactly("/features/features.0/Conv", "/features/features.0/Relu");
        assertThat(name.fromMetadata()).isTrue();
        assertThat(FusedLayerName.of("__myl_AddRelu", "[ONNX Layer: /a/Add]\u001e[ONNX Layer: /a/Relu]").parts())
                .containsExactly("/a/Add", "/a/Relu");
    }

    @Test
    void readsMyelinRegionsAsFirstAndLastNode() {
        FusedLayerName name = FusedLayerName.of("{ForeignNode[/encoder/layer.0/MatMul.../encoder/layer.0/Add_1]}", null);
        assertThat(name.parts()).isEmpty();
        assertThat(name.regions()).containsExactly(new FusedLayerName.Region("/encoder/layer.0/MatMul", "/encoder/layer.0/Add_1"));
    }
}
