package dev.quantforge.dataset;

import java.io.IOException;
import java.time.Duration;
import java.util.UUID;

import org.springframework.core.io.Resource;
import org.springframework.http.CacheControl;
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

import dev.quantforge.dataset.io.SamplePreview;
import dev.quantforge.platform.Downloads;
import dev.quantforge.platform.Page;
import dev.quantforge.platform.Paging;
import dev.quantforge.platform.Uploads;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/api/v1/datasets")
@Tag(name = "datasets", description = "Upload calibration, evaluation and training data")
public class DatasetController {

    private final DatasetService service;

    public DatasetController(DatasetService service) {
        this.service = service;
    }

    @PostMapping(consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    @Operation(operationId = "uploadDataset", summary = "Upload a dataset (npz, npy, a zip of images in class folders, or sentences with their tokenizer)",
            description = "Parts: file (required), name, format (npz|npy|image_folder|text; detected when absent), "
                    + "preprocessing (JSON string: resize, scale, mean, std, layout, channelOrder, grayscale). "
                    + "Text: file = .txt (one sentence per line) or .jsonl ({\"text\", \"textPair\"?, \"label\"?} per line), "
                    + "tokenizer = the model's Hugging Face tokenizer.json, text (JSON string, optional: maxLength 1-8192, default 128; "
                    + "inputNames {input_ids|attention_mask|token_type_ids: model input name}). "
                    + "201 with the dataset; 200 when the same bytes read the same way exist already.")
    public ResponseEntity<DatasetView> upload(@RequestPart("file") MultipartFile file,
                                              @RequestParam(required = false) String name,
                                              @RequestParam(required = false) String format,
                                              @RequestParam(required = false) String preprocessing,
                                              @RequestPart(name = "tokenizer", required = false) MultipartFile tokenizer,
                                              @RequestParam(required = false) String text,
                                              MultipartHttpServletRequest request) throws IOException {
        Uploads.requireSingleParts(request, "file", "name", "format", "preprocessing", "tokenizer", "text");
        DatasetService.Uploaded u = service.upload(file, name, format, preprocessing, tokenizer, text);
        return ResponseEntity.status(u.created() ? HttpStatus.CREATED : HttpStatus.OK).body(u.dataset());
    }

    @GetMapping
    @Operation(operationId = "listDatasets", summary = "List datasets, newest first")
    public Page<DatasetView> list(@RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Paging.check(page, size);
        return service.list(page, size);
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getDataset", summary = "One dataset")
    public DatasetView get(@PathVariable UUID id) {
        return service.get(id);
    }

    @GetMapping("/{id}/content")
    @Operation(operationId = "downloadDataset", summary = "Download the dataset's bytes (remote workers use this)")
    public ResponseEntity<Resource> content(@PathVariable UUID id) throws java.io.IOException {
        DatasetEntity e = service.live(id);
        return Downloads.blob(service.content(e), e.getName(), e.getSha256(), e.getSizeBytes());
    }

    @GetMapping("/{id}/tokenizer")
    @Operation(operationId = "downloadDatasetTokenizer", summary = "Download a text dataset's tokenizer.json (404 for other formats; remote workers use this)")
    public ResponseEntity<Resource> tokenizer(@PathVariable UUID id) throws java.io.IOException {
        DatasetEntity e = service.entity(id);
        java.nio.file.Path file = service.tokenizerFile(e);
        return Downloads.blob(file, "tokenizer.json", e.getTokenizerSha256(), file.toFile().length());
    }

    @GetMapping("/{id}/samples/{index}/preview.png")
    @Operation(operationId = "getDatasetSamplePreview", summary = "One sample drawn as a PNG: what the model is fed",
            description = "Image folders: the decoded, resized image with its preprocessing undone (channels in the tensor's order). "
                    + "npz / npy: the first tensor's sample ([C,H,W], [H,W,C] with 1 or 3 channels, or [H,W]) stretched to 0-255. "
                    + "Header X-Sample-Label carries the label index when the dataset has labels. 404 past the last sample, "
                    + "400 when the sample is not image-shaped.")
    public ResponseEntity<byte[]> preview(@PathVariable UUID id, @PathVariable long index) throws IOException {
        SamplePreview.Preview p = service.preview(id, index);
        ResponseEntity.BodyBuilder r = ResponseEntity.ok().contentType(MediaType.IMAGE_PNG)
                .cacheControl(CacheControl.maxAge(Duration.ofHours(1)).cachePrivate());
        if (p.label() != null) {
            r.header("X-Sample-Label", Long.toString(p.label()));
        }
        return r.body(p.png());
    }

    @DeleteMapping("/{id}")
    @Operation(operationId = "deleteDataset", summary = "Delete a dataset (409 while a queued or running job uses it)",
            description = "The bytes are removed and the dataset answers 404 (saying it was deleted); its record stays so that "
                    + "the jobs that used it keep its id (their deletedInputs names it).")
    public ResponseEntity<Void> delete(@PathVariable UUID id) throws IOException {
        service.delete(id);
        return ResponseEntity.noContent().build();
    }
}
