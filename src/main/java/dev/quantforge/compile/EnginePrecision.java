package dev.quantforge.compile;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A data type as TensorRT reports it in an engine's layer info: in a tensor's
 * {@code Format/Datatype} ("Thirty-two wide channel vectorized row major Int8 format", "Row major
 * linear FP32", or the bare "Half" / "Float" of Myelin layers), in {@code Weights.Type} ("Int8",
 * "Float", "Half"), or as a marker in a kernel (tactic) name. API names are lower case ("int8").
 */
public enum EnginePrecision {
    INT4, INT8, FP8, FP4, FP16, BF16, FP32, INT32, INT64, UINT8, BOOL, UNKNOWN;

    /**
     * Type names in the order they are tried. Word boundaries matter: "UInt8" must not read as Int8, "BFloat16"
     * not as Float; so UInt8 comes before Int8 and BF16 before FP16/FP32.
     */
    private static final List<Map.Entry<Pattern, EnginePrecision>> TYPE_NAMES = List.of(
            Map.entry(word("uint8"), UINT8), Map.entry(word("int8"), INT8), Map.entry(word("int4"), INT4),
            Map.entry(word("fp8"), FP8), Map.entry(word("fp4"), FP4), Map.entry(word("bfloat16|bf16"), BF16),
            Map.entry(word("fp16|half"), FP16), Map.entry(word("fp32|float"), FP32), Map.entry(word("int32"), INT32),
            Map.entry(word("int64"), INT64), Map.entry(word("bool"), BOOL));

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
        for (Map.Entry<Pattern, EnginePrecision> name : TYPE_NAMES) {
            if (name.getKey().matcher(s).find()) {
                return name.getValue();
            }
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

    private static Pattern word(String alternatives) {
        return Pattern.compile("\\b(" + alternatives + ")\\b", Pattern.CASE_INSENSITIVE);
    }
}
