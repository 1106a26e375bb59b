package dev.quantforge.quant.eval;

import java.util.List;
import java.util.Locale;

import dev.quantforge.quant.data.TensorInfo;

/**
 * What a model's outputs mean, which decides how a quantized model is compared with FP32: a classifier by
 * top-1 (with labels) and argmax agreement; an embedding model by the cosine of mean-pooled embeddings and
 * whether each sample keeps its nearest neighbour; a detector or anything else by the error of every output.
 */
public enum Task {
    CLASSIFICATION, EMBEDDING, DETECTION, GENERIC;

    /**
     * The task when the user names none: token inputs (input_ids, attention_mask) mean an embedding model; several
     * outputs with boxes or scores a detector; one [N, C] output a classifier — unless C equals the input's
     * per-sample size (an autoencoder); labels in the data always mean a classifier.
     */
    public static Task infer(List<TensorInfo> inputs, List<TensorInfo> outputs, boolean labels) {
        if (labels) {
            return CLASSIFICATION;
        }
        boolean tokens = inputs.stream().anyMatch(i -> i.elementType().isInteger()
                && (lower(i.name()).contains("input_ids") || lower(i.name()).contains("attention_mask")));
        if (tokens) {
            return EMBEDDING;
        }
        boolean detectorNames = outputs.stream().map(o -> lower(o.name()))
                .anyMatch(n -> n.contains("box") || n.contains("score") || n.contains("anchor"));
        if (outputs.size() > 1 && detectorNames) {
            return DETECTION;
        }
        if (outputs.size() == 1 && outputs.get(0).shape().size() == 2) {
            long in = inputs.size() == 1 ? perSample(inputs.get(0)) : -1;
            long out = perSample(outputs.get(0));
            return in > 0 && in == out ? GENERIC : CLASSIFICATION;
        }
        return GENERIC;
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** Elements per sample (the first axis is the batch); -1 when a dimension is symbolic. */
    static long perSample(TensorInfo t) {
        long n = 1;
        for (int i = 1; i < t.shape().size(); i++) {
            if (!(t.shape().get(i) instanceof Long d)) {
                return -1;
            }
            n *= d;
        }
        return n;
    }

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
