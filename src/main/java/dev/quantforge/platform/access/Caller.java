package dev.quantforge.platform.access;

import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;

/**
 * Who is calling: a project and the scopes of the key (or of the service's own token, or of open access).
 *
 * @param keyId the API key's id; null for the service token (QF_API_TOKEN), open access and internal work
 * @param name  what the logs call it: "key qf_AbCd1234 (ci)", "QF_API_TOKEN", "open access"
 */
public record Caller(UUID projectId, Set<Scope> scopes, UUID keyId, String name) {

    /** The service's own work (in-process workers, the reaper, webhook senders): every project, no request. */
    public static final Caller INTERNAL = new Caller(ProjectAccess.DEFAULT_PROJECT_ID, EnumSet.allOf(Scope.class), null, "internal");

    public Caller {
        scopes = scopes.isEmpty() ? EnumSet.noneOf(Scope.class) : EnumSet.copyOf(scopes);
    }

    /** The service token and open access: admin of the default project and the worker key of the shared fleet. */
    public static Caller service(String name) {
        return new Caller(ProjectAccess.DEFAULT_PROJECT_ID, EnumSet.allOf(Scope.class), null, name);
    }

    public boolean has(Scope s) {
        return scopes.contains(s);
    }

    /** An admin of the default project: creates projects and manages every project's keys and webhooks. */
    public boolean isRoot() {
        return projectId.equals(ProjectAccess.DEFAULT_PROJECT_ID) && has(Scope.ADMIN);
    }

    /**
     * A worker of the shared fleet (a worker key of the default project, the service token): it runs every project's jobs,
     * so it reads any project's inputs by id. Lists still show the caller's own project.
     */
    public boolean seesAllProjects() {
        return projectId.equals(ProjectAccess.DEFAULT_PROJECT_ID) && has(Scope.WORKER);
    }
}
