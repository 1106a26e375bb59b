package dev.quantforge.dataset;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.PageRequest;
import org.springframework.http.HttpStatus;
import org.springframework.data.domain.Sort;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.multipart.MultipartFile;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.ObjectMapper;

import dev.quantforge.dataset.io.DatasetFormat;
import dev.quantforge.dataset.io.DatasetInspector;
import dev.quantforge.dataset.io.DatasetReaders;
import dev.quantforge.dataset.io.DatasetSummary;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.TextDataset;
import dev.quantforge.dataset.io.TextLayout;
import dev.quantforge.dataset.io.TextOptions;
import dev.quantforge.dataset.io.SamplePreview;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.Page;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.platform.access.ProjectAccess;
import dev.quantforge.platform.access.ProjectService;
import dev.quantforge.platform.ServerPaths;
import dev.quantforge.platform.Text;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.runtime.DjlNatives;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.storage.BlobReferences;
import dev.quantforge.storage.BlobStore;

/** Upload (streamed, validated end to end), listing, reading and deletion of datasets. */
@Service
public class DatasetService {

    private static final Logger log = LoggerFactory.getLogger(DatasetService.class);

    private final DatasetRepository datasets;
    private final BlobStore blobs;
    private final ObjectMapper json;
    private final QfProperties props;
    private final List<DatasetDeletionGuard> guards;
    private final BlobReferences blobReferences;
    private final ProjectService projects;

    public DatasetService(DatasetRepository datasets, BlobStore blobs, ObjectMapper json, QfProperties props,
                          List<DatasetDeletionGuard> guards, BlobReferences blobReferences, ProjectService projects) {
        this.projects = projects;
        this.blobReferences = blobReferences;
        this.datasets = datasets;
        this.blobs = blobs;
        this.json = json;
        this.props = props;
        this.guards = guards;
        // text datasets load the tokenizers' native library: extracted under the data dir, as QAT's PyTorch is
        DjlNatives.useCacheDir(props.dataDir().resolve("cache").resolve("djl"));
    }

    public record Uploaded(DatasetView dataset, boolean created) {
    }

    /**
     * Streams the upload to a temp file, reads it through once to validate it (a truncated or
     * malformed file is refused here, not in a job), and stores it. Nothing is kept on failure.
     * An upload with a {@code tokenizer} part (or {@code text} options, or format {@code text}) is a text dataset.
     */
    public Uploaded upload(MultipartFile part, String name, String formatName, String preprocessingJson,
                           MultipartFile tokenizer, String textJson) throws IOException {
        DatasetFormat format = parseFormat(formatName);
        boolean text = format == DatasetFormat.TEXT || tokenizer != null || textJson != null;
        if (!text) {
            Preprocessing pre = parsePreprocessing(preprocessingJson);
            return register(blobs.stage(part, props.upload().maxBytes()), name, part.getOriginalFilename(), format, pre);
        }
        if (format != null && format != DatasetFormat.TEXT) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("format", "the parts 'tokenizer' and 'text' are for text datasets,"
                    + " but format is '" + format.apiName() + "'; leave them out, or use format text")));
        }
        if (preprocessingJson != null && !preprocessingJson.isBlank()) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("preprocessing", "applies to images and arrays; a text dataset"
                    + " takes its options in the part 'text' (maxLength, inputNames)")));
        }
        if (tokenizer == null || tokenizer.isEmpty()) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("tokenizer", "a text dataset needs the model's tokenizer.json"
                    + " in the part 'tokenizer'" + (tokenizer == null ? "" : "; the part is empty"))));
        }
        long tokenizerLimit = Math.min(TextDataset.MAX_TOKENIZER_BYTES, props.upload().maxBytes());
        if (tokenizer.getSize() > tokenizerLimit) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("tokenizer", "is " + tokenizer.getSize() + " bytes; a tokenizer.json"
                    + " of at most " + tokenizerLimit + " bytes is accepted")));
        }
        TextOptions options = parseTextOptions(textJson);
        return registerText(blobs.stage(part, props.upload().maxBytes()), blobs.stage(tokenizer, tokenizerLimit), name,
                part.getOriginalFilename(), options);
    }

    private Uploaded register(BlobStore.Staged staging, String name, String originalFilename, DatasetFormat format,
                              Preprocessing pre) throws IOException {
        try (BlobStore.Staged staged = staging) {
            requireContent(staged);
            DatasetSummary summary;
            try {
                summary = inspector().inspect(staged.file(), format, originalFilename, pre);
            } catch (InvalidInputException e) {
                log.info("dataset upload refused: {}", e.getMessage());
                throw new InvalidInputException(ServerPaths.describe(e.getMessage(), staged.file(), "the uploaded file"), e);
            }
            String preJson = pre == null ? null : json.writeValueAsString(pre.toMap());
            String dedupeKey = staged.sha256() + ":" + summary.format().apiName() + ":" + (preJson == null ? "" : preJson);
            Optional<DatasetEntity> existing = datasets.findByProjectIdAndDedupeKeyAndDeletedAtIsNull(ProjectAccess.current(), dedupeKey);
            if (existing.isPresent()) {
                return new Uploaded(view(existing.get()), false);
            }
            projects.checkStorage(ProjectAccess.current(), staged.size());
            String nul = Text.nulPath(json.valueToTree(summary.tensors().stream().map(DatasetView.TensorView::of).toList()), "tensors");
            if (nul == null && summary.classNames() != null) {
                nul = Text.nulPath(json.valueToTree(summary.classNames()), "classNames");
            }
            if (nul != null) {
                throw ApiException.badRequest("the dataset has a name with a NUL character (\\u0000) at " + nul
                        + "; rename that array or folder and upload it again");
            }
            return save(List.of(staged), staged, name, originalFilename, dedupeKey, summary, preJson, null, null);
        }
    }

    /**
     * A text dataset keeps what the user sent: the sentences are the dataset's blob, the tokenizer.json a second one;
     * jobs tokenize as they read ({@link TextDataset}). The same sentences with another tokenizer or maxLength are
     * another dataset.
     */
    private Uploaded registerText(BlobStore.Staged textStaging, BlobStore.Staged tokenizerStaging, String name, String originalFilename,
                                  TextOptions options) throws IOException {
        try (BlobStore.Staged staged = textStaging; BlobStore.Staged tokenizer = tokenizerStaging) {
            requireContent(staged);
            DatasetSummary summary = inspector().inspectText(staged.file(), originalFilename, tokenizer.file(), options);
            Map<String, Object> identity = new LinkedHashMap<>(options.toMap());
            identity.put("tokenizerSha256", tokenizer.sha256());
            String dedupeKey = staged.sha256() + ":" + DatasetFormat.TEXT.apiName() + ":" + json.writeValueAsString(identity);
            Optional<DatasetEntity> existing = datasets.findByProjectIdAndDedupeKeyAndDeletedAtIsNull(ProjectAccess.current(), dedupeKey);
            if (existing.isPresent()) {
                return new Uploaded(view(existing.get()), false);
            }
            projects.checkStorage(ProjectAccess.current(), staged.size() + tokenizer.size());
            String textJson = json.writeValueAsString(textView(options, summary.text(), tokenizer));
            return save(List.of(staged, tokenizer), staged, name, originalFilename, dedupeKey, summary, null, tokenizer.sha256(), textJson);
        }
    }

    /** What the Dataset JSON shows as {@code text}, and what reading it back needs (maxLength, inputNames, layout). */
    private static Map<String, Object> textView(TextOptions options, TextDataset.TextSummary scan, BlobStore.Staged tokenizer) {
        Map<String, Object> view = new LinkedHashMap<>(options.toMap());
        view.put("layout", scan.layout().apiName());
        view.put("pairs", scan.pairs());
        view.put("truncatedSentences", scan.truncated());
        view.put("padTokenId", scan.padTokenId());
        view.put("tokenizerSha256", tokenizer.sha256());
        view.put("tokenizerSizeBytes", tokenizer.size());
        view.put("tokenizerLibrary", scan.tokenizerLibrary());
        return view;
    }

    private static void requireContent(BlobStore.Staged staged) {
        if (staged.size() == 0) {
            throw ApiException.badRequest("the upload is empty; send the dataset file as the part 'file'");
        }
    }

    private DatasetInspector inspector() {
        return new DatasetInspector(ZipLimits.withMaxUncompressedBytes(props.upload().maxUncompressedBytes()));
    }

    private Uploaded save(List<BlobStore.Staged> blobsOfRow, BlobStore.Staged staged, String name, String originalFilename, String dedupeKey, DatasetSummary summary,
                          String preJson, String tokenizerSha256, String textJson) {
        String label = Text.label(name) != null ? Text.label(name) : Text.label(originalFilename);
        String datasetName = label == null ? "dataset-" + staged.sha256().substring(0, 12) : label;
        DatasetEntity e = new DatasetEntity(ProjectAccess.current(), UUID.randomUUID(), datasetName, staged.sha256(), dedupeKey, summary.format().apiName(),
                staged.size(), summary.sampleCount(), json.writeValueAsString(summary.tensors().stream().map(DatasetView.TensorView::of).toList()),
                summary.hasLabels(), summary.classNames() == null ? null : json.writeValueAsString(summary.classNames()),
                preJson, tokenizerSha256, textJson, Instant.now().truncatedTo(ChronoUnit.MICROS));
        // the blobs become visible with the row, under their content's locks (BlobReferences: no race with a delete);
        // the same dedupe key means the same content, so concurrent uploads of it are serialised by that lock too and
        // the second one finds the first one's dataset (before this check, one racing a delete got a 500)
        UUID project = ProjectAccess.current();
        Optional<DatasetEntity> existing = blobReferences.publish(blobsOfRow, () -> {
            Optional<DatasetEntity> now = datasets.findByProjectIdAndDedupeKeyAndDeletedAtIsNull(project, dedupeKey);
            if (now.isEmpty()) {
                datasets.saveAndFlush(e);
            }
            return now;
        });
        if (existing.isPresent()) {
            return new Uploaded(view(existing.get()), false);
        }
        log.info("dataset {} stored: {} ({}, {} samples)", e.getId(), datasetName, e.getFormat(), e.getSampleCount());
        return new Uploaded(view(e), true);
    }

    private static DatasetFormat parseFormat(String formatName) {
        if (formatName == null || formatName.isBlank()) {
            return null;
        }
        for (DatasetFormat f : DatasetFormat.values()) {
            if (f.apiName().equals(formatName.trim())) {
                return f;
            }
        }
        throw ApiException.invalid(List.of(new ApiException.FieldError("format", "must be npz, npy, image_folder or text, got '" + formatName + "'")));
    }

    private TextOptions parseTextOptions(String textJson) {
        TextOptions options = parseJsonPart("text", textJson, "{\"maxLength\":128}", TextOptions::fromMap);
        return options == null ? TextOptions.DEFAULT : options;
    }

    private Preprocessing parsePreprocessing(String preprocessingJson) {
        return parseJsonPart("preprocessing", preprocessingJson, "{\"scale\":0.00392156862745098,\"mean\":[0.485,0.456,0.406]}",
                map -> Preprocessing.fromMap(map).validate());
    }

    /** A JSON-object form part, parsed by {@code parse}; null when absent; a 400 naming {@code part} when invalid. */
    private <T> T parseJsonPart(String part, String value, String example, java.util.function.Function<Map<String, Object>, T> parse) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Map<String, Object> map;
        try {
            map = json.readValue(value, new TypeReference<Map<String, Object>>() { });
        } catch (RuntimeException e) {
            throw ApiException.invalid(List.of(new ApiException.FieldError(part, "must be a JSON object such as " + example + ": " + e.getMessage())));
        }
        try {
            return parse.apply(map);
        } catch (InvalidInputException e) {
            throw ApiException.invalid(List.of(new ApiException.FieldError(part, e.getMessage())));
        }
    }

    public DatasetView get(UUID id) {
        return view(live(id));
    }

    /** The dataset, deleted or not; 404 for another project's. */
    public DatasetEntity entity(UUID id) {
        return find(id).orElseThrow(() -> ApiException.notFound("dataset", id));
    }

    /** The dataset if it is not deleted: 404 when unknown or deleted. */
    public DatasetEntity live(UUID id) {
        DatasetEntity e = entity(id);
        if (e.isDeleted()) {
            throw ApiException.deleted("dataset", id, e.getName(), e.getDeletedAt());
        }
        return e;
    }

    /** The dataset if the caller's project may see it. */
    public Optional<DatasetEntity> find(UUID id) {
        return datasets.findById(id).filter(d -> ProjectAccess.visible(d.getProjectId()));
    }

    public Path file(DatasetEntity e) throws IOException {
        return blobs.localFile(e.getSha256());
    }

    /** The dataset's bytes as a streamed download. */
    public org.springframework.core.io.Resource content(DatasetEntity e) throws IOException {
        return blobs.download(e.getSha256());
    }

    /** The dataset's tensors as engine types (for binding to model inputs). */
    public List<TensorInfo> tensors(DatasetEntity e) {
        List<DatasetView.TensorView> views = json.readValue(e.getTensors(), new TypeReference<List<DatasetView.TensorView>>() { });
        List<TensorInfo> out = new ArrayList<>();
        for (DatasetView.TensorView v : views) {
            out.add(new TensorInfo(v.name(), ElementType.fromApiName(v.elementType()), v.shape()));
        }
        return out;
    }

    /** The tokenizer.json of a text dataset; 404 for other formats. */
    public Path tokenizerFile(DatasetEntity e) throws IOException {
        if (e.getTokenizerSha256() == null) {
            throw new ApiException(org.springframework.http.HttpStatus.NOT_FOUND, "Not found", "dataset " + e.getId() + " is "
                    + e.getFormat() + ", not text: it has no tokenizer", null);
        }
        return blobs.localFile(e.getTokenizerSha256());
    }

    /** Opens the stored dataset for streaming reads (a job's input). */
    public SampleSource open(DatasetEntity e) throws IOException {
        if (DatasetFormat.TEXT.apiName().equals(e.getFormat())) {
            return openText(file(e), tokenizerFile(e), e.getTextOptions(), e.getSampleCount(), e.isHasLabels(), json);
        }
        return open(file(e), e.getFormat(), e.getPreprocessing(), json);
    }

    /** Opens a dataset file given its format and preprocessing JSON (also used by remote workers on downloaded files). */
    public static SampleSource open(Path file, String format, String preprocessingJson, ObjectMapper json) throws IOException {
        Preprocessing pre = preprocessingJson == null ? null
                : Preprocessing.fromMap(json.readValue(preprocessingJson, new TypeReference<Map<String, Object>>() { }));
        return DatasetReaders.open(file, DatasetFormat.fromApiName(format), pre);
    }

    /** Opens a text dataset from its two files and its stored {@code text} JSON (also used by remote workers). */
    public static SampleSource openText(Path textFile, Path tokenizerFile, String textJson, long sampleCount, boolean hasLabels,
                                        ObjectMapper json) {
        Map<String, Object> text = json.readValue(textJson, new TypeReference<Map<String, Object>>() { });
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("maxLength", text.get("maxLength"));
        options.put("inputNames", text.get("inputNames"));
        return new TextDataset(textFile, tokenizerFile, TextOptions.fromMap(options), TextLayout.fromApiName((String) text.get("layout")),
                sampleCount, hasLabels);
    }

    /** Sample {@code index} drawn as the model sees it (404 past the last sample, 400 when it is not an image). */
    public SamplePreview.Preview preview(UUID id, long index) throws IOException {
        DatasetEntity e = entity(id);
        if (index < 0 || index >= e.getSampleCount()) {
            throw new ApiException(HttpStatus.NOT_FOUND, "Not found", "dataset " + id + " has "
                    + e.getSampleCount() + " samples (0 to " + (e.getSampleCount() - 1) + "); there is no sample " + index, null);
        }
        Preprocessing pre = e.getPreprocessing() == null ? null
                : Preprocessing.fromMap(json.readValue(e.getPreprocessing(), new TypeReference<Map<String, Object>>() { }));
        return SamplePreview.of(open(e), pre, index);
    }

    public Page<DatasetView> list(int page, int size) {
        var p = datasets.findByProjectIdAndDeletedAtIsNull(ProjectAccess.current(), PageRequest.of(page, size, Sort.by(Sort.Direction.DESC, "createdAt").and(Sort.by("id"))));
        return new Page<>(p.getContent().stream().map(this::view).toList(), page, size, p.getTotalElements());
    }

    /**
     * Deletes the dataset's bytes (unless another record still uses them) and hides it from lists; its
     * record stays, marked deleted, so that finished jobs keep its id (409 while a queued or running job uses it).
     */
    @Transactional
    public void delete(UUID id) throws IOException {
        DatasetEntity e = live(id);
        guards.forEach(g -> g.checkDatasetDeletable(id));
        e.markDeleted(Instant.now().truncatedTo(ChronoUnit.MICROS));
        datasets.saveAndFlush(e);
        blobReferences.deleteIfUnreferenced(e.getSha256());
        if (e.getTokenizerSha256() != null) {
            blobReferences.deleteIfUnreferenced(e.getTokenizerSha256());
        }
        log.info("dataset {} ({}) deleted", id, e.getName());
    }

    DatasetView view(DatasetEntity e) {
        List<DatasetView.TensorView> tensors = json.readValue(e.getTensors(), new TypeReference<List<DatasetView.TensorView>>() { });
        List<String> classNames = e.getClassNames() == null ? null : json.readValue(e.getClassNames(), new TypeReference<List<String>>() { });
        Map<String, Object> pre = e.getPreprocessing() == null ? null
                : json.readValue(e.getPreprocessing(), new TypeReference<Map<String, Object>>() { });
        Map<String, Object> text = e.getTextOptions() == null ? null
                : json.readValue(e.getTextOptions(), new TypeReference<Map<String, Object>>() { });
        return new DatasetView(e.getId(), e.getName(), e.getSha256(), e.getFormat(), e.getSizeBytes(), e.getSampleCount(),
                tensors, e.isHasLabels(), classNames, pre, text, e.getCreatedAt());
    }
}
