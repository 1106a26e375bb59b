package dev.quantforge.worker;

import java.nio.file.Path;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.platform.ApiJson;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.report.ReportLayer;
import dev.quantforge.report.ReportMetrics;

/**
 * What a job produced: its result object, reports and artifact files. Ids of stored reports and
 * artifacts are put into the result under their {@code resultField} (e.g. "reportId") when stored.
 */
public record JobOutcome(ObjectNode result, List<ReportDraft> reports, List<ArtifactDraft> artifacts) {

    /** A measured layer configuration (docs/API.md "Report") as it is stored and sent; layers is a JSON array. */
    public record ReportDraft(JsonNode config, JsonNode metrics, JsonNode runtime, JsonNode layers, String resultField) {

        /** From typed parts: the configuration record (its canonical JSON is hashed), metrics, runtime and layer rows. */
        public static ReportDraft of(Object config, ReportMetrics metrics, BenchmarkResult.RuntimeInfo runtime, List<ReportLayer> layers,
                                     String resultField) {
            return new ReportDraft(ApiJson.node(config), ApiJson.node(metrics), ApiJson.node(runtime), ApiJson.node(layers), resultField);
        }
    }

    /** An outcome whose result is a typed record. */
    public static JobOutcome of(Object result, List<ReportDraft> reports, List<ArtifactDraft> artifacts) {
        return new JobOutcome(ApiJson.tree(result), reports, artifacts);
    }

    /** A file the job produced. */
    public record ArtifactDraft(String kind, String name, Path file, String resultField) {
    }
}
