package dev.quantforge.quant.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.BatchChecks;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;

/**
 * Runs a reference (FP32) and a candidate (quantized) model on the same samples and compares
 * them: top-1 of each against labels (when the data has labels), argmax agreement, and the
 * output error as SQNR (dB) and mean cosine similarity — label-free measures that work for any
 * model with a numeric first output.
 */
public final class ModelComparison {

    /**
     * @param top1Reference null when the data has no labels
     * @param sqnrDb        10·log10(Σ ref² / Σ (ref − cand)²) over every output element; +∞ when identical
     * @param cosine        mean over samples of the cosine similarity of the two output rows
     */
    public record Result(long samples, Double top1Reference, Double top1Candidate, double agreement, double sqnrDb, double cosine,
                         double klDivergence, double mse) {
    }

    public Result compare(OrtModel reference, OrtModel candidate, SampleSource data, Map<String, String> binding,
                          int batchSize, long maxSamples, Progress progress) {
        long total = Math.min(maxSamples, data.sampleCount());
        int batch = Math.min(effective(reference, batchSize), effective(candidate, batchSize));
        Tally tally = new Tally();
        try (SampleSource.BatchIterator batches = data.batches(batch, total)) {
            while (batches.hasNext()) {
                Batch b = batches.next();
                BatchChecks.requireFiniteInputs(b);
                float[][] ref = reference.run(b, binding);
                BatchChecks.requireLabelsBelow(b, ref.length == 0 ? 0 : ref[0].length);
                tally.add(b, ref, candidate.run(b, binding));
                progress.update(total == 0 ? 1.0 : (double) tally.samples() / total, "evaluate", tally.samples() + "/" + total + " samples");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the evaluation dataset", e);
        }
        return tally.result(data.hasLabels());
    }

    /**
     * The running totals of a comparison, for callers that produce the two outputs themselves (the TensorRT
     * engine evaluation runs its candidate in another process).
     */
    public static final class Tally {
        private long samples;
        private long correctRef;
        private long correctCand;
        private long agreeing;
        private double signal;
        private double noise;
        private double cosineSum;
        private double klSum;
        private long elements;

        /** Scores one batch: rows of the reference's and the candidate's first output, one per sample. */
        public void add(Batch b, float[][] ref, float[][] cand) {
            for (int i = 0; i < b.size(); i++) {
                if (ref[i].length != cand[i].length) {
                    throw new IllegalArgumentException("the candidate's output row has " + cand[i].length
                            + " values but the reference's has " + ref[i].length);
                }
                int pr = Evaluator.argmax(ref[i]);
                int pc = Evaluator.argmax(cand[i]);
                if (pr == pc) {
                    agreeing++;
                }
                if (b.hasLabels()) {
                    if (pr == b.labels()[i]) {
                        correctRef++;
                    }
                    if (pc == b.labels()[i]) {
                        correctCand++;
                    }
                }
                double dot = 0;
                double nr = 0;
                double nc = 0;
                for (int k = 0; k < ref[i].length; k++) {
                    double r = ref[i][k];
                    double c = cand[i][k];
                    signal += r * r;
                    noise += (r - c) * (r - c);
                    dot += r * c;
                    nr += r * r;
                    nc += c * c;
                }
                cosineSum += nr == 0 || nc == 0 ? (nr == nc ? 1 : 0) : dot / Math.sqrt(nr * nc);
                klSum += klOfSoftmax(ref[i], cand[i]);
                elements += ref[i].length;
            }
            samples += b.size();
        }

        public long samples() {
            return samples;
        }

        /** @param labels whether the data has labels (top-1 is null without) */
        public Result result(boolean labels) {
            return new Result(samples,
                    labels && samples > 0 ? (double) correctRef / samples : null,
                    labels && samples > 0 ? (double) correctCand / samples : null,
                    samples == 0 ? 0 : (double) agreeing / samples,
                    sqnrDb(signal, noise),
                    samples == 0 ? 0 : cosineSum / samples,
                    samples == 0 ? 0 : klSum / samples,
                    elements == 0 ? 0 : noise / elements);
        }
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
