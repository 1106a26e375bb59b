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
import org.springframework.data.domain.PageRequest;
import org.springframework.data.domain.Sort;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import tools.jackson.databind.ObjectMapper;

import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.Page;
import dev.quantforge.platform.QfProperties;
import dev.quantforge.platform.ServerPaths;
import dev.quantforge.platform.access.ProjectAccess;
import dev.quantforge.platform.access.ProjectService;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.platform.Text;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.inspect.ModelSummary;
import dev.quantforge.storage.BlobReferences;
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
    private final BlobReferences blobReferences;
    private final ProjectService projects;
    private final ModelInspector inspector = new ModelInspector();

    public ModelService(ModelRepository models, BlobStore blobs, ObjectMapper json, QfProperties props, List<ModelDeletionGuard> guards,
                        BlobReferences blobReferences, ProjectService projects) {
        this.projects = projects;
        this.blobReferences = blobReferences;
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
            UUID project = ProjectAccess.current();
            Optional<ModelEntity> existing = models.findByProjectIdAndSha256AndDeletedAtIsNull(project, staged.sha256());
            if (existing.isPresent()) {
                return new Uploaded(view(existing.get()), false);
            }
            projects.checkStorage(project, staged.size());
            ModelSummary summary;
            try {
                summary = inspector.inspect(staged.file());
            } catch (InvalidInputException e) {
                log.info("model upload refused: {}", e.getMessage());
                throw new InvalidInputException(ServerPaths.describe(e.getMessage(), staged.file(), "the uploaded file"), e);
            }
            String nul = Text.nulPath(json.valueToTree(summary), "");
            if (nul != null) {
                throw ApiException.badRequest("the model has a name with a NUL character (\\u0000) at " + nul
                        + "; rename it in the ONNX graph and upload it again");
            }
            String label = Text.label(name);
            String modelName = label == null ? "model-" + staged.sha256().substring(0, 12) : label;
            ModelEntity entity = new ModelEntity(project, UUID.randomUUID(), modelName, staged.sha256(), staged.size(),
                    json.writeValueAsString(summary), Instant.now().truncatedTo(ChronoUnit.MICROS));
            // the blob becomes visible with its row, under the content's lock (BlobReferences: no race with a delete);
            // concurrent uploads of the same bytes are serialised by it: the second finds the first's model
            Optional<ModelEntity> concurrent = blobReferences.publish(List.of(staged), () -> {
                Optional<ModelEntity> now = models.findByProjectIdAndSha256AndDeletedAtIsNull(project, staged.sha256());
                if (now.isEmpty()) {
                    models.saveAndFlush(entity);
                }
                return now;
            });
            if (concurrent.isPresent()) {
                return new Uploaded(view(concurrent.get()), false);
            }
            log.info("model {} stored: {} ({} bytes, sha256 {})", entity.getId(), modelName, staged.size(), staged.sha256());
            return new Uploaded(view(entity), true);
        }
    }

    public ModelView get(UUID id) {
        return view(live(id));
    }

    /** The model, deleted or not (a deleted one keeps its record for the jobs that used it); 404 for another project's. */
    public ModelEntity entity(UUID id) {
        return find(id).orElseThrow(() -> ApiException.notFound("model", id));
    }

    /** The model if it is not deleted: 404 when unknown or deleted. */
    public ModelEntity live(UUID id) {
        ModelEntity e = entity(id);
        if (e.isDeleted()) {
            throw ApiException.deleted("model", id, e.getName(), e.getDeletedAt());
        }
        return e;
    }

    /** The model if the caller's project may see it. */
    public Optional<ModelEntity> find(UUID id) {
        return models.findById(id).filter(m -> ProjectAccess.visible(m.getProjectId()));
    }

    public ModelSummary summary(ModelEntity e) {
        return json.readValue(e.getSummary(), ModelSummary.class);
    }

    /**
     * Every node of the stored model with its API name ({@code NodeRef}, the names exclusions and reports use) and op type,
     * in graph order; parses the model, so it is for checks that need more than the summary.
     */
    public List<ModelSummary.NodeRef> nodes(ModelEntity e) {
        try {
            return dev.quantforge.quant.inspect.ModelInspector.nodes(dev.quantforge.quant.onnx.Graphs.parse(blobs.localFile(e.getSha256())));
        } catch (IOException io) {
            throw new java.io.UncheckedIOException(io);
        }
    }

    /** The model's inputs as engine tensors (for binding datasets to them). */
    public List<TensorInfo> tensorInputs(ModelEntity e) {
        return summary(e).tensorInputs();
    }

    public Page<ModelView> list(int page, int size) {
        var p = models.findByProjectIdAndDeletedAtIsNull(ProjectAccess.current(), PageRequest.of(page, size, Sort.by(Sort.Direction.DESC, "createdAt").and(Sort.by("id"))));
        return new Page<>(p.getContent().stream().map(this::view).toList(), page, size, p.getTotalElements());
    }

    /**
     * Deletes the model's bytes and hides it from lists; its record stays, marked deleted, so that
     * its finished jobs and their reports keep pointing at it (409 while a queued or running job uses it).
     */
    @Transactional
    public void delete(UUID id) throws IOException {
        ModelEntity e = live(id);
        guards.forEach(g -> g.checkModelDeletable(id));
        e.markDeleted(Instant.now().truncatedTo(ChronoUnit.MICROS));
        models.saveAndFlush(e);
        blobReferences.deleteIfUnreferenced(e.getSha256());
        log.info("model {} ({}) deleted", id, e.getName());
    }

    ModelView view(ModelEntity e) {
        return ModelView.of(e, summary(e));
    }
}
