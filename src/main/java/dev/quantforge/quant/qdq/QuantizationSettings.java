package dev.quantforge.quant.qdq;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import dev.quantforge.quant.InvalidInputException;

/**
 * What the QDQ engine quantizes and how.
 *
 * <p>Exclusion patterns are regular expressions matched (whole-name, {@link java.util.regex.Matcher#matches()})
 * against node names. A shell-style glob such as {@code blocks.3.*} also works as written, because as a
 * regex it means "blocks", any char, "3", any char, then anything — which matches every name the glob
 * matches (the dots match literal dots too). A pattern that is not a valid regex is treated as a glob
 * ({@code *} → {@code .*}, {@code ?} → {@code .}, everything else literal).
 *
 * @param weightsPerChannel   one weight scale per output channel (true) or one per tensor
 * @param activationType      {@link ActivationType#INT8_SYMMETRIC} (TensorRT) or
 *                            {@link ActivationType#UINT8_ASYMMETRIC} (ONNX Runtime CPU)
 * @param quantizeResidualAdd quantize both inputs of an Add whose two inputs are activations
 * @param excludeNodes        node names (exact) kept float
 * @param excludeOpTypes      op types kept float
 * @param excludePatterns     regexes (or globs) over node names kept float
 * @param reduceRangeWeights  7-bit weights ([-64, 64] instead of [-127, 127]). ONNX Runtime's u8s8 kernels on
 *                            x86 without VNNI (AVX2, AVX-512F) multiply-add pairs with VPMADDUBSW, which saturates
 *                            at int16 when 255 × 127 × 2 overflows; reducing the weight range avoids it (ORT's
 *                            own {@code reduce_range}). Measured on an AVX2 host: Tribuo CNN uint8 0.979 → see tests.
 *                            Not needed for TensorRT or VNNI CPUs.
 * @param quantizeNormalizationInputs quantize Adds whose sum goes straight into Softmax or a layer normalization (a
 *                            transformer's residual and attention-mask Adds): off by default, since their ranges are wide
 *                            (a -10000 mask, residual streams up to hundreds) and the normalization undoes nothing of the error
 */
public record QuantizationSettings(boolean weightsPerChannel, ActivationType activationType, boolean quantizeResidualAdd,
                                   Set<String> excludeNodes, Set<String> excludeOpTypes, List<String> excludePatterns,
                                   boolean reduceRangeWeights, boolean quantizeNormalizationInputs) {

    /** Activation quantization scheme; weights are always symmetric int8. */
    public enum ActivationType {
        /** int8, zero point 0, scale = amax / 127: TensorRT explicit quantization. Bias stays float. */
        INT8_SYMMETRIC,
        /** uint8, scale = (max - min) / 255 over a range that contains 0: ONNX Runtime CPU kernels. Bias int32. */
        UINT8_ASYMMETRIC
    }

    /** Without reduced-range weights. */
    public QuantizationSettings(boolean weightsPerChannel, ActivationType activationType, boolean quantizeResidualAdd,
                                Set<String> excludeNodes, Set<String> excludeOpTypes, List<String> excludePatterns) {
        this(weightsPerChannel, activationType, quantizeResidualAdd, excludeNodes, excludeOpTypes, excludePatterns, false, false);
    }

    public QuantizationSettings(boolean weightsPerChannel, ActivationType activationType, boolean quantizeResidualAdd,
                                Set<String> excludeNodes, Set<String> excludeOpTypes, List<String> excludePatterns, boolean reduceRangeWeights) {
        this(weightsPerChannel, activationType, quantizeResidualAdd, excludeNodes, excludeOpTypes, excludePatterns, reduceRangeWeights, false);
    }

    public QuantizationSettings {
        if (activationType == null) {
            throw new IllegalArgumentException("activationType is required");
        }
        excludeNodes = excludeNodes == null ? Set.of() : Set.copyOf(excludeNodes);
        excludeOpTypes = excludeOpTypes == null ? Set.of() : Set.copyOf(excludeOpTypes);
        excludePatterns = excludePatterns == null ? List.of() : List.copyOf(excludePatterns);
        for (String p : excludePatterns) {
            compile(p); // fail early on nothing: every string compiles one way or the other
        }
    }

    /** Per-channel weights, the given activation type, residual Adds quantized, nothing excluded. */
    public static QuantizationSettings defaults(ActivationType activationType) {
        return new QuantizationSettings(true, activationType, true, Set.of(), Set.of(), List.of());
    }

    public QuantizationSettings withWeightsPerChannel(boolean perChannel) {
        return new QuantizationSettings(perChannel, activationType, quantizeResidualAdd, excludeNodes, excludeOpTypes, excludePatterns, reduceRangeWeights, quantizeNormalizationInputs);
    }

    public QuantizationSettings withQuantizeResidualAdd(boolean quantize) {
        return new QuantizationSettings(weightsPerChannel, activationType, quantize, excludeNodes, excludeOpTypes, excludePatterns, reduceRangeWeights, quantizeNormalizationInputs);
    }

    public QuantizationSettings withExcludes(Set<String> nodes, Set<String> opTypes, List<String> patterns) {
        return new QuantizationSettings(weightsPerChannel, activationType, quantizeResidualAdd, nodes, opTypes, patterns, reduceRangeWeights, quantizeNormalizationInputs);
    }

    public QuantizationSettings withReduceRangeWeights(boolean reduce) {
        return new QuantizationSettings(weightsPerChannel, activationType, quantizeResidualAdd, excludeNodes, excludeOpTypes, excludePatterns, reduce, quantizeNormalizationInputs);
    }

    /**
     * A pattern as a regex. A shell glob that is not a regex ({@code *conv*}: names, '.', '/', ':', '-', '*', '?' only) is
     * read as a glob; anything else that does not compile is refused, so that a typo never silently excludes nothing.
     *
     * @throws InvalidInputException naming the pattern and the regex error
     */
    public static Pattern compile(String pattern) {
        try {
            return Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            if (!pattern.matches("[\\w./:\\-*?]+")) {
                throw new InvalidInputException("'" + pattern + "' is not a valid regular expression (" + e.getDescription()
                        + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "") + "); write a regex matching whole node names"
                        + " such as 'layer3\\..*' or a glob such as 'layer3*'");
            }
            StringBuilder regex = new StringBuilder();
            for (char c : pattern.toCharArray()) {
                switch (c) {
                    case '*' -> regex.append(".*");
                    case '?' -> regex.append('.');
                    default -> regex.append(Pattern.quote(String.valueOf(c)));
                }
            }
            return Pattern.compile(regex.toString());
        }
    }
}
