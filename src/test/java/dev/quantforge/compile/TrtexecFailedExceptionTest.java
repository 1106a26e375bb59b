package dev.quantforge.compile;

import dev.quantforge.compile.TrtexecFailedException.Kind;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failure classification on error lines as TensorRT prints them (quoted from public TensorRT and
 * onnx-tensorrt issue reports, and from trtexec.cpp for the unknown-option line).
 */
class TrtexecFailedExceptionTest {

    @Test
    void namesTheUnsupportedOperator() {
        TrtexecFailedException e = classify(
                "While parsing node number 2 [Mish -> \"001_convolutional_mish\"]:",
                "ERROR: /home/ashing/onnx-tensorrt/ModelImporter.cpp:134 In function parseGraph:",
                "[8] No importer registered for op: Mish",
                "[E] Failed to parse onnx file");
        assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED_OPERATOR);
        assertThat(e.detail()).isEqualTo("Mish");
        assertThat(e.getMessage()).startsWith("trtexec failed (exit code 1) building the engine: TensorRT's ONNX parser "
                + "cannot import op 'Mish' and no plugin provides it. Replace that op");
        // TensorRT 10 falls back to a plugin and fails there
        TrtexecFailedException plugin = classify(
                "[E] [TRT] ModelImporter.cpp:949: While parsing node number 135 [DCNv2 -> \"538\"]:",
                "[E] [TRT] ModelImporter.cpp:951: ERROR: onnxOpCheckers.cpp:780 In function checkFallbackPluginImporter:",
                "[6] creator && \"Plugin not found, are the plugin name, version, and namespace correct?\"");
        assertThat(plugin.kind()).isEqualTo(Kind.UNSUPPORTED_OPERATOR);
        assertThat(plugin.detail()).isEqualTo("DCNv2");
    }

    @Test
    void saysToRaiseTheWorkspaceWhenNoKernelFits() {
        TrtexecFailedException e = classify(
                "[TensorRT] ERROR: ../builder/tacticOptimizer.cpp (1715) - TRTInternal Error in computeCosts: 0 (Could not find "
                        + "any implementation for node 2-layer MLP: (Unnamed Layer* 8) [Fully Connected] + (Unnamed Layer* 9) "
                        + "[Activation] -> (Unnamed Layer* 10) [Fully Connected].)");
        assertThat(e.kind()).isEqualTo(Kind.WORKSPACE_TOO_SMALL);
        assertThat(e.detail()).isEqualTo("2-layer MLP: (Unnamed Layer* 8) [Fully Connected] + (Unnamed Layer* 9) [Activation] "
                + "-> (Unnamed Layer* 10) [Fully Connected]");
        assertThat(e.getMessage()).contains("within the workspace limit (512 MiB). Raise workspaceMiB");
        TrtexecFailedException old = classify("[08/18/2020-19:07:36] [E] [TRT] Internal error: could not find any implementation "
                + "for node 9_full_with_bias, try increasing the workspace size with IBuilder::setMaxWorkspaceSize()");
        assertThat(old.kind()).isEqualTo(Kind.WORKSPACE_TOO_SMALL);
        assertThat(old.detail()).isEqualTo("9_full_with_bias");
    }

    @Test
    void namesTheDynamicInputWithoutShapes() {
        TrtexecFailedException named = classify("[E] Error[4]: [network.cpp::validate::3451] Error Code 4: Internal Error "
                + "(input_image: dynamic input is missing dimensions in profile 0.)");
        assertThat(named.kind()).isEqualTo(Kind.DYNAMIC_SHAPES_MISSING);
        assertThat(named.detail()).isEqualTo("input_image");
        assertThat(named.getMessage()).contains("input 'input_image' has dynamic dimensions but no optimization profile. "
                + "Give shapes.input_image {min, opt, max}");
        TrtexecFailedException unnamed = classify(
                "[09/07/2021-15:54:19] [E] [TRT] Network has dynamic or shape inputs, but no optimization profile has been defined.",
                "[09/07/2021-15:54:19] [E] [TRT] Network validation failed.");
        assertThat(unnamed.kind()).isEqualTo(Kind.DYNAMIC_SHAPES_MISSING);
        assertThat(unnamed.detail()).isNull();
    }

    @Test
    void saysWeakTypingIsGoneWhenTrtexecRefusesTheFlag() {
        TrtexecFailedException e = classify("[02/03/2026-10:00:00] [E] Unknown option: --int8 ");
        assertThat(e.kind()).isEqualTo(Kind.WEAK_TYPING_REMOVED);
        assertThat(e.detail()).isEqualTo("--int8");
        assertThat(e.getMessage()).contains("Use precision strongly_typed with a QDQ model");
    }

    @Test
    void classifiesMemoryEngineShapeAndGpuFailures() {
        assertThat(classify("[E] 2: [virtualMemoryBuffer.cpp::resizePhysical::145] Error Code 2: OutOfMemory (no further information)")
                .kind()).isEqualTo(Kind.OUT_OF_GPU_MEMORY);
        assertThat(classify("[E] Error[6]: [runtime.cpp::deserializeCudaEngine::66] Error Code 6: API Usage Error (The engine plan "
                + "file is not compatible with this version of TensorRT, expecting library version 10.9.0.34 got 10.3.0.26, please rebuild.)")
                .kind()).isEqualTo(Kind.ENGINE_INCOMPATIBLE);
        assertThat(classify("[E] Error[3]: [executionContext.cpp::setInputShape::2013] Error Code 3: API Usage Error (Parameter check "
                + "failed, condition: engineDims.d[i] == dims.d[i]. Supplied binding dimension [16,3,224,224] for bindings[0] exceed "
                + "min ~ max range at index 0, maximum dimension in profile is 8, minimum dimension in profile is 1, but supplied dimension is 16.)")
                .kind()).isEqualTo(Kind.SHAPE_OUTSIDE_PROFILE);
        assertThat(classify("[E] Cuda failure: no CUDA-capable device is detected").kind()).isEqualTo(Kind.NO_GPU);
        assertThat(classify("[E] [TRT] ModelImporter.cpp:773: Failed to parse ONNX model from file: x.onnx").kind())
                .isEqualTo(Kind.ONNX_PARSE_FAILED);
        TrtexecFailedException other = classify("[E] something new");
        assertThat(other.kind()).isEqualTo(Kind.OTHER);
        assertThat(other.getMessage()).isEqualTo("trtexec failed (exit code 1) building the engine: see trtexec's output.\n"
                + "Last lines of trtexec's output:\n[E] something new");
    }

    @Test
    void quotesOnlyTheLastLines() {
        List<String> output = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            output.add("line " + i);
        }
        TrtexecFailedException e = TrtexecFailedException.classify("building the engine", 1, output, null);
        assertThat(e.outputTail()).hasSize(TrtexecFailedException.TAIL_LINES).startsWith("line 75").endsWith("line 99");
        assertThat(e.getMessage()).doesNotContain("line 74\n").contains("line 75\n");
    }

    private static TrtexecFailedException classify(String... lines) {
        return TrtexecFailedException.classify("building the engine", 1, List.of(lines), 512);
    }
}
