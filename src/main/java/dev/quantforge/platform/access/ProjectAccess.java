package dev.quantforge.platform.access;

import java.util.UUID;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.context.request.RequestContextHolder;

import dev.quantforge.platform.ApiException;

/**
 * The caller's project, for every service that reads or writes project-owned rows. On a request thread the caller is the
 * one the security filter chain authenticated; a request thread without one (a public path) sees no project at all
 * (fail closed). Threads outside a request (in-process workers, the reaper, webhook senders) are the service itself
 * and see every project.
 */
public final class ProjectAccess {

    /** The project of a service without keys, of QF_API_TOKEN, and of everything stored before projects existed. */
    public static final UUID DEFAULT_PROJECT_ID = UUID.fromString("00000000-0000-0000-0000-000000000001");

    /** A project no row belongs to: what a request without a caller is scoped to. */
    private static final UUID NO_PROJECT = new UUID(0, 0);

    private ProjectAccess() {
    }

    public static Caller caller() {
        Authentication a = SecurityContextHolder.getContext().getAuthentication();
        if (a != null && a.getPrincipal() instanceof Caller c) {
            return c;
        }
        if (RequestContextHolder.getRequestAttributes() != null) {
            return new Caller(NO_PROJECT, java.util.EnumSet.noneOf(Scope.class), null, "nobody");
        }
        return Caller.INTERNAL;
    }

    /** The project new objects belong to and lists show. */
    public static UUID current() {
        return caller().projectId();
    }

    /** The project single-object reads are limited to; null when the caller sees every project. */
    public static UUID scope() {
        Caller c = caller();
        return c == Caller.INTERNAL || c.seesAllProjects() ? null : c.projectId();
    }

    public static boolean visible(UUID projectId) {
        UUID s = scope();
        return s == null || s.equals(projectId);
    }

    /** 404 (the same answer as an unknown id: nothing says the object exists) when the caller may not see it. */
    public static void check(UUID projectId, String what, Object id) {
        if (!visible(projectId)) {
            throw ApiException.notFound(what, id);
        }
    }
}
