package dev.quantforge.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.quantforge.quant.inspect.ModelSummary;

/** A model as the API shows it (docs/API.md "Model"). */
public record ModelView(
        UUID id,
        String name,
        String sha256,
        long sizeBytes,
        long irVersion,
        Integer opsetVersion,
        Map<String, Long> opsetImports,
        String producer,
        List<ModelSummary.IoInfo> inputs,
        List<ModelSummary.IoInfo> outputs,
        int nodeCount,
        Map<String, Integer> opTypes,
        List<ModelSummary.NodeRef> quantizableNodes,
        Instant createdAt) {

    static ModelView of(ModelEntity e, ModelSummary s) {
        return new ModelView(e.getId(), e.getName(), e.getSha256(), e.getSizeBytes(), s.irVersion(), s.opsetVersion(),
                s.opsetImports(), s.producer(), s.inputs(), s.outputs(), s.nodeCount(), s.opTypes(), s.quantizableNodes(),
                e.getCreatedAt());
    }
}
