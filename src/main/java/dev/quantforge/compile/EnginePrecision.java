package dev.quantforge.compile;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A data type as TensorRT reports it in an engine's layer info: in a tensor's
 * {@code Format/Datatype} ("Thirty-two wide channel vectorized row major Int8 format", "Row major
 * linear FP32", or the bare "Half" / "Float" of Myelin layers), in {@code Weights.Type} ("Int8",
 * "Float", "Half"), or as a marker in a kernel (tactic) name. API names are lower case ("int8").
 */
public enum EnginePrecision {
    INT4, INT8, FP8, FP4, FP16, BF16, FP32, INT32, INT64, UINT8, BOOL, UNKNOWN;

    // Word boundaries matter: "UInt8" must not read as Int8, "BFloat16" not as Float.
    private static final Pattern UINT8_NAME = word("uint8");
    private static final Pattern INT8_NAME = word("int8");
    private static final Pattern INT4_NAME = word("int4");
    private static final Pattern FP8_NAME = word("fp8");
    private static final Pattern FP4_NAME = word("fp4");
    private static final Pattern BF16_NAME = Pattern.compile("\\b(bfloat16|bf16)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern FP16_NAME = Pattern.compile("\\b(fp16|half)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern FP32_NAME = Pattern.compile("\\b(fp32|float)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern INT32_NAME = word("int32");
    private static final Pattern INT64_NAME = word("int64");
    private static final Pattern BOOL_NAME = word("bool");

    /*
     * Kernel-name markers. Integer tensor-core and IMMA kernels: "i8i8" (A and B operands int8), "i8f32"
     * (int8 in, fp32 out), "i8816" (int8 mma 8x8x16), "int8x4", "imma", "_int8_". Half kernels: "h884",
     * "h1688", "hmma", "f16f16". Single: "sgemm", "scudnn", "f32f32", "tf32". A kernel name can carry an
     * output type too ("turing_fp16_i8816cudnn_int8": int8 math, fp16 output), so int8 markers win.
     */
    private static final Pattern TACTIC_INT8 = Pattern.compile("(i8i8|i8f32|i8f16|i8816|int8|imma)", Pattern.CASE_INSENSITIVE);
    private static final Pattern TACTIC_FP16 = Pattern.compile("(h884|h1688|hmma|f16f16|fp16|half)", Pattern.CASE_INSENSITIVE);
    private static final Pattern TACTIC_FP32 = Pattern.compile("(sgemm|scudnn|f32f32|tf32|fp32)", Pattern.CASE_INSENSITIVE);

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isFloatingPoint() {
        return this == FP8 || this == FP4 || this == FP16 || this == BF16 || this == FP32;
    }

    /** Quantized integer (and 8/4-bit float) types: what explicit quantization asks for. */
    public boolean isQuantized() {
        return this == INT8 || this == INT4 || this == FP8 || this == FP4;
    }

    /** The type named in a {@code Format/Datatype} string or a {@code Weights.Type}; UNKNOWN when none is. */
    public static EnginePrecision fromFormat(String formatOrType) {
        if (formatOrType == null || formatOrType.isBlank()) {
            return UNKNOWN;
        }
        String s = formatOrType.replace('.', ' ');
        if (UINT8_NAME.matcher(s).find()) {
            return UINT8;
        }
        if (INT8_NAME.matcher(s).find()) {
            return INT8;
        }
        if (INT4_NAME.matcher(s).find()) {
            return INT4;
        }
        if (FP8_NAME.matcher(s).find()) {
            return FP8;
        }
        if (FP4_NAME.matcher(s).find()) {
            return FP4;
        }
        if (BF16_NAME.matcher(s).find()) {
            return BF16;
        }
        if (FP16_NAME.matcher(s).find()) {
            return FP16;
        }
        if (FP32_NAME.matcher(s).find()) {
            return FP32;
        }
        if (INT32_NAME.matcher(s).find()) {
            return INT32;
        }
        if (INT64_NAME.matcher(s).find()) {
            return INT64;
        }
        if (BOOL_NAME.matcher(s).find()) {
            return BOOL;
        }
        return UNKNOWN;
    }

    /** The math precision a kernel name points to; UNKNOWN for names without a marker (many are hashes). */
    public static EnginePrecision fromTacticName(String tacticName) {
        if (tacticName == null || tacticName.isBlank()) {
            return UNKNOWN;
        }
        if (TACTIC_INT8.matcher(tacticName).find()) {
            return INT8;
        }
        if (TACTIC_FP16.matcher(tacticName).find()) {
            return FP16;
        }
        if (TACTIC_FP32.matcher(tacticName).find()) {
            return FP32;
        }
        return UNKNOWN;
    }

    /** The wider of two float types (FP32 over BF16 over FP16 over 8/4-bit floats). */
    static EnginePrecision widerFloat(EnginePrecision a, EnginePrecision b) {
        return floatRank(a) >= floatRank(b) ? a : b;
    }

    private static int floatRank(EnginePrecision p) {
        return switch (p) {
            case FP32 -> 5;
            case BF16 -> 4;
            case FP16 -> 3;
            case FP8 -> 2;
            case FP4 -> 1;
            default -> 0;
        };
    }

    private static Pattern word(String token) {
        return Pattern.compile("\\b" + token + "\\b", Pattern.CASE_INSENSITIVE);
    }
}
