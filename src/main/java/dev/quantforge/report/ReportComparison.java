package dev.quantforge.report;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Side-by-side view of measured configurations: which layers differ and how the metrics moved. */
final class ReportComparison {

    private ReportComparison() {
    }

    static ObjectNode compare(List<ReportView> reports) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ReportView base = reports.get(0);
        ObjectNode out = f.objectNode();
        ArrayNode rs = out.putArray("reports");
        for (ReportView r : reports) {
            ObjectNode o = rs.addObject();
            o.put("id", r.id().toString());
            o.put("jobId", r.jobId().toString());
            o.put("configHash", r.configHash());
            o.put("sameConfigurationAsFirst", r.configHash().equals(base.configHash()));
        }
        // metric deltas against the first report
        ObjectNode metrics = out.putObject("metrics");
        Set<String> names = new LinkedHashSet<>();
        reports.forEach(r -> r.metrics().propertyNames().forEach(names::add));
        for (String name : names) {
            ObjectNode m = metrics.putObject(name);
            ArrayNode values = m.putArray("values");
            ArrayNode deltas = m.putArray("deltas");
            JsonNode b = base.metrics().get(name);
            for (ReportView r : reports) {
                JsonNode v = r.metrics().get(name);
                values.add(v == null ? f.nullNode() : v);
                deltas.add(v != null && b != null && v.isNumber() && b.isNumber() ? f.numberNode(v.asDouble() - b.asDouble()) : f.nullNode());
            }
        }
        // per-node differences of the effective configuration
        ArrayNode layers = out.putArray("layerDifferences");
        Set<String> nodes = new LinkedHashSet<>();
        reports.forEach(r -> r.config().path("layers").propertyNames().forEach(nodes::add));
        for (String node : nodes) {
            JsonNode first = base.config().path("layers").get(node);
            boolean differs = reports.stream().anyMatch(r -> !Objects.equals(r.config().path("layers").get(node), first));
            if (!differs) {
                continue;
            }
            ObjectNode row = layers.addObject();
            row.put("node", node);
            ArrayNode per = row.putArray("configs");
            reports.forEach(r -> per.add(r.config().path("layers").has(node) ? r.config().path("layers").get(node) : f.nullNode()));
        }
        // differences outside the layers (precision, calibrator, granularity, ...)
        ObjectNode global = out.putObject("settingDifferences");
        Set<String> keys = new LinkedHashSet<>();
        reports.forEach(r -> r.config().propertyNames().forEach(keys::add));
        keys.remove("layers");
        for (String key : keys) {
            JsonNode first = base.config().get(key);
            if (reports.stream().anyMatch(r -> !Objects.equals(r.config().get(key), first))) {
                ArrayNode per = global.putArray(key);
                reports.forEach(r -> per.add(r.config().has(key) ? r.config().get(key) : f.nullNode()));
            }
        }
        return out;
    }
}
