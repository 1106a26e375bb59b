package dev.quantforge.model;

import java.io.IOException;
import java.util.UUID;

import org.springframework.core.io.Resource;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;

import dev.quantforge.platform.Downloads;
import dev.quantforge.platform.Page;
import dev.quantforge.platform.Paging;
import dev.quantforge.platform.Uploads;
import dev.quantforge.storage.BlobStore;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;

@RestController
@RequestMapping("/api/v1/models")
@Tag(name = "models", description = "Upload and inspect ONNX models")
public class ModelController {

    private final ModelService service;
    private final BlobStore blobs;

    public ModelController(ModelService service, BlobStore blobs) {
        this.service = service;
        this.blobs = blobs;
    }

    @PostMapping(consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    @Operation(operationId = "uploadModel", summary = "Upload an ONNX model (multipart part 'file')",
            description = "201 with the model; 200 with the existing model when identical bytes were uploaded before.")
    public ResponseEntity<ModelView> upload(@RequestPart("file") MultipartFile file,
                                            @RequestParam(required = false) String name,
                                            MultipartHttpServletRequest request) throws IOException {
        Uploads.requireSingleParts(request, "file", "name");
        String n = name != null ? name : stripExtension(file.getOriginalFilename());
        return respond(service.upload(file, n));
    }

    @PostMapping(consumes = MediaType.APPLICATION_OCTET_STREAM_VALUE)
    @Operation(operationId = "uploadModelRaw", summary = "Upload an ONNX model as the raw request body")
    public ResponseEntity<ModelView> uploadRaw(HttpServletRequest request, @RequestParam(required = false) String name) throws IOException {
        return respond(service.upload(request.getInputStream(), name));
    }

    @GetMapping
    @Operation(operationId = "listModels", summary = "List models, newest first")
    public Page<ModelView> list(@RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Paging.check(page, size);
        return service.list(page, size);
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getModel", summary = "One model")
    public ModelView get(@PathVariable UUID id) {
        return service.get(id);
    }

    @GetMapping("/{id}/content")
    @Operation(operationId = "downloadModel", summary = "Download the model's bytes")
    public ResponseEntity<Resource> content(@PathVariable UUID id) throws java.io.IOException {
        ModelEntity e = service.live(id);
        String filename = e.getName().endsWith(".onnx") ? e.getName() : e.getName() + ".onnx";
        return Downloads.blob(blobs.download(e.getSha256()), filename, e.getSha256(), e.getSizeBytes());
    }

    @DeleteMapping("/{id}")
    @Operation(operationId = "deleteModel", summary = "Delete a model (409 while a queued or running job uses it)",
            description = "The bytes are removed and the model answers 404 (saying it was deleted); its record stays so that "
                    + "finished jobs and their reports keep its id (their deletedInputs names it).")
    public ResponseEntity<Void> delete(@PathVariable UUID id) throws IOException {
        service.delete(id);
        return ResponseEntity.noContent().build();
    }

    private static ResponseEntity<ModelView> respond(ModelService.Uploaded u) {
        return ResponseEntity.status(u.created() ? HttpStatus.CREATED : HttpStatus.OK).body(u.model());
    }

    static String stripExtension(String filename) {
        if (filename == null || filename.isBlank()) {
            return null;
        }
        String base = filename.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        return base.toLowerCase().endsWith(".onnx") ? base.substring(0, base.length() - 5) : base;
    }

}
