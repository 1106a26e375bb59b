package dev.quantforge.quant.search;

/**
 * How a sensitivity analysis probes and scores (the {@code sensitivity} job's own config keys).
 *
 * @param metric      the damage score: top-1 drop (needs labels) or a label-free proxy against the FP32 outputs
 * @param mode        quantize only the probed group, or everything but it
 * @param granularity what one probe is: a node, all nodes of an op type, or a block (a weight's module path)
 */
public record SensitivitySpec(Metric metric, Mode mode, Granularity granularity) {

    public static final SensitivitySpec DEFAULTS = new SensitivitySpec(Metric.AUTO, Mode.ONLY_THIS, Granularity.NODE);

    public SensitivitySpec {
        metric = metric == null ? DEFAULTS.metric : metric;
        mode = mode == null ? DEFAULTS.mode : mode;
        granularity = granularity == null ? DEFAULTS.granularity : granularity;
    }

    /**
     * {@code auto}: KL for classifiers, pooled cosine for embedding models, SQNR otherwise; {@code top1} and {@code kl}
     * apply to classifiers, {@code pooled_cosine} to embedding models.
     */
    public enum Metric { AUTO, TOP1, KL, MSE, COSINE, SQNR, POOLED_COSINE }

    /** The metric used for a model of this task. */
    public Metric metricFor(dev.quantforge.quant.eval.Task task) {
        if (metric != Metric.AUTO) {
            return metric;
        }
        return switch (task) {
            case CLASSIFICATION -> Metric.KL;
            case EMBEDDING -> Metric.POOLED_COSINE;
            case DETECTION, GENERIC -> Metric.SQNR;
        };
    }

    public enum Mode { ONLY_THIS, ALL_BUT_THIS }

    public enum Granularity { NODE, OP_TYPE, BLOCK }

    /** The API name of an enum constant ("only_this"). */
    public static String apiName(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }
}
