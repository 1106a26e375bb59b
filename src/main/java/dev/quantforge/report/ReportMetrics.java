package dev.quantforge.report;

import java.util.Set;

import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.eval.Task;

/**
 * A report's {@code metrics}: what was measured for one configuration. The component names are the
 * metric names of the API (docs/API.md "Report"); a metric that was not measured is absent. Built with
 * {@link #builder()}.
 *
 * @param top1               top-1 of the configuration against labels
 * @param top1Fp32           top-1 of the FP32 model on the same samples
 * @param accuracyDrop       top1Fp32 − top1 (or relative, see dropType)
 * @param agreement          fraction of samples whose argmax matches FP32's
 * @param sqnrDb             output SQNR against FP32
 * @param latencyFp32P50Ms   FP32 p50 measured interleaved in the same run
 * @param speedupP50         latencyFp32P50Ms / latencyP50Ms
 * @param fusedInt8Kernels   integer kernels in ONNX Runtime's optimized graph
 * @param trial              the search trial index (auto_quantize)
 * @param floatLayers        layers the search kept float
 * @param task               what the outputs mean (classification, embedding, detection, generic): which metrics apply
 * @param pooledCosine       embedding models: mean cosine of the mean-pooled embeddings to FP32's
 * @param nearestNeighbourAgreement embedding models: fraction of samples whose nearest other sample is FP32's
 */
public record ReportMetrics(Double top1, Double top1Fp32, Double accuracyDrop, String dropType, Double agreement, Double sqnrDb,
                            Double cosine, Double kl, Double mse, Long samples, Double latencyP50Ms, Double latencyP90Ms,
                            Double latencyP99Ms, Double latencyMeanMs, Double throughputPerSecond, Integer batchSize,
                            Double latencyFp32P50Ms, Double speedupP50, Integer fusedInt8Kernels, Long modelSizeBytes, Integer trial,
                            Integer floatLayers, Integer qatEpochs, Double top1BeforeQat, Double agreementBeforeQat, String task,
                            Double pooledCosine, Double nearestNeighbourAgreement) {

    /** Metric names the results database sorts and filters on (tested to be component names). */
    public static final String TOP1 = "top1";
    public static final String LATENCY_P50_MS = "latencyP50Ms";
    static final Set<String> QUERIED = Set.of(TOP1, LATENCY_P50_MS);

    /** The comparison these metrics were built from ({@link Builder#fullComparison}), e.g. to resume a search. */
    public ModelComparison.Result comparison() {
        Task t = task == null ? Task.CLASSIFICATION : Task.valueOf(task.toUpperCase(java.util.Locale.ROOT));
        return new ModelComparison.Result(t, samples == null ? 0 : samples, top1Fp32, top1, agreement, orZero(sqnrDb), orZero(cosine),
                kl, orZero(mse), pooledCosine, nearestNeighbourAgreement, java.util.List.of());
    }

    private static double orZero(Double v) {
        return v == null ? 0 : v;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects metrics by what was measured; each setter group fills the metrics of one measurement. */
    public static final class Builder {
        private Double top1;
        private Double top1Fp32;
        private Double accuracyDrop;
        private String dropType;
        private Double agreement;
        private Double sqnrDb;
        private Double cosine;
        private Double kl;
        private Double mse;
        private Long samples;
        private Double latencyP50Ms;
        private Double latencyP90Ms;
        private Double latencyP99Ms;
        private Double latencyMeanMs;
        private Double throughputPerSecond;
        private Integer batchSize;
        private Double latencyFp32P50Ms;
        private Double speedupP50;
        private Integer fusedInt8Kernels;
        private Long modelSizeBytes;
        private Integer trial;
        private Integer floatLayers;
        private Integer qatEpochs;
        private Double top1BeforeQat;
        private Double agreementBeforeQat;
        private String task;
        private Double pooledCosine;
        private Double nearestNeighbourAgreement;

        private Builder() {
        }

        /** Top-1 (with FP32's and the drop, when labels gave both), agreement, output SQNR and cosine, samples. */
        public Builder comparison(ModelComparison.Result r) {
            top1 = r.top1Candidate();
            top1Fp32 = r.top1Reference();
            if (r.top1Candidate() != null && r.top1Reference() != null) {
                accuracyDrop = r.top1Reference() - r.top1Candidate();
            }
            agreement = r.agreement();
            sqnrDb = r.sqnrDb();
            cosine = r.cosine();
            samples = r.samples();
            task = r.task().apiName();
            pooledCosine = r.pooledCosine();
            nearestNeighbourAgreement = r.nearestNeighbourAgreement();
            return this;
        }

        /** {@link #comparison} plus the softmax KL divergence and output MSE (the label-free sensitivity metrics). */
        public Builder fullComparison(ModelComparison.Result r) {
            comparison(r);
            kl = r.klDivergence();
            mse = r.mse();
            return this;
        }

        /** p50/p90/p99/mean latency, throughput and batch of one timed model. */
        public Builder latency(BenchmarkResult r) {
            latencyP50Ms = r.latencyMs().p50();
            latencyP90Ms = r.latencyMs().p90();
            latencyP99Ms = r.latencyMs().p99();
            latencyMeanMs = r.latencyMs().mean();
            throughputPerSecond = r.throughputPerSecond();
            batchSize = r.batchSize();
            return this;
        }

        /** The FP32 p50 of the same interleaved run, and the speed-up over it. */
        public Builder versusFp32(BenchmarkResult fp32, double speedup) {
            latencyFp32P50Ms = fp32.latencyMs().p50();
            speedupP50 = speedup;
            return this;
        }

        /** Null: not measured (no labels). */
        public Builder top1(Double v) {
            top1 = v;
            return this;
        }

        public Builder top1Fp32(Double v) {
            top1Fp32 = v;
            return this;
        }

        public Builder samples(long v) {
            samples = v;
            return this;
        }

        public Builder accuracyDrop(double drop, String type) {
            accuracyDrop = drop;
            dropType = type;
            return this;
        }

        public Builder fusedInt8Kernels(int v) {
            fusedInt8Kernels = v;
            return this;
        }

        public Builder modelSizeBytes(long v) {
            modelSizeBytes = v;
            return this;
        }

        public Builder trial(int index, int floatLayerCount) {
            trial = index;
            floatLayers = floatLayerCount;
            return this;
        }

        /** QAT: epochs trained and the PTQ start's top-1 and agreement. */
        public Builder qat(int epochs, Double top1Before, Double agreementBefore) {
            qatEpochs = epochs;
            top1BeforeQat = top1Before;
            agreementBeforeQat = agreementBefore;
            return this;
        }

        public ReportMetrics build() {
            return new ReportMetrics(top1, top1Fp32, accuracyDrop, dropType, agreement, sqnrDb, cosine, kl, mse, samples, latencyP50Ms,
                    latencyP90Ms, latencyP99Ms, latencyMeanMs, throughputPerSecond, batchSize, latencyFp32P50Ms, speedupP50,
                    fusedInt8Kernels, modelSizeBytes, trial, floatLayers, qatEpochs, top1BeforeQat, agreementBeforeQat, task, pooledCosine,
                    nearestNeighbourAgreement);
        }
    }
}
