package dev.quantforge.artifact;

import java.util.UUID;

import org.springframework.core.io.Resource;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.Downloads;
import dev.quantforge.storage.BlobStore;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/api/v1/artifacts")
@Tag(name = "artifacts", description = "Files produced by jobs")
public class ArtifactController {

    private final ArtifactRepository artifacts;
    private final BlobStore blobs;
    private final HistogramService histograms;

    public ArtifactController(ArtifactRepository artifacts, BlobStore blobs, HistogramService histograms) {
        this.artifacts = artifacts;
        this.blobs = blobs;
        this.histograms = histograms;
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getArtifact", summary = "Artifact metadata")
    public ArtifactRepository.Artifact get(@PathVariable UUID id) {
        return artifacts.find(id).orElseThrow(() -> ApiException.notFound("artifact", id));
    }

    @GetMapping("/{id}/content")
    @Operation(operationId = "downloadArtifact", summary = "Download an artifact's bytes")
    public ResponseEntity<Resource> content(@PathVariable UUID id) throws java.io.IOException {
        ArtifactRepository.Artifact a = get(id);
        return Downloads.blob(blobs.download(a.sha256()), a.name(), a.sha256(), a.sizeBytes());
    }

    @GetMapping("/{id}/histograms")
    @Operation(operationId = "listArtifactHistograms", summary = "The tensors of a histograms artifact (a ptq job's calibration) with their statistics")
    public HistogramService.Listing histograms(@PathVariable UUID id) {
        return histograms.list(id);
    }

    @GetMapping("/{id}/histograms/tensor")
    @Operation(operationId = "getArtifactHistogram", summary = "One tensor's histogram and the range each calibrator chooses from it",
            description = "counts[i] is the number of values in [start + i·width, start + (i+1)·width): the signed histogram trimmed "
                    + "to the observed values and merged into at most 'bars' bars. calibrators: max, percentile, entropy, mse and auto "
                    + "(methodUsed: the one auto picks), computed as a ptq job with activations.dtype = 'activations' would.")
    public HistogramService.TensorHistogramView histogram(@PathVariable UUID id, @RequestParam String name,
                                                          @RequestParam(defaultValue = "uint8") String activations,
                                                          @RequestParam(defaultValue = "99.99") double percentile,
                                                          @RequestParam(defaultValue = "256") int bars) {
        return histograms.tensor(id, name, activations, percentile, bars);
    }
}
