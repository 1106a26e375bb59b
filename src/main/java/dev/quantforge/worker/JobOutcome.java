package dev.quantforge.worker;

import java.nio.file.Path;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a job produced: its result object, reports and artifact files. Ids of stored reports and
 * artifacts are put into the result under their {@code resultField} (e.g. "reportId") when stored.
 */
public record JobOutcome(ObjectNode result, List<ReportDraft> reports, List<ArtifactDraft> artifacts) {

    /** A measured layer configuration (docs/API.md "Report"); layers is a JSON array. */
    public record ReportDraft(JsonNode config, JsonNode metrics, JsonNode runtime, JsonNode layers, String resultField) {
    }

    /** A file the job produced. */
    public record ArtifactDraft(String kind, String name, Path file, String resultField) {
    }
}
