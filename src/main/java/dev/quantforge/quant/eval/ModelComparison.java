package dev.quantforge.quant.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.BatchChecks;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;

/**
 * Runs a reference (FP32) and a candidate (quantized) model on the same samples and compares them the way the
 * model's {@link Task} calls for:
 * <ul>
 *   <li>every task: the error of every output — SQNR (dB) and mean per-sample cosine, per output and over all;</li>
 *   <li>classification: top-1 of each against labels (when the data has them), argmax agreement, softmax KL;</li>
 *   <li>embedding: the cosine of the mean-pooled embeddings (pooled over the tokens the attention mask keeps), and
 *       nearest-neighbour agreement — for each sample, is its nearest other sample the same under the candidate
 *       as under FP32 — the retrieval-level number.</li>
 * </ul>
 * A metric that does not apply to the task is null (absent in results), never 0.
 */
public final class ModelComparison {

    /** Samples kept for nearest-neighbour agreement (pooled vectors held in memory: N × hidden floats). */
    public static final int MAX_NEIGHBOUR_SAMPLES = 10_000;

    /**
     * @param top1Reference null when the data has no labels or the task is not classification
     * @param agreement     argmax agreement (classification only)
     * @param sqnrDb        10·log10(Σ ref² / Σ (ref − cand)²) over every element of every output; capped at 200
     * @param cosine        mean over samples of the cosine similarity of the samples' output vectors (all outputs)
     * @param klDivergence  mean KL(softmax(ref) ‖ softmax(cand)) of the first output (classification only)
     * @param mse           mean squared error per output element
     * @param outputs       the same per output
     */
    public record Result(Task task, long samples, Double top1Reference, Double top1Candidate, Double agreement, double sqnrDb,
                         double cosine, Double klDivergence, double mse, Double pooledCosine, Double nearestNeighbourAgreement,
                         List<OutputScore> outputs) {

        public Result {
            outputs = outputs == null ? List.of() : List.copyOf(outputs);
        }

        /** A classification comparison (as stored by earlier versions: first output only). */
        public Result(long samples, Double top1Reference, Double top1Candidate, double agreement, double sqnrDb, double cosine,
                      double klDivergence, double mse) {
            this(Task.CLASSIFICATION, samples, top1Reference, top1Candidate, agreement, sqnrDb, cosine, klDivergence, mse, null, null,
                    List.of());
        }

        /**
         * The one number "how close to FP32" for this task, larger is better: top-1 with labels, else agreement
         * (classification); pooled cosine (embedding); output SQNR scaled to a fraction otherwise.
         */
        public double closeness() {
            return switch (task) {
                case CLASSIFICATION -> top1Candidate != null ? top1Candidate : agreement == null ? 0 : agreement;
                case EMBEDDING -> pooledCosine != null ? pooledCosine : cosine;
                case DETECTION, GENERIC -> Math.min(1, Math.max(0, sqnrDb / 200));
            };
        }
    }

    /** The error of one output. */
    public record OutputScore(String name, double sqnrDb, double cosine) {
    }

    /**
     * @param task null: inferred from the models and the data ({@link Task#infer})
     */
    public Result compare(OrtModel reference, OrtModel candidate, SampleSource data, Map<String, String> binding, int batchSize,
                          long maxSamples, Task task, Progress progress) {
        Task t = task != null ? task : Task.infer(reference.inputs(), reference.outputs(), data.hasLabels());
        long total = Math.min(maxSamples, data.sampleCount());
        int batch = Math.min(effective(reference, batchSize), effective(candidate, batchSize));
        MultiOutputTally tally = new MultiOutputTally(t, maskTensor(binding), tokenTensor(reference, binding));
        try (SampleSource.BatchIterator batches = data.batches(batch, total)) {
            while (batches.hasNext()) {
                Batch b = batches.next();
                BatchChecks.requireFiniteInputs(b);
                Map<String, float[][]> ref = reference.runAll(b, binding);
                if (t == Task.CLASSIFICATION && !ref.isEmpty()) {
                    float[][] first = ref.values().iterator().next();
                    BatchChecks.requireLabelsBelow(b, first.length == 0 ? 0 : first[0].length);
                }
                tally.add(b, ref, candidate.runAll(b, binding));
                progress.update(total == 0 ? 1.0 : (double) tally.samples() / total, "evaluate", tally.samples() + "/" + total + " samples");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the evaluation dataset", e);
        }
        return tally.result(data.hasLabels());
    }

    /** Classification-style comparison with the task inferred (kept for callers that compare classifiers). */
    public Result compare(OrtModel reference, OrtModel candidate, SampleSource data, Map<String, String> binding, int batchSize,
                          long maxSamples, Progress progress) {
        return compare(reference, candidate, data, binding, batchSize, maxSamples, null, progress);
    }

    private static String maskTensor(Map<String, String> binding) {
        return binding.entrySet().stream().filter(e -> e.getKey().toLowerCase(java.util.Locale.ROOT).contains("attention_mask"))
                .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    private static String tokenTensor(OrtModel model, Map<String, String> binding) {
        return model.inputs().stream().filter(i -> i.elementType().isInteger() && i.shape().size() == 2)
                .map(i -> binding.get(i.name())).filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    /**
     * The running totals of a comparison of first outputs, for callers that produce the two outputs themselves (the
     * TensorRT engine evaluation runs its candidate in another process): classification metrics.
     */
    public static final class Tally {
        private final MultiOutputTally tally = new MultiOutputTally(Task.CLASSIFICATION, null, null);

        /** Scores one batch: rows of the reference's and the candidate's first output, one per sample. */
        public void add(Batch b, float[][] ref, float[][] cand) {
            tally.add(b, Map.of("output", ref), Map.of("output", cand));
        }

        public long samples() {
            return tally.samples();
        }

        /** @param labels whether the data has labels (top-1 is null without) */
        public Result result(boolean labels) {
            return tally.result(labels);
        }
    }

    /** Totals over every output; the task decides which metrics it keeps. */
    private static final class MultiOutputTally {
        private final Task task;
        private final String maskTensor;
        private final String tokenTensor;
        private final Map<String, double[]> perOutput = new LinkedHashMap<>(); // signal, noise, cosine sum, elements
        private final List<float[]> pooledRef = new ArrayList<>();
        private final List<float[]> pooledCand = new ArrayList<>();
        private long samples;
        private long correctRef;
        private long correctCand;
        private long agreeing;
        private double cosineSum;
        private double klSum;
        private double pooledCosineSum;

        MultiOutputTally(Task task, String maskTensor, String tokenTensor) {
            this.task = task;
            this.maskTensor = maskTensor;
            this.tokenTensor = tokenTensor;
        }

        long samples() {
            return samples;
        }

        void add(Batch b, Map<String, float[][]> ref, Map<String, float[][]> cand) {
            if (ref.isEmpty()) {
                throw new dev.quantforge.quant.InvalidInputException("the model has no numeric tensor output to compare");
            }
            String first = ref.keySet().iterator().next();
            long[][] mask = task == Task.EMBEDDING ? tokens(b, maskTensor != null ? maskTensor : tokenTensor) : null;
            for (int i = 0; i < b.size(); i++) {
                double dot = 0;
                double nr = 0;
                double nc = 0;
                for (Map.Entry<String, float[][]> e : ref.entrySet()) {
                    float[] r = e.getValue()[i];
                    float[][] cRows = cand.get(e.getKey());
                    if (cRows == null) {
                        throw new IllegalArgumentException("the candidate has no output '" + e.getKey() + "'");
                    }
                    float[] c = cRows[i];
                    if (r.length != c.length) {
                        throw new IllegalArgumentException("the candidate's output '" + e.getKey() + "' has " + c.length
                                + " values per sample but the reference's has " + r.length);
                    }
                    double[] s = perOutput.computeIfAbsent(e.getKey(), k -> new double[4]);
                    double od = 0;
                    double onr = 0;
                    double onc = 0;
                    for (int k = 0; k < r.length; k++) {
                        double x = r[k];
                        double y = c[k];
                        s[0] += x * x;
                        s[1] += (x - y) * (x - y);
                        od += x * y;
                        onr += x * x;
                        onc += y * y;
                    }
                    s[2] += cosine(od, onr, onc);
                    s[3] += r.length;
                    dot += od;
                    nr += onr;
                    nc += onc;
                }
                cosineSum += cosine(dot, nr, nc);
                float[] r0 = ref.get(first)[i];
                float[] c0 = cand.get(first)[i];
                if (task == Task.CLASSIFICATION) {
                    int pr = Evaluator.argmax(r0);
                    int pc = Evaluator.argmax(c0);
                    agreeing += pr == pc ? 1 : 0;
                    if (b.hasLabels()) {
                        correctRef += pr == b.labels()[i] ? 1 : 0;
                        correctCand += pc == b.labels()[i] ? 1 : 0;
                    }
                    klSum += klOfSoftmax(r0, c0);
                } else if (task == Task.EMBEDDING) {
                    float[] pr = pool(r0, mask == null ? null : mask[i]);
                    float[] pc = pool(c0, mask == null ? null : mask[i]);
                    pooledCosineSum += cosine(pr, pc);
                    if (pooledRef.size() < MAX_NEIGHBOUR_SAMPLES) {
                        pooledRef.add(normalized(pr));
                        pooledCand.add(normalized(pc));
                    }
                }
            }
            samples += b.size();
        }

        Result result(boolean labels) {
            double signal = 0;
            double noise = 0;
            long elements = 0;
            List<OutputScore> outputs = new ArrayList<>();
            for (Map.Entry<String, double[]> e : perOutput.entrySet()) {
                double[] s = e.getValue();
                signal += s[0];
                noise += s[1];
                elements += (long) s[3];
                outputs.add(new OutputScore(e.getKey(), sqnrDb(s[0], s[1]), samples == 0 ? 0 : s[2] / samples));
            }
            boolean classification = task == Task.CLASSIFICATION;
            boolean top1 = classification && labels && samples > 0;
            boolean embedding = task == Task.EMBEDDING && samples > 0;
            return new Result(task, samples,
                    top1 ? (double) correctRef / samples : null,
                    top1 ? (double) correctCand / samples : null,
                    classification ? (samples == 0 ? 0 : (double) agreeing / samples) : null,
                    sqnrDb(signal, noise),
                    samples == 0 ? 0 : cosineSum / samples,
                    classification ? (samples == 0 ? 0 : klSum / samples) : null,
                    elements == 0 ? 0 : noise / elements,
                    embedding ? pooledCosineSum / samples : null,
                    embedding && pooledRef.size() > 1 ? neighbourAgreement(pooledRef, pooledCand) : null,
                    outputs);
        }

        /** The token mask of the batch ([N][seq], 1 = a real token), or null when the batch has none. */
        private static long[][] tokens(Batch b, String tensor) {
            NdArray a = tensor == null ? null : b.tensors().get(tensor);
            if (a == null || a.shape().length != 2) {
                return null;
            }
            long[] flat = a.toLongArray();
            int seq = (int) a.shape()[1];
            long[][] out = new long[b.size()][seq];
            for (int i = 0; i < b.size(); i++) {
                for (int j = 0; j < seq; j++) {
                    out[i][j] = flat[i * seq + j] != 0 ? 1 : 0;
                }
            }
            return out;
        }
    }

    /**
     * The mean over tokens of a [seq, hidden] row (the tokens the mask keeps); a row that is not a whole number of
     * tokens is already one vector.
     */
    static float[] pool(float[] row, long[] mask) {
        if (mask == null || mask.length == 0 || row.length % mask.length != 0 || row.length == mask.length) {
            return row;
        }
        int seq = mask.length;
        int hidden = row.length / seq;
        float[] out = new float[hidden];
        long kept = 0;
        for (int t = 0; t < seq; t++) {
            if (mask[t] == 0) {
                continue;
            }
            kept++;
            for (int h = 0; h < hidden; h++) {
                out[h] += row[t * hidden + h];
            }
        }
        if (kept > 0) {
            for (int h = 0; h < hidden; h++) {
                out[h] /= kept;
            }
        }
        return out;
    }

    /** Fraction of samples whose nearest other sample (cosine) under the candidate is the one under the reference. */
    static double neighbourAgreement(List<float[]> ref, List<float[]> cand) {
        int n = ref.size();
        int same = 0;
        for (int i = 0; i < n; i++) {
            same += nearest(ref, i) == nearest(cand, i) ? 1 : 0;
        }
        return (double) same / n;
    }

    private static int nearest(List<float[]> unitVectors, int i) {
        float[] v = unitVectors.get(i);
        int best = -1;
        double bestDot = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < unitVectors.size(); j++) {
            if (j == i) {
                continue;
            }
            float[] w = unitVectors.get(j);
            double d = 0;
            for (int k = 0; k < v.length; k++) {
                d += v[k] * w[k];
            }
            if (d > bestDot) {
                bestDot = d;
                best = j;
            }
        }
        return best;
    }

    private static float[] normalized(float[] v) {
        double n = 0;
        for (float x : v) {
            n += x * x;
        }
        float[] out = v.clone();
        if (n > 0) {
            double inv = 1 / Math.sqrt(n);
            for (int k = 0; k < out.length; k++) {
                out[k] *= (float) inv;
            }
        }
        return out;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int k = 0; k < a.length; k++) {
            dot += a[k] * b[k];
            na += a[k] * a[k];
            nb += b[k] * b[k];
        }
        return cosine(dot, na, nb);
    }

    private static double cosine(double dot, double na, double nb) {
        return na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.sqrt(na * nb);
    }

    /** KL(softmax(p) ‖ softmax(q)) in nats, computed stably from logits. */
    static double klOfSoftmax(float[] p, float[] q) {
        double maxP = Double.NEGATIVE_INFINITY;
        double maxQ = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < p.length; k++) {
            maxP = Math.max(maxP, p[k]);
            maxQ = Math.max(maxQ, q[k]);
        }
        double sumP = 0;
        double sumQ = 0;
        for (int k = 0; k < p.length; k++) {
            sumP += Math.exp(p[k] - maxP);
            sumQ += Math.exp(q[k] - maxQ);
        }
        double logZp = maxP + Math.log(sumP);
        double logZq = maxQ + Math.log(sumQ);
        double kl = 0;
        for (int k = 0; k < p.length; k++) {
            double logPp = p[k] - logZp;
            double logPq = q[k] - logZq;
            kl += Math.exp(logPp) * (logPp - logPq);
        }
        return Math.max(0, kl);
    }

    /** SQNR in dB; capped at 200 dB when the outputs are identical (JSON has no infinity). */
    public static double sqnrDb(double signal, double noise) {
        if (noise <= 0) {
            return 200.0;
        }
        if (signal <= 0) {
            return -200.0;
        }
        return Math.min(200.0, 10 * Math.log10(signal / noise));
    }

    private static int effective(OrtModel model, int requested) {
        return model.hasDynamicBatch() ? requested : Math.toIntExact(model.fixedBatchSize().orElse(1));
    }
}
