package dev.quantforge.worker.tasks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import tools.jackson.databind.JsonNode;

import dev.quantforge.platform.ApiJson;
import dev.quantforge.quant.bench.BenchmarkResult;
import dev.quantforge.report.ConfigHash;
import dev.quantforge.report.ReportLayer;
import dev.quantforge.report.ReportMetrics;
import dev.quantforge.worker.JobExecution;
import dev.quantforge.worker.JobOutcome;

/**
 * The reports a job stores while it runs (sensitivity probes, search trials), found again by the hash of
 * their configuration: what lets a restarted job resume without measuring a configuration twice.
 */
final class StoredReports {

    private final JobExecution exec;
    private final Map<String, JsonNode> byHash = new HashMap<>();

    StoredReports(JobExecution exec) throws IOException {
        this.exec = exec;
        for (JsonNode r : exec.savedReports()) {
            byHash.put(r.path("configHash").asString(), r);
        }
    }

    /** The report an earlier attempt stored for this configuration: {id, configHash, config, metrics, layers}. */
    Optional<JsonNode> find(Object configuration) {
        return Optional.ofNullable(byHash.get(ConfigHash.of(ApiJson.node(configuration))));
    }

    static ReportMetrics metrics(JsonNode report) {
        return ApiJson.bind(report.path("metrics"), ReportMetrics.class);
    }

    /** Stores a measured configuration now (it survives a crash or a cancel); returns the report id. */
    UUID save(Object configuration, ReportMetrics metrics, BenchmarkResult.RuntimeInfo runtime, List<ReportLayer> layers) {
        try {
            return exec.saveReport(JobOutcome.ReportDraft.of(configuration, metrics, runtime, layers, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ids of every report the job stored so far (earlier attempts included). */
    List<UUID> ids() throws IOException {
        return exec.savedReports().stream().map(r -> UUID.fromString(r.path("id").asString())).toList();
    }
}
