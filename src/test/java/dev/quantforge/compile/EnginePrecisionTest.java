package dev.quantforge.compile;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class EnginePrecisionTest {

    /** Format strings TensorRT writes (the first five from the fixtures, the rest from TREx's table of real formats). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Row major linear FP32|FP32",
            "Four wide channel vectorized row major Int8 format|INT8",
            "Thirty-two wide channel vectorized row major Int8 format|INT8",
            "Thirty-two wide channel vectorized row major FP16 format|FP16",
            "Two wide channel vectorized row major FP16 format|FP16",
            "Channel major INT8 format where channel % 16 == 0|INT8",
            "Channel major FP16 format where channel % 8 == 0 with 3 spatial dimensions|FP16",
            "Row major linear UInt8 format|UINT8",
            "Row major linear BFloat16 format|BF16",
            "Row major linear FP8 format|FP8",
            "Row major linear Int32|INT32",
            "Row major linear Int64 format|INT64",
            "Row major linear BOOL|BOOL",
            "Half|FP16",
            "Float|FP32",
            "Int8|INT8",
            "Unknown format|UNKNOWN"})
    void readsTheTypeInAFormatOrWeightsType(String format, EnginePrecision expected) {
        assertThat(EnginePrecision.fromFormat(format)).isEqualTo(expected);
    }

    /** Kernel names as TensorRT prints them (fixtures and verbose build logs); int8 markers win over the output type some also carry. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "sm75_xmma_fprop_implicit_gemm_interleaved_i8i8_i8i32_f32_nchw_vect_c_32kcrs_vect_c_32_nchw_vect_c_32_tilesize64x32x64_stage1_warpsize2x1x1_g1_tensor8x8x16_simple_t1r1s1|INT8",
            "volta_int8x4_icudnn_int8x4_128x32_relu_xregs_small_c32_nn_v1|INT8",
            "turing_fp16_i8816cudnn_int8_128x128_ldg16_relu_small_nt_v1|INT8",
            "sm70_xmma_fprop_conv1x1_i8f32_f32_f32_nchw_vect_c_4kcrs_vect_c_4_nchw_simt_small_batch_bias_relu|INT8",
            "sm80_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x128x32_stage4_warpsize2x2x1_tensor16x8x16|FP16",
            "sm80_xmma_gemm_f32f32_tf32f32_f32_tn_n_tilesize32x32x64|FP32",
            "0x4e4e6b8f37d71713|UNKNOWN"})
    void readsTheMathPrecisionOfAKernelName(String tactic, EnginePrecision expected) {
        assertThat(EnginePrecision.fromTacticName(tactic)).isEqualTo(expected);
    }
}
