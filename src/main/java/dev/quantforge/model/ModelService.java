package dev.quantforge.model;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.data.domain.PageRequest;
import org.springframework.data.domain.Sort;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import tools.jackson.databind.ObjectMapper;

import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.Page;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.inspect.ModelSummary;
import dev.quantforge.storage.BlobStore;

/** Upload (streamed, content-addressed, validated), listing and deletion of ONNX models. */
@Service
public class ModelService {

    private static final Logger log = LoggerFactory.getLogger(ModelService.class);

    private final ModelRepository models;
    private final BlobStore blobs;
    private final ObjectMapper json;
    private final QfProperties props;
    private final List<ModelDeletionGuard> guards;
    private final ModelInspector inspector = new ModelInspector();

    public ModelService(ModelRepository models, BlobStore blobs, ObjectMapper json, QfProperties props, List<ModelDeletionGuard> guards) {
        this.models = models;
        this.blobs = blobs;
        this.json = json;
        this.props = props;
        this.guards = guards;
    }

    /** The outcome of an upload: the model and whether it was created now (201) or existed (200). */
    public record Uploaded(ModelView model, boolean created) {
    }

    /**
     * Streams the upload to a temp file, validates it (parse + ONNX Runtime load) and stores it
     * under its sha256. Identical bytes return the existing model. Invalid models leave nothing.
     */
    public Uploaded upload(InputStream in, String name) throws IOException {
        return register(blobs.stage(in, props.upload().maxBytes()), name);
    }

    /** As {@link #upload(InputStream, String)} for a multipart part already on disk (moved, not copied). */
    public Uploaded upload(org.springframework.web.multipart.MultipartFile part, String name) throws IOException {
        return register(blobs.stage(part, props.upload().maxBytes()), name);
    }

    private Uploaded register(BlobStore.Staged staging, String name) throws IOException {
        try (BlobStore.Staged staged = staging) {
            if (staged.size() == 0) {
                throw ApiException.badRequest("the upload is empty; send the .onnx file as the part 'file' or as the request body");
            }
            Optional<ModelEntity> existing = models.findBySha256(staged.sha256());
            if (existing.isPresent()) {
                return new Uploaded(view(existing.get()), false);
            }
            ModelSummary summary = inspector.inspect(staged.file());
            staged.commit();
            String modelName = name == null || name.isBlank() ? "model-" + staged.sha256().substring(0, 12) : name.trim();
            ModelEntity entity = new ModelEntity(UUID.randomUUID(), modelName, staged.sha256(), staged.size(),
                    json.writeValueAsString(summary), Instant.now().truncatedTo(ChronoUnit.MICROS));
            try {
                models.saveAndFlush(entity);
            } catch (DataIntegrityViolationException race) {
                // the same bytes were uploaded concurrently: content addressing makes that one the model
                return new Uploaded(view(models.findBySha256(staged.sha256()).orElseThrow(() -> race)), false);
            }
            log.info("model {} stored: {} ({} bytes, sha256 {})", entity.getId(), modelName, staged.size(), staged.sha256());
            return new Uploaded(view(entity), true);
        }
    }

    public ModelView get(UUID id) {
        return view(entity(id));
    }

    public ModelEntity entity(UUID id) {
        return models.findById(id).orElseThrow(() -> ApiException.notFound("model", id));
    }

    public Optional<ModelEntity> find(UUID id) {
        return models.findById(id);
    }

    public ModelSummary summary(ModelEntity e) {
        return json.readValue(e.getSummary(), ModelSummary.class);
    }

    /** The model's inputs as engine tensors (for binding datasets to them). */
    public List<TensorInfo> tensorInputs(ModelEntity e) {
        return summary(e).tensorInputs();
    }

    public Page<ModelView> list(int page, int size) {
        var p = models.findAll(PageRequest.of(page, size, Sort.by(Sort.Direction.DESC, "createdAt").and(Sort.by("id"))));
        return new Page<>(p.getContent().stream().map(this::view).toList(), page, size, p.getTotalElements());
    }

    @Transactional
    public void delete(UUID id) throws IOException {
        ModelEntity e = entity(id);
        guards.forEach(g -> g.checkModelDeletable(id));
        guards.forEach(g -> g.deleteModelJobs(id));
        models.delete(e);
        models.flush();
        blobs.delete(e.getSha256());
    }

    ModelView view(ModelEntity e) {
        return ModelView.of(e, summary(e));
    }
}
