package dev.quantforge.artifact;

import java.nio.file.Path;
import java.util.UUID;

import org.springframework.core.io.FileSystemResource;
import org.springframework.core.io.Resource;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.quantforge.platform.ApiException;
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
        Path file = blobs.pathOf(a.sha256());
        return ResponseEntity.ok()
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment().filename(a.name()).build().toString())
                .header(HttpHeaders.ETAG, "\"" + a.sha256() + "\"")
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .contentLength(a.sizeBytes())
                .body(new FileSystemResource(file));
    }
}
