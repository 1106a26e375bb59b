package dev.quantforge.platform.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

import dev.quantforge.platform.ApiException;
import dev.quantforge.platform.ApiException.FieldError;
import dev.quantforge.platform.Text;

/**
 * Projects, their API keys and quotas. The default project's admins (QF_API_TOKEN, open access, admin keys of the
 * default project) create projects and manage every project; a project's admin keys manage that project's keys.
 */
@Service
public class ProjectService {

    private static final Logger log = LoggerFactory.getLogger(ProjectService.class);
    /** Keys start with this, so a leaked one is recognisable (secret scanners) and the filter knows what to look up. */
    public static final String KEY_PREFIX = "qf_";
    private static final int PREFIX_SHOWN = KEY_PREFIX.length() + 8;

    private final ProjectRepository projects;
    private final SecureRandom random = new SecureRandom();

    public ProjectService(ProjectRepository projects) {
        this.projects = projects;
    }

    public record Usage(long activeJobs, long storageBytes) {
    }

    /** A project as the API shows it; a null limit is no limit. */
    public record ProjectView(UUID id, String name, Long maxConcurrentJobs, Long maxStorageBytes, Usage usage, Instant createdAt) {
    }

    public record NewProject(String name, Long maxConcurrentJobs, Long maxStorageBytes) {
    }

    public record QuotaUpdate(Long maxConcurrentJobs, Long maxStorageBytes) {
    }

    public record NewKey(String name, List<String> scopes) {
    }

    /** A key as lists show it: never the key, its first characters only. */
    public record KeyView(UUID id, UUID projectId, String name, String prefix, List<String> scopes, Instant createdAt,
                          Instant lastUsedAt, Instant revokedAt) {
    }

    /** The answer to creating a key: the only time the key itself is shown. */
    public record CreatedKey(UUID id, UUID projectId, String name, String prefix, List<String> scopes, Instant createdAt, String key) {
    }

    public record Whoami(UUID projectId, String projectName, List<String> scopes, String caller) {
    }

    public ProjectView create(NewProject body) {
        requireRoot();
        if (body == null) {
            throw ApiException.badRequest("send {\"name\": \"...\", \"maxConcurrentJobs\"?: n, \"maxStorageBytes\"?: n}");
        }
        List<FieldError> errors = new ArrayList<>();
        String name = Text.label(body.name());
        if (name == null || name.length() > 100 || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            errors.add(new FieldError("name", "is required: 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"));
        }
        checkQuotas(body.maxConcurrentJobs(), body.maxStorageBytes(), errors);
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        ProjectRepository.Project p = new ProjectRepository.Project(UUID.randomUUID(), name, body.maxConcurrentJobs(),
                body.maxStorageBytes(), null);
        if (!projects.insert(p)) {
            throw ApiException.conflict("a project named '" + name + "' exists already; choose another name");
        }
        log.info("project {} ({}) created by {}", p.id(), name, ProjectAccess.caller().name());
        return get(p.id());
    }

    public List<ProjectView> list() {
        Caller c = ProjectAccess.caller();
        return projects.list().stream().filter(p -> c.isRoot() || p.id().equals(c.projectId())).map(this::view).toList();
    }

    public ProjectView get(UUID id) {
        return view(manageable(id));
    }

    public ProjectView updateQuotas(UUID id, QuotaUpdate body) {
        requireRoot();
        manageable(id);
        List<FieldError> errors = new ArrayList<>();
        if (body == null) {
            throw ApiException.badRequest("send {\"maxConcurrentJobs\": n|null, \"maxStorageBytes\": n|null} (null: no limit)");
        }
        checkQuotas(body.maxConcurrentJobs(), body.maxStorageBytes(), errors);
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        projects.updateQuotas(id, body.maxConcurrentJobs(), body.maxStorageBytes());
        return get(id);
    }

    public CreatedKey createKey(UUID projectId, NewKey body) {
        ProjectRepository.Project p = manageable(projectId);
        List<FieldError> errors = new ArrayList<>();
        if (body == null) {
            throw ApiException.badRequest("send {\"name\": \"ci\", \"scopes\": [\"read\", \"submit\"]} (scopes: read, submit, admin, worker)");
        }
        String name = body.name() == null ? "key" : Text.label(body.name());
        if (name == null || name.length() > 100) {
            errors.add(new FieldError("name", "must be 1 to 100 printable characters"));
        }
        Set<Scope> scopes = EnumSet.noneOf(Scope.class);
        if (body.scopes() == null || body.scopes().isEmpty()) {
            errors.add(new FieldError("scopes", "is required: one or more of read, submit, admin, worker"));
        } else {
            for (String s : body.scopes()) {
                try {
                    scopes.add(Scope.fromApiName(s));
                } catch (IllegalArgumentException e) {
                    errors.add(new FieldError("scopes", "unknown scope '" + s + "'; scopes are read, submit, admin, worker"));
                }
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String key = KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        ProjectRepository.ApiKey k = new ProjectRepository.ApiKey(UUID.randomUUID(), p.id(), name, key.substring(0, PREFIX_SHOWN),
                scopes, null, null, null);
        projects.insertKey(k, hash(key));
        log.info("API key {} ({}, scopes {}) created in project {} by {}", k.prefix(), name, names(scopes), p.name(),
                ProjectAccess.caller().name());
        ProjectRepository.ApiKey stored = projects.key(p.id(), k.id()).orElseThrow();
        return new CreatedKey(stored.id(), stored.projectId(), stored.name(), stored.prefix(), names(stored.scopes()), stored.createdAt(), key);
    }

    public List<KeyView> keys(UUID projectId) {
        manageable(projectId);
        return projects.keys(projectId).stream().map(ProjectService::view).toList();
    }

    /** Revokes the key: the next request with it is refused (keys are looked up on every request, never cached). */
    public void revokeKey(UUID projectId, UUID keyId) {
        manageable(projectId);
        ProjectRepository.ApiKey k = projects.key(projectId, keyId).orElseThrow(() -> ApiException.notFound("API key", keyId));
        projects.revokeKey(k.id());
        log.info("API key {} ({}) of project {} revoked by {}", k.prefix(), k.name(), projectId, ProjectAccess.caller().name());
    }

    public Whoami whoami() {
        Caller c = ProjectAccess.caller();
        String name = projects.find(c.projectId()).map(ProjectRepository.Project::name).orElse(null);
        return new Whoami(c.projectId(), name, names(c.scopes()), c.name());
    }

    /** The caller of this key, if it is a live key. */
    public java.util.Optional<Caller> authenticate(String key) {
        if (key == null || !key.startsWith(KEY_PREFIX)) {
            return java.util.Optional.empty();
        }
        return projects.useKey(hash(key)).map(k -> new Caller(k.projectId(), Scope.closure(k.scopes()), k.id(),
                "key " + k.prefix() + " (" + k.name() + ")"));
    }

    /** 429 when the project already has as many queued and running jobs as its limit allows. */
    public void checkJobSlot(UUID projectId) {
        ProjectRepository.Project p = projects.find(projectId).orElseThrow(() -> ApiException.notFound("project", projectId));
        if (p.maxConcurrentJobs() == null) {
            return;
        }
        long active = projects.activeJobs(projectId);
        if (active >= p.maxConcurrentJobs()) {
            String msg = "project '" + p.name() + "' has " + active + " queued or running jobs and its limit maxConcurrentJobs is "
                    + p.maxConcurrentJobs() + "; wait for one to finish (or cancel one) and submit again";
            throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, "Quota exceeded: maxConcurrentJobs", msg,
                    List.of(new FieldError("maxConcurrentJobs", msg)));
        }
    }

    /** 413 when storing {@code addBytes} more would take the project past its storage limit. */
    public void checkStorage(UUID projectId, long addBytes) {
        ProjectRepository.Project p = projects.find(projectId).orElseThrow(() -> ApiException.notFound("project", projectId));
        if (p.maxStorageBytes() == null) {
            return;
        }
        long used = projects.storageBytes(projectId);
        if (used + addBytes > p.maxStorageBytes()) {
            String msg = "project '" + p.name() + "' stores " + used + " bytes and this upload adds " + addBytes
                    + "; its limit maxStorageBytes is " + p.maxStorageBytes() + "; delete models or datasets it no longer needs";
            throw new ApiException(HttpStatus.CONTENT_TOO_LARGE, "Quota exceeded: maxStorageBytes", msg,
                    List.of(new FieldError("maxStorageBytes", msg)));
        }
    }

    /** The project if the caller may manage it (root: any; a project's admin key: its own), else 404. */
    private ProjectRepository.Project manageable(UUID id) {
        Caller c = ProjectAccess.caller();
        if (!c.isRoot() && !id.equals(c.projectId())) {
            throw ApiException.notFound("project", id);
        }
        return projects.find(id).orElseThrow(() -> ApiException.notFound("project", id));
    }

    private static void requireRoot() {
        if (!ProjectAccess.caller().isRoot()) {
            throw new ApiException(HttpStatus.FORBIDDEN, "Forbidden",
                    "only an admin of the default project (QF_API_TOKEN or an admin key of project 'default') creates projects "
                            + "and changes quotas", null);
        }
    }

    private static void checkQuotas(Long jobs, Long bytes, List<FieldError> errors) {
        if (jobs != null && (jobs < 0 || jobs > 100000)) {
            errors.add(new FieldError("maxConcurrentJobs", "must be between 0 and 100000, or null for no limit"));
        }
        if (bytes != null && bytes < 0) {
            errors.add(new FieldError("maxStorageBytes", "must be 0 or more, or null for no limit"));
        }
    }

    private ProjectView view(ProjectRepository.Project p) {
        return new ProjectView(p.id(), p.name(), p.maxConcurrentJobs(), p.maxStorageBytes(),
                new Usage(projects.activeJobs(p.id()), projects.storageBytes(p.id())), p.createdAt());
    }

    private static KeyView view(ProjectRepository.ApiKey k) {
        return new KeyView(k.id(), k.projectId(), k.name(), k.prefix(), names(k.scopes()), k.createdAt(), k.lastUsedAt(), k.revokedAt());
    }

    private static List<String> names(Set<Scope> scopes) {
        return scopes.stream().map(Scope::apiName).toList();
    }

    static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
