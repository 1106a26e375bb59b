package dev.quantforge.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import tools.jackson.databind.JsonNode;

import dev.quantforge.platform.ApiException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@Tag(name = "reports", description = "Accuracy and latency of every measured layer configuration")
public class ReportController {

    private final ReportRepository reports;

    public ReportController(ReportRepository reports) {
        this.reports = reports;
    }

    @GetMapping("/api/v1/reports/compare")
    @Operation(operationId = "compareReports", summary = "Compare reports: per-node differences of their configurations and the metric deltas",
            description = "ids=a,b[,c...]: deltas and differences are relative to the first report.")
    public tools.jackson.databind.node.ObjectNode compare(@RequestParam String ids) {
        List<UUID> list = new ArrayList<>();
        for (String s : ids.split(",")) {
            try {
                list.add(UUID.fromString(s.trim()));
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid(List.of(new ApiException.FieldError("ids", "'" + s + "' is not a report id (UUID)")));
            }
        }
        if (list.size() < 2) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("ids", "give at least two report ids, comma-separated")));
        }
        List<ReportView> rs = list.stream().map(this::get).toList();
        return ReportComparison.compare(rs);
    }

    @GetMapping("/api/v1/reports/{id}")
    @Operation(operationId = "getReport", summary = "One report")
    public ReportView get(@PathVariable UUID id) {
        return reports.find(id).orElseThrow(() -> ApiException.notFound("report", id));
    }

    @GetMapping("/api/v1/jobs/{id}/reports")
    @Operation(operationId = "listJobReports", summary = "The reports a job wrote")
    public List<ReportView> forJob(@PathVariable UUID id) {
        if (!reports.jobExists(id)) {
            throw ApiException.notFound("job", id);
        }
        return reports.forJob(id);
    }

    @GetMapping("/api/v1/models/{id}/reports")
    @Operation(operationId = "listModelReports", summary = "Every configuration ever measured for a model (the results database)",
            description = "sort=top1 (best first) or latency (fastest first); pareto=true keeps only configurations no other "
                    + "configuration beats on both top-1 and p50 latency.")
    public List<ReportView> forModel(@PathVariable UUID id, @RequestParam(required = false) String sort,
                                     @RequestParam(defaultValue = "false") boolean pareto) {
        if (!reports.modelExists(id)) {
            throw ApiException.notFound("model", id);
        }
        List<ReportView> all = new ArrayList<>(reports.forModel(id));
        if (pareto) {
            all = paretoFront(all);
        }
        if (sort != null) {
            switch (sort) {
                case "top1" -> all.sort(Comparator.comparingDouble((ReportView r) -> metric(r, ReportMetrics.TOP1, Double.NEGATIVE_INFINITY)).reversed());
                case "latency" -> all.sort(Comparator.comparingDouble(r -> metric(r, ReportMetrics.LATENCY_P50_MS, Double.POSITIVE_INFINITY)));
                default -> throw ApiException.invalid(List.of(new ApiException.FieldError("sort", "must be top1 or latency, got '" + sort + "'")));
            }
        }
        return all;
    }

    static double metric(ReportView r, String name, double missing) {
        JsonNode v = r.metrics() == null ? null : r.metrics().get(name);
        return v == null || !v.isNumber() ? missing : v.asDouble();
    }

    /** Reports with both top-1 and latency that no other report dominates (≥ top-1 and ≤ latency, one strictly). */
    static List<ReportView> paretoFront(List<ReportView> all) {
        List<ReportView> measured = all.stream()
                .filter(r -> !Double.isNaN(metric(r, ReportMetrics.TOP1, Double.NaN)) && !Double.isNaN(metric(r, ReportMetrics.LATENCY_P50_MS, Double.NaN)))
                .toList();
        List<ReportView> front = new ArrayList<>();
        for (ReportView a : measured) {
            double ta = metric(a, ReportMetrics.TOP1, 0), la = metric(a, ReportMetrics.LATENCY_P50_MS, 0);
            boolean dominated = measured.stream().anyMatch(b -> {
                double tb = metric(b, ReportMetrics.TOP1, 0), lb = metric(b, ReportMetrics.LATENCY_P50_MS, 0);
                return tb >= ta && lb <= la && (tb > ta || lb < la);
            });
            if (!dominated) {
                front.add(a);
            }
        }
        return front;
    }
}
