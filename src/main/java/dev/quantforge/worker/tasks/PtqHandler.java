package dev.quantforge.worker.tasks;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.quantforge.job.ConfigSchema;
import dev.quantforge.job.JobTypeSpec;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.pipeline.PostTrainingQuantization;
import dev.quantforge.quant.pipeline.PostTrainingQuantization.Candidate;
import dev.quantforge.quant.pipeline.QdqBuild;
import dev.quantforge.quant.precision.Fp16Conversion;
import dev.quantforge.quant.pipeline.QuantizationPipeline;
import dev.quantforge.quant.pipeline.QuantizationSpec;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.search.Configurations;
import dev.quantforge.report.ReportMetrics;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobHandler;
import dev.quantforge.worker.JobOutcome;

/**
 * {@code ptq}: post-training quantization through the engine's {@link PostTrainingQuantization}, stored as
 * an FP32 report, a report per calibrator tried, the QDQ model and the calibration histograms.
 */
@Component
public class PtqHandler implements JobHandler {

    static final JobTypeSpec SPEC = JobTypeSpec.of("ptq", QuantizationConfig.schema())
            .accepts(JobTypeSpec.DatasetRole.CALIBRATION, JobTypeSpec.DatasetRole.EVALUATION).quantizes()
            .checkConfig(QuantizationConfig::check).checkDatasets(QuantizationConfig::checkDatasets)
            .checkSubmission(QuantizationConfig::checkSubmission).build();

    @Override
    public JobTypeSpec spec() {
        return SPEC;
    }

    /** The job's result. */
    record PtqResult(String mode, String target, String task, Side fp32, QuantizedSide quantized, int quantizedNodes, int skippedNodes,
                     String calibrator,
                     List<CalibratorRow> calibrators, double speedupP50, int fusedInt8Kernels, Map<String, Integer> optimizedGraphOps,
                     String activations, boolean reduceRangeWeights, Long calibrationSamples, List<String> preparation,
                     List<String> warnings, MixedPrecision precision) {
    }

    /** With {@code floatPrecision} fp16 (anywhere): how many nodes run in each precision, and per node why. */
    record MixedPrecision(Map<String, Integer> counts, List<NodePrecisionRow> nodes) {
        static MixedPrecision of(QdqBuild build) {
            if (build.precisions().isEmpty()) {
                return null;
            }
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (Fp16Conversion.Precision p : Fp16Conversion.Precision.values()) {
                counts.put(p.apiName(), 0);
            }
            build.precisions().forEach(n -> counts.merge(n.precision().apiName(), 1, Integer::sum));
            return new MixedPrecision(counts, build.precisions().stream()
                    .map(n -> new NodePrecisionRow(n.node(), n.opType(), n.precision().apiName(), n.reason())).toList());
        }
    }

    record NodePrecisionRow(String node, String opType, String precision, String reason) {
    }

    record Side(Double top1, Results.LatencyMs latencyMs) {
    }

    record QuantizedSide(Double top1, Results.LatencyMs latencyMs, Double agreement, double sqnrDb, double cosine, Double pooledCosine,
                         Double nearestNeighbourAgreement, List<ModelComparison.OutputScore> outputs, long modelSizeBytes) {
    }

    record CalibratorRow(String calibrator, Double top1, Double agreement, double sqnrDb, double cosine, Double pooledCosine) {
    }

    /**
     * The effective per-layer configuration (its hash groups reports): no measured values. {@code mode} and {@code target}
     * are absent for static ONNX Runtime quantization, so such configurations keep the hash they always had.
     */
    record PtqConfiguration(String precision, String mode, String target, String activations, String weights, boolean reduceRangeWeights,
                            boolean quantizeResidualAdd, Map<String, LayerConfiguration> layers, List<String> fp16Nodes) {
    }

    /** @param activationCalibrators per activation input: the calibrator of its range ("auto" when auto picked it) */
    record LayerConfiguration(boolean quantized, List<String> activationCalibrators) {
    }

    @Override
    public JobOutcome run(JobExecution exec) throws Exception {
        QuantizationSpec spec = QuantizationConfig.spec(exec.config());
        try (QuantizationPipeline p = QuantizationConfig.open(exec, spec, QuantizationConfig.histogramsFrom(exec.config()),
                exec.progress().scaled(0.0, 0.45))) {
            QdqPlan plan = p.plan();
            exec.log("plan: " + plan.quantizedNodes().size() + " of " + plan.nodes().size() + " quantizable nodes quantized, "
                    + plan.activationTensors().size() + " activation tensors calibrated, activations "
                    + p.settings().activationType() + ", weights " + (p.settings().weightsPerChannel() ? "per channel" : "per tensor")
                    + (p.settings().reduceRangeWeights() ? " (7-bit, reduce range)" : ""));
            Path histogramsFile = null;
            if (p.spec().needsCalibration()) {
                histogramsFile = exec.workDir().resolve("histograms.bin");
                try (OutputStream out = Files.newOutputStream(histogramsFile)) {
                    p.histograms().write(out);
                }
            }
            if (exec.dataset(JobTypeSpec.DatasetRole.EVALUATION).isEmpty()) {
                exec.log("no evaluation dataset: FP32 and INT8 are compared on the calibration data (agreement and SQNR, no top-1)");
            }
            SampleSource compareOn = QuantizationConfig.compareOn(exec).open();
            PostTrainingQuantization.Outcome o = PostTrainingQuantization.run(p, compareOn, exec.progress().scaled(0.45, 0.99));
            exec.log("quantized model written (" + Files.size(o.best().build().file()) + " bytes) from "
                    + exec.modelFile().getFileName());
            return outcome(exec, p, o, histogramsFile);
        }
    }

    private static JobOutcome outcome(JobExecution exec, QuantizationPipeline p, PostTrainingQuantization.Outcome o, Path histogramsFile)
            throws Exception {
        Candidate best = o.best();
        ModelComparison.Result bestCmp = best.comparison();
        var runtime = o.latency().candidate().runtime();
        ReportMetrics fp32Metrics = ReportMetrics.builder().top1(bestCmp.top1Reference()).latency(o.latency().fp32())
                .modelSizeBytes(Files.size(exec.modelFile())).build();
        List<JobOutcome.ReportDraft> reports = new java.util.ArrayList<>();
        reports.add(JobOutcome.ReportDraft.of(Results.Fp32Configuration.INSTANCE, fp32Metrics, runtime, List.of(), "fp32ReportId"));
        List<CalibratorRow> rows = new java.util.ArrayList<>();
        for (Candidate c : o.candidates()) {
            ModelComparison.Result cmp = c.comparison();
            ReportMetrics.Builder m = ReportMetrics.builder().comparison(cmp).modelSizeBytes(Files.size(c.build().file()));
            if (c == best) {
                m.latency(o.latency().candidate()).versusFp32(o.latency().fp32(), o.latency().speedupP50()).fusedInt8Kernels(o.fusedInt8Kernels());
            }
            reports.add(JobOutcome.ReportDraft.of(configuration(p, c.build()), m.build(), runtime,
                    Results.layers(c.build(), c == best ? o.layerSqnr() : Map.of()), c == best ? "reportId" : null));
            rows.add(new CalibratorRow(c.method() == null ? null : c.method().apiName(), cmp.top1Candidate(), cmp.agreement(), cmp.sqnrDb(),
                    cmp.cosine(), cmp.pooledCosine()));
        }
        QdqPlan plan = p.plan();
        QuantizationSpec spec = p.spec();
        PtqResult result = new PtqResult(ConfigSchema.apiName(spec.mode()), ConfigSchema.apiName(spec.target()), bestCmp.task().apiName(),
                new Side(bestCmp.top1Reference(), Results.LatencyMs.of(o.latency().fp32())),
                new QuantizedSide(bestCmp.top1Candidate(), Results.LatencyMs.of(o.latency().candidate()), bestCmp.agreement(),
                        bestCmp.sqnrDb(), bestCmp.cosine(), bestCmp.pooledCosine(), bestCmp.nearestNeighbourAgreement(), bestCmp.outputs(),
                        Files.size(best.build().file())),
                plan.quantizedNodes().size(), plan.nodes().size() - plan.quantizedNodes().size(), best.method() == null ? null : best.method().apiName(), rows,
                o.latency().speedupP50(), o.fusedInt8Kernels(), o.runtimeOps(), Configurations.activations(p),
                p.settings().reduceRangeWeights(), spec.needsCalibration() ? p.histograms().samples() : null, p.prepared().steps(),
                o.warnings(), MixedPrecision.of(best.build()));
        List<JobOutcome.ArtifactDraft> artifacts = new java.util.ArrayList<>();
        artifacts.add(new JobOutcome.ArtifactDraft("quantized_model", best.build().mode() == QuantizationSpec.Mode.WEIGHT_ONLY
                ? "model.int4.onnx" : "model.int8.onnx", best.build().file(), "quantizedModelArtifactId"));
        if (histogramsFile != null) {
            artifacts.add(new JobOutcome.ArtifactDraft("histograms", "histograms.bin", histogramsFile, "histogramsArtifactId"));
        }
        return JobOutcome.of(result, reports, artifacts);
    }

    /** The effective per-layer configuration of a built model (what its configHash is computed from). */
    static PtqConfiguration configuration(QuantizationPipeline p, QdqBuild build) {
        Map<String, LayerConfiguration> layers = new LinkedHashMap<>();
        for (QdqPlan.PlannedNode n : build.plan().nodes()) {
            List<String> calibrators = null;
            if (n.quantized()) {
                calibrators = n.activationInputs().stream().map(in -> {
                    CalibrationResult r = build.rangeOf(in);
                    return r == null ? "none" : build.method() == CalibrationMethod.AUTO ? "auto" : r.methodUsed().apiName();
                }).toList();
            }
            layers.put(n.name(), new LayerConfiguration(n.quantized(), calibrators));
        }
        QuantizationSpec spec = p.spec();
        return new PtqConfiguration(spec.mode() == QuantizationSpec.Mode.WEIGHT_ONLY ? "int4" : "int8",
                spec.mode() == QuantizationSpec.Mode.STATIC ? null : ConfigSchema.apiName(spec.mode()),
                spec.target() == QuantizationSpec.Target.ONNXRUNTIME_CPU ? null : ConfigSchema.apiName(spec.target()),
                spec.mode() == QuantizationSpec.Mode.STATIC ? Configurations.activations(p) : "float",
                spec.mode() == QuantizationSpec.Mode.WEIGHT_ONLY ? "block" + spec.weights().blockSize() : Configurations.weights(p),
                p.settings().reduceRangeWeights(), p.settings().quantizeResidualAdd(), layers,
                build.precisions().isEmpty() ? null : build.fp16Nodes());
    }
}
