package dev.quantforge.quant.calib;

import java.util.List;

/**
 * Chooses a tensor's quantization range from its {@link TensorHistogram}. Every method works on
 * the same histogram, so comparing methods needs no new pass over the data.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li><b>max</b>: symmetric: amax = max |x| observed; asymmetric: [min(0, min), max(0, max)].</li>
 *   <li><b>percentile(p)</b>: the p-th percentile of |x| from the cumulative |x| counts, interpolated
 *       linearly inside the bin where the cumulative count crosses {@code p/100 · count}, capped at
 *       the observed max |x|. (pytorch-quantization returns the upper edge of that bin instead.)</li>
 *   <li><b>entropy</b>: pytorch-quantization's {@code _compute_amax_entropy} (TensorRT's KL calibration):
 *       the |x| counts with bin 0 replaced by bin 1's count; for each candidate {@code i = startBin,
 *       startBin+stride, ..., bins}: P = counts[0, i) with all counts at or above bin i added to
 *       bin i-1; Q: bins [0, i) are split into {@code numQuantBins} levels (bin j → level
 *       {@code floor(j · numQuantBins / i)}, i.e. {@code digitize(range(i), linspace(0, i, n+1)) - 1}),
 *       each level's count is spread evenly over its non-empty bins of counts[0, i) and empty bins
 *       stay 0; KL(P‖Q) of the normalized P and Q (natural log; +∞ when Q is 0 where P is not).
 *       The candidate with the smallest KL wins, the <em>last</em> (largest i) one on ties, and
 *       {@code amax = i · binWidth} — the bin <em>edge</em> {@code calib_bin_edges[i]}, not the
 *       bin centre.</li>
 *   <li><b>mse</b>: the amax (candidates: the bin edges {@code i · binWidth}, i = 1 ... up to the
 *       first edge ≥ max |x|, every {@code stride}-th) minimizing {@link #expectedMse}: the exact
 *       expected squared error of quantize-dequantize when values are spread uniformly inside each
 *       histogram bin — rounding error where the value is inside the range (integrated exactly over
 *       the quantization grid, ≈ scale²/12 per value for wide bins) plus the clipping error
 *       (x − amax)² above it. This is not pytorch-quantization's objective (it quantizes bin centres,
 *       which favours grids that happen to align with the centres) and it starts at bin 1, not 128.</li>
 *   <li><b>asymmetric</b> (uint8): percentile, entropy and mse compute a magnitude t on |x| as above and
 *       return [min(0, max(min, -t)), max(0, min(max, t))]; mse then scores candidates with the
 *       asymmetric grid ({@code numQuantBins - 1} steps over [lo, hi]) on the signed histogram.</li>
 *   <li><b>auto</b>: computes max, percentile, entropy and mse and returns the one with the lowest
 *       {@link #expectedMse}; ties go to mse, then entropy, percentile, max. Since mse minimizes that
 *       objective over bin edges, auto picks mse unless percentile's interpolated amax or max's exact
 *       amax happens to score lower.</li>
 * </ul>
 * An empty histogram (or one with only zeros) gives the range [0, 0].
 */
public final class Calibrators {

    /** Candidate counts above this are thinned (the stride grows) so one search stays fast. */
    private static final int MAX_CANDIDATES = 4096;

    private Calibrators() {
    }

    public static CalibrationResult compute(TensorHistogram h, CalibrationMethod method, CalibrationParams params) {
        if (method == CalibrationMethod.AUTO) {
            CalibrationResult best = null;
            for (CalibrationMethod m : List.of(CalibrationMethod.MSE, CalibrationMethod.ENTROPY,
                    CalibrationMethod.PERCENTILE, CalibrationMethod.MAX)) {
                CalibrationResult r = compute(h, m, params);
                if (best == null || r.expectedMse() < best.expectedMse()) {
                    best = r;
                }
            }
            return best;
        }
        TensorRange range = range(h, method, params);
        return new CalibrationResult(range, method, expectedMse(h, range, params));
    }

    private static TensorRange range(TensorHistogram h, CalibrationMethod method, CalibrationParams params) {
        if (h.count() == 0 || h.range() == 0) {
            return new TensorRange(0, 0);
        }
        if (method == CalibrationMethod.MAX) {
            return params.symmetric() ? TensorRange.symmetric(h.absMax())
                    : new TensorRange(Math.min(0, h.min()), Math.max(0, h.max()));
        }
        if (method == CalibrationMethod.MSE) {
            return mseRange(h, params);
        }
        double t = switch (method) {
            case PERCENTILE -> percentileAmax(h, params.percentile());
            case ENTROPY -> entropyAmax(h, params.numQuantBins(), params.startBin(), params.stride());
            default -> throw new IllegalArgumentException("unsupported method " + method);
        };
        return params.symmetric() ? TensorRange.symmetric(t) : clipTo(h, t);
    }

    /** [min(0, max(min, -t)), max(0, min(max, t))]. */
    static TensorRange clipTo(TensorHistogram h, double t) {
        return new TensorRange(Math.min(0, Math.max(h.min(), -t)), Math.max(0, Math.min(h.max(), t)));
    }

    /** The p-th percentile (0..100] of |x|, interpolated inside its bin, at most the observed max |x|. */
    public static double percentileAmax(TensorHistogram h, double percentile) {
        if (!(percentile > 0 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], was " + percentile);
        }
        if (h.count() == 0 || h.range() == 0) {
            return 0;
        }
        if (percentile == 100) {
            return h.absMax();
        }
        long[] counts = h.absCounts();
        double target = percentile / 100.0 * h.count();
        double cumulative = 0;
        double w = h.binWidth();
        for (int j = 0; j < counts.length; j++) {
            if (counts[j] > 0 && cumulative + counts[j] >= target) {
                double frac = Math.max(0, (target - cumulative) / counts[j]);
                return Math.min(h.absMax(), (j + frac) * w);
            }
            cumulative += counts[j];
        }
        return h.absMax();
    }

    /** TensorRT / pytorch-quantization KL-divergence threshold on |x|; see the class comment for the exact convention. */
    public static double entropyAmax(TensorHistogram h, int numQuantBins, int startBin, int stride) {
        if (h.count() == 0 || h.range() == 0) {
            return 0;
        }
        long[] raw = h.absCounts();
        int n = raw.length;
        double[] bins = new double[n];
        for (int j = 0; j < n; j++) {
            bins[j] = raw[j];
        }
        bins[0] = bins[1];
        double[] suffix = new double[n + 1]; // suffix[i] = sum(bins[i:])
        for (int j = n - 1; j >= 0; j--) {
            suffix[j] = suffix[j + 1] + bins[j];
        }
        double total = suffix[0];
        double[] levelSum = new double[numQuantBins];
        int[] levelNonZero = new int[numQuantBins];
        int first = Math.min(startBin, n);
        double bestKl = Double.POSITIVE_INFINITY;
        int bestI = n;
        boolean any = false;
        for (int i = first; i <= n; i += stride) {
            java.util.Arrays.fill(levelSum, 0);
            java.util.Arrays.fill(levelNonZero, 0);
            for (int j = 0; j < i; j++) {
                if (bins[j] != 0) {
                    int l = (int) ((long) j * numQuantBins / i);
                    levelSum[l] += bins[j];
                    levelNonZero[l]++;
                }
            }
            double sumQ = total - suffix[i]; // Q spreads the counts of bins[0, i) without the outliers
            double sumP = total;
            double kl = 0;
            for (int j = 0; j < i; j++) {
                double p = j == i - 1 ? bins[j] + suffix[i] : bins[j];
                if (p == 0) {
                    continue;
                }
                if (bins[j] == 0) {
                    kl = Double.POSITIVE_INFINITY;
                    break;
                }
                int l = (int) ((long) j * numQuantBins / i);
                double q = levelSum[l] / levelNonZero[l];
                double pn = p / sumP;
                kl += pn * Math.log(pn / (q / sumQ));
            }
            if (!any || kl <= bestKl) {
                bestKl = kl;
                bestI = i;
                any = true;
            }
        }
        return bestI * h.binWidth();
    }

    private static TensorRange mseRange(TensorHistogram h, CalibrationParams params) {
        double w = h.binWidth();
        int top = (int) Math.min(h.bins(), Math.ceil(h.absMax() / w));
        top = Math.max(top, 1);
        int stride = Math.max(params.stride(), top / MAX_CANDIDATES);
        Bins signedBins = params.symmetric() ? null : Bins.signed(h);
        Bins absBins = params.symmetric() ? Bins.abs(h) : null;
        TensorRange best = null;
        double bestMse = Double.POSITIVE_INFINITY;
        for (int i = 1; ; i += stride) {
            if (i > top) {
                i = top; // always try the first edge at or above max |x|
            }
            double t = i * w;
            TensorRange candidate = params.symmetric() ? TensorRange.symmetric(t) : clipTo(h, t);
            double mse = params.symmetric() ? absBins.mse(candidate.amax(), params.numQuantBins())
                    : signedBins.mseAsymmetric(candidate.min(), candidate.max(), params.numQuantBins());
            if (mse < bestMse) {
                bestMse = mse;
                best = candidate;
            }
            if (i == top) {
                break;
            }
        }
        return best;
    }

    /**
     * Expected squared quantize-dequantize error per value of {@code range} under the histogram,
     * assuming values uniform inside each bin (exact integral over the quantization grid, clipping
     * included). Symmetric: grid k·amax/(numQuantBins-1), |k| ≤ numQuantBins-1, on the |x| histogram.
     * Asymmetric: grid lo + k·(hi-lo)/(numQuantBins-1), k = 0 ... numQuantBins-1, on the signed one.
     */
    public static double expectedMse(TensorHistogram h, TensorRange range, CalibrationParams params) {
        if (h.count() == 0) {
            return 0;
        }
        if (h.range() == 0) {
            return 0; // only zeros: every range represents them exactly
        }
        return params.symmetric() ? Bins.abs(h).mse(range.amax(), params.numQuantBins())
                : Bins.signed(h).mseAsymmetric(range.min(), range.max(), params.numQuantBins());
    }

    /** The non-empty bins of a histogram as [lower edge, upper edge, count]. */
    private record Bins(double[] lower, double[] upper, double[] count, double total) {

        static Bins abs(TensorHistogram h) {
            return of(h.absCounts(), 0, h.binWidth());
        }

        static Bins signed(TensorHistogram h) {
            return of(h.signedCounts(), -h.range(), h.binWidth());
        }

        private static Bins of(long[] counts, double origin, double w) {
            int nonEmpty = 0;
            for (long c : counts) {
                if (c != 0) {
                    nonEmpty++;
                }
            }
            double[] lo = new double[nonEmpty];
            double[] hi = new double[nonEmpty];
            double[] cnt = new double[nonEmpty];
            double total = 0;
            int k = 0;
            for (int j = 0; j < counts.length; j++) {
                if (counts[j] != 0) {
                    lo[k] = origin + j * w;
                    hi[k] = origin + (j + 1) * w;
                    cnt[k] = counts[j];
                    total += counts[j];
                    k++;
                }
            }
            return new Bins(lo, hi, cnt, total);
        }

        /** Symmetric grid on |x|: levels k·s, s = amax / (numQuantBins - 1), clipped at amax. */
        double mse(double amax, int numQuantBins) {
            double s = amax / (numQuantBins - 1);
            return meanError(0, amax, 0, s);
        }

        /** Asymmetric grid lo + k·s, s = (hi - lo) / (numQuantBins - 1), clipped to [lo, hi]. */
        double mseAsymmetric(double lo, double hi, int numQuantBins) {
            double s = (hi - lo) / (numQuantBins - 1);
            return meanError(lo, hi, lo, s);
        }

        private double meanError(double clipLo, double clipHi, double origin, double s) {
            double sum = 0;
            for (int k = 0; k < count.length; k++) {
                double a = lower[k];
                double b = upper[k];
                sum += count[k] * segment(a, b, clipLo, clipHi, origin, s) / (b - a);
            }
            return sum / total;
        }

        /** ∫_a^b (x − Q(x))² dx for Q = round to the grid origin + k·s, clipped to [lo, hi]. */
        private static double segment(double a, double b, double lo, double hi, double origin, double s) {
            double total = 0;
            if (a < lo) {
                double u = Math.min(b, lo);
                total += (cube(lo - a) - cube(lo - u)) / 3;
            }
            if (b > hi) {
                double l = Math.max(a, hi);
                total += (cube(b - hi) - cube(l - hi)) / 3;
            }
            double l = Math.max(a, lo);
            double u = Math.min(b, hi);
            if (u > l && s > 0) {
                total += roundingIntegral(u - origin, s) - roundingIntegral(l - origin, s);
            }
            return total;
        }

        /** ∫_{-s/2}^{t} e(x)² dx where e(x) = x − s·round(x/s) (a sawtooth of period s). */
        private static double roundingIntegral(double t, double s) {
            double half = s / 2;
            double n = Math.floor((t + half) / s);
            double r = t + half - n * s; // in [0, s)
            return n * s * s * s / 12 + (cube(r - half) + cube(half)) / 3;
        }

        private static double cube(double x) {
            return x * x * x;
        }
    }
}
