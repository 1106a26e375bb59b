package dev.quantforge.artifact;

import java.util.UUID;

import org.springframework.core.io.Resource;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
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

    public ArtifactController(ArtifactRepository artifacts, BlobStore blobs) {
        this.artifacts = artifacts;
        this.blobs = blobs;
    }

    @GetMapping("/{id}")
    @Operation(summary = "Artifact metadata")
    public ArtifactRepository.Artifact get(@PathVariable UUID id) {
        return artifacts.find(id).orElseThrow(() -> ApiException.notFound("artifact", id));
    }

    @GetMapping("/{id}/content")
    @Operation(summary = "Download an artifact's bytes")
    public ResponseEntity<Resource> content(@PathVariable UUID id) {
        ArtifactRepository.Artifact a = get(id);
        return Downloads.blob(blobs.pathOf(a.sha256()), a.name(), a.sha256(), a.sizeBytes());
    }
}
