package dev.quantforge.worker.tasks;

import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.quant.bench.BenchmarkResult;

/** The report's {@code runtime} object: which runtime produced every number. */
final class RuntimeInfoJson {

    private RuntimeInfoJson() {
    }

    static ObjectNode of(BenchmarkResult.RuntimeInfo r) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("engine", r.engine());
        o.put("engineVersion", r.engineVersion());
        o.put("executionProvider", r.executionProvider());
        o.put("threads", r.threads());
        o.put("host", r.host());
        return o;
    }

    static ObjectNode fp32Config() {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("precision", "fp32");
        c.putObject("layers");
        return c;
    }
}
