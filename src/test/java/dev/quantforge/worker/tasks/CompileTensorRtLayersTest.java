package dev.quantforge.worker.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.quantforge.compile.EngineLayer;
import dev.quantforge.compile.EnginePrecision;
import dev.quantforge.compile.NotInt8AsPlanned;
import dev.quantforge.platform.ApiJson;

/** A report row names the layer's nodes that the QDQ plan meant INT8 and the engine does not run INT8. */
class CompileTensorRtLayersTest {

    @Test
    void aLayerRowListsItsNodesThatAreNotInt8AsPlanned() {
        EngineLayer fused = new EngineLayer("Conv_142 + Add_144", "CaskConvolution", List.of("Conv_142", "Add_144"), EnginePrecision.INT8,
                List.of(), List.of(), EnginePrecision.INT8, "sm80_xmma_fprop_implicit_gemm_interleaved_i8i8", 0.012, 1.5);
        EngineLayer other = new EngineLayer("Conv_8", "CaskConvolution", List.of("Conv_8"), EnginePrecision.INT8, List.of(), List.of(),
                EnginePrecision.INT8, null, 0.01, 1.2);
        List<NotInt8AsPlanned> deviations = List.of(new NotInt8AsPlanned("Conv_142", "Conv", "Conv_142 + Add_144", EnginePrecision.INT8,
                EnginePrecision.FP32, "the residual Add has no Q/DQ on its other input, so the fused Conv writes FP32"));

        CompileTensorRtHandler.Layer row = CompileTensorRtHandler.Layer.of(fused, deviations);
        assertThat(row.notInt8AsPlanned()).containsExactly("Conv_142");
        assertThat(row.onnxNodes()).containsExactly("Conv_142", "Add_144");
        assertThat(row.precision()).isEqualTo("int8");
        assertThat(row.weightsPrecision()).isEqualTo("int8");

        CompileTensorRtHandler.Layer clean = CompileTensorRtHandler.Layer.of(other, deviations);
        assertThat(clean.notInt8AsPlanned()).isNull();
        assertThat(ApiJson.node(clean).has("notInt8AsPlanned")).as("absent when none").isFalse();
        assertThat(ApiJson.node(row).path("timeMs").asDouble()).isEqualTo(0.012);
    }
}
