package dev.quantforge.platform.access;

import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/api/v1/projects")
@Tag(name = "projects", description = "Projects, their API keys and quotas")
public class ProjectController {

    private final ProjectService service;

    public ProjectController(ProjectService service) {
        this.service = service;
    }

    @GetMapping("/current")
    @Operation(operationId = "getCurrentProject", summary = "The caller's project and scopes (any key)")
    public ProjectService.Whoami current() {
        return service.whoami();
    }

    @PostMapping
    @Operation(operationId = "createProject", summary = "Create a project (an admin of the default project): {name, maxConcurrentJobs?, maxStorageBytes?}")
    public ResponseEntity<ProjectService.ProjectView> create(@RequestBody(required = false) ProjectService.NewProject body) {
        return ResponseEntity.status(HttpStatus.CREATED).body(service.create(body));
    }

    @GetMapping
    @Operation(operationId = "listProjects", summary = "Projects the caller manages (every project for an admin of the default project)")
    public List<ProjectService.ProjectView> list() {
        return service.list();
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getProject", summary = "One project with its quotas and usage")
    public ProjectService.ProjectView get(@PathVariable UUID id) {
        return service.get(id);
    }

    @PatchMapping("/{id}")
    @Operation(operationId = "updateProjectQuotas", summary = "Set a project's quotas (null: no limit); an admin of the default project")
    public ProjectService.ProjectView update(@PathVariable UUID id, @RequestBody(required = false) ProjectService.QuotaUpdate body) {
        return service.updateQuotas(id, body);
    }

    @PostMapping("/{id}/keys")
    @Operation(operationId = "createApiKey", summary = "Create an API key {name, scopes:[read|submit|admin|worker]}; the key is in this answer only")
    public ResponseEntity<ProjectService.CreatedKey> createKey(@PathVariable UUID id, @RequestBody(required = false) ProjectService.NewKey body) {
        return ResponseEntity.status(HttpStatus.CREATED).body(service.createKey(id, body));
    }

    @GetMapping("/{id}/keys")
    @Operation(operationId = "listApiKeys", summary = "The project's keys: prefix, scopes, created, last used, revoked")
    public List<ProjectService.KeyView> keys(@PathVariable UUID id) {
        return service.keys(id);
    }

    @DeleteMapping("/{id}/keys/{keyId}")
    @Operation(operationId = "revokeApiKey", summary = "Revoke a key: its next request is refused (401)")
    public ResponseEntity<Void> revoke(@PathVariable UUID id, @PathVariable UUID keyId) {
        service.revokeKey(id, keyId);
        return ResponseEntity.noContent().build();
    }
}
