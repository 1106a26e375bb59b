package dev.quantforge.dataset;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.data.domain.PageRequest;
import org.springframework.http.HttpStatus;
import org.springframework.data.domain.Sort;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.ObjectMapper;

import dev.quantforge.dataset.io.DatasetFormat;
import dev.quantforge.dataset.io.DatasetInspector;
import dev.quantforge.dataset.io.DatasetReaders;
import dev.quantforge.dataset.io.DatasetSummary;
import dev.quantforge.dataset.io.Preprocessing;
import dev.quantforge.dataset.io.SamplePreview;
import dev.quantforge.dataset.io.ZipLimits;
import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.Page;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
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

    public DatasetService(DatasetRepository datasets, BlobStore blobs, ObjectMapper json, QfProperties props,
                          List<DatasetDeletionGuard> guards) {
        this.datasets = datasets;
        this.blobs = blobs;
        this.json = json;
        this.props = props;
        this.guards = guards;
    }

    public record Uploaded(DatasetView dataset, boolean created) {
    }

    /**
     * Streams the upload to a temp file, reads it through once to validate it (a truncated or
     * malformed file is refused here, not in a job), and stores it. Nothing is kept on failure.
     */
    public Uploaded upload(org.springframework.web.multipart.MultipartFile part, String name, String formatName,
                           String preprocessingJson) throws IOException {
        DatasetFormat format = parseFormat(formatName);
        Preprocessing pre = parsePreprocessing(preprocessingJson);
        return register(blobs.stage(part, props.upload().maxBytes()), name, part.getOriginalFilename(), format, pre);
    }

    private Uploaded register(BlobStore.Staged staging, String name, String originalFilename, DatasetFormat format,
                              Preprocessing pre) throws IOException {
        try (BlobStore.Staged staged = staging) {
            if (staged.size() == 0) {
                throw ApiException.badRequest("the upload is empty; send the dataset file as the part 'file'");
            }
            DatasetSummary summary = new DatasetInspector(ZipLimits.withMaxUncompressedBytes(props.upload().maxUncompressedBytes()))
                    .inspect(staged.file(), format, originalFilename, pre);
            String preJson = pre == null ? null : json.writeValueAsString(pre.toMap());
            String dedupeKey = staged.sha256() + ":" + summary.format().apiName() + ":" + (preJson == null ? "" : preJson);
            Optional<DatasetEntity> existing = datasets.findByDedupeKey(dedupeKey);
            if (existing.isPresent()) {
                return new Uploaded(view(existing.get()), false);
            }
            staged.commit();
            String datasetName = name == null || name.isBlank()
                    ? (originalFilename == null || originalFilename.isBlank() ? "dataset-" + staged.sha256().substring(0, 12) : originalFilename)
                    : name.trim();
            DatasetEntity e = new DatasetEntity(UUID.randomUUID(), datasetName, staged.sha256(), dedupeKey, summary.format().apiName(),
                    staged.size(), summary.sampleCount(), json.writeValueAsString(summary.tensors().stream().map(DatasetView.TensorView::of).toList()),
                    summary.hasLabels(), summary.classNames() == null ? null : json.writeValueAsString(summary.classNames()),
                    preJson, Instant.now().truncatedTo(ChronoUnit.MICROS));
            try {
                datasets.saveAndFlush(e);
            } catch (DataIntegrityViolationException race) {
                return new Uploaded(view(datasets.findByDedupeKey(dedupeKey).orElseThrow(() -> race)), false);
            }
            log.info("dataset {} stored: {} ({}, {} samples)", e.getId(), datasetName, e.getFormat(), e.getSampleCount());
            return new Uploaded(view(e), true);
        }
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
        throw ApiException.invalid(List.of(new ApiException.FieldError("format", "must be npz, npy or image_folder, got '" + formatName + "'")));
    }

    private Preprocessing parsePreprocessing(String preprocessingJson) {
        if (preprocessingJson == null || preprocessingJson.isBlank()) {
            return null;
        }
        Map<String, Object> map;
        try {
            map = json.readValue(preprocessingJson, new TypeReference<Map<String, Object>>() { });
        } catch (RuntimeException e) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("preprocessing",
                    "must be a JSON object such as {\"scale\":0.00392156862745098,\"mean\":[0.485,0.456,0.406]}: " + e.getMessage())));
        }
        try {
            Preprocessing pre = Preprocessing.fromMap(map);
            pre.validate();
            return pre;
        } catch (InvalidInputException e) {
            throw ApiException.invalid(List.of(new ApiException.FieldError("preprocessing", e.getMessage())));
        }
    }

    public DatasetView get(UUID id) {
        return view(entity(id));
    }

    public DatasetEntity entity(UUID id) {
        return datasets.findById(id).orElseThrow(() -> ApiException.notFound("dataset", id));
    }

    public Optional<DatasetEntity> find(UUID id) {
        return datasets.findById(id);
    }

    public Path file(DatasetEntity e) {
        return blobs.pathOf(e.getSha256());
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

    /** Opens the stored dataset for streaming reads (a job's input). */
    public SampleSource open(DatasetEntity e) throws IOException {
        return open(file(e), e.getFormat(), e.getPreprocessing(), json);
    }

    /** Opens a dataset file given its format and preprocessing JSON (also used by remote workers on downloaded files). */
    public static SampleSource open(Path file, String format, String preprocessingJson, ObjectMapper json) throws IOException {
        Preprocessing pre = preprocessingJson == null ? null
                : Preprocessing.fromMap(json.readValue(preprocessingJson, new TypeReference<Map<String, Object>>() { }));
        return DatasetReaders.open(file, DatasetFormat.fromApiName(format), pre);
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
        var p = datasets.findAll(PageRequest.of(page, size, Sort.by(Sort.Direction.DESC, "createdAt").and(Sort.by("id"))));
        return new Page<>(p.getContent().stream().map(this::view).toList(), page, size, p.getTotalElements());
    }

    @Transactional
    public void delete(UUID id) throws IOException {
        DatasetEntity e = entity(id);
        guards.forEach(g -> g.checkDatasetDeletable(id));
        datasets.delete(e);
        datasets.flush();
        if (!datasets.existsBySha256(e.getSha256())) {
            blobs.delete(e.getSha256());
        }
    }

    DatasetView view(DatasetEntity e) {
        List<DatasetView.TensorView> tensors = json.readValue(e.getTensors(), new TypeReference<List<DatasetView.TensorView>>() { });
        List<String> classNames = e.getClassNames() == null ? null : json.readValue(e.getClassNames(), new TypeReference<List<String>>() { });
        Map<String, Object> pre = e.getPreprocessing() == null ? null
                : json.readValue(e.getPreprocessing(), new TypeReference<Map<String, Object>>() { });
        return new DatasetView(e.getId(), e.getName(), e.getSha256(), e.getFormat(), e.getSizeBytes(), e.getSampleCount(),
                tensors, e.isHasLabels(), classNames, pre, e.getCreatedAt());
    }
}
