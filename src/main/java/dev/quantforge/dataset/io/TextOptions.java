package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the sentences of a text dataset become model inputs (the upload's {@code text} part). Truncation is
 * always on and every sentence is padded to {@code maxLength}, so every batch has the same shape; lower-casing,
 * accent stripping and special tokens are what the tokenizer.json itself says.
 *
 * @param maxLength  tokens per sample, special tokens included
 * @param inputNames dataset tensor name for each of {@link #TENSORS} (default: the same names); a model whose
 *                   inputs are called otherwise ({@code input_mask}, {@code segment_ids}, {@code input_ids:0})
 *                   binds after renaming them here
 */
public record TextOptions(int maxLength, Map<String, String> inputNames) {

    public static final String INPUT_IDS = "input_ids";
    public static final String ATTENTION_MASK = "attention_mask";
    public static final String TOKEN_TYPE_IDS = "token_type_ids";
    /** The tensors of every text dataset, in this order. */
    public static final List<String> TENSORS = List.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS);

    public static final int DEFAULT_MAX_LENGTH = 128;
    public static final int MAX_MAX_LENGTH = 8192;
    private static final int MAX_NAME_LENGTH = 256;

    private static final List<String> KEYS = List.of("maxLength", "inputNames");

    public static final TextOptions DEFAULT = new TextOptions(DEFAULT_MAX_LENGTH, null);

    public TextOptions {
        Map<String, String> names = new LinkedHashMap<>();
        for (String tensor : TENSORS) {
            String renamed = inputNames == null ? null : inputNames.get(tensor);
            names.put(tensor, renamed == null ? tensor : renamed);
        }
        inputNames = java.util.Collections.unmodifiableMap(names);
    }

    /** The dataset tensor that carries {@code tensor} (one of {@link #TENSORS}). */
    public String nameOf(String tensor) {
        return inputNames.get(tensor);
    }

    /** Parses the JSON object of the API (already parsed into maps, numbers, strings); null means defaults. */
    public static TextOptions fromMap(Map<String, Object> map) {
        if (map == null) {
            return DEFAULT;
        }
        for (String key : map.keySet()) {
            if (!KEYS.contains(key)) {
                throw invalid("unknown key '" + key + "'; allowed are " + String.join(", ", KEYS)
                        + " (lower-casing, accents and special tokens come from the tokenizer.json; truncation is always on and"
                        + " every sentence is padded to maxLength)");
            }
        }
        int maxLength = DEFAULT_MAX_LENGTH;
        Object m = map.get("maxLength");
        if (m != null) {
            if (!(m instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
                throw invalid("'maxLength' must be an integer, got " + describe(m));
            }
            if (n.doubleValue() < 1 || n.doubleValue() > MAX_MAX_LENGTH) {
                throw invalid("'maxLength' must be between 1 and " + MAX_MAX_LENGTH + ", got " + n);
            }
            maxLength = n.intValue();
        }
        Map<String, String> names = new LinkedHashMap<>();
        Object in = map.get("inputNames");
        if (in != null) {
            if (!(in instanceof Map<?, ?> given)) {
                throw invalid("'inputNames' must be an object such as {\"attention_mask\":\"input_mask\"}, got " + describe(in));
            }
            for (Map.Entry<?, ?> e : given.entrySet()) {
                String tensor = String.valueOf(e.getKey());
                if (!TENSORS.contains(tensor)) {
                    throw invalid("'inputNames' has the key '" + tensor + "'; its keys are the dataset's tensors " + String.join(", ", TENSORS));
                }
                if (!(e.getValue() instanceof String name) || name.isBlank() || name.length() > MAX_NAME_LENGTH) {
                    throw invalid("'inputNames." + tensor + "' must be a model input name (1-" + MAX_NAME_LENGTH + " characters), got "
                            + describe(e.getValue()));
                }
                names.put(tensor, name);
            }
        }
        TextOptions options = new TextOptions(maxLength, names);
        Set<String> seen = new HashSet<>();
        for (String name : options.inputNames().values()) {
            if (!seen.add(name)) {
                throw invalid("'inputNames' gives two tensors the name '" + name + "'; each needs its own");
            }
        }
        return options;
    }

    /** The JSON object form, every field explicit (the canonical form that identifies the dataset). */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("maxLength", maxLength);
        map.put("inputNames", new LinkedHashMap<>(inputNames));
        return map;
    }

    private static String describe(Object value) {
        return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
    }

    private static InvalidInputException invalid(String message) {
        return new InvalidInputException("invalid text options: " + message);
    }
}
