package dev.quantforge.platform.access;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * What a key may do. {@code read}: every GET of its project; {@code submit}: read + uploads, jobs, cancel, retry,
 * deletes; {@code admin}: submit + the project's keys and webhooks (in the default project: every project);
 * {@code worker}: the remote worker protocol + read.
 */
public enum Scope {
    READ, SUBMIT, ADMIN, WORKER;

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The Spring Security authority a scope grants (rules in ApiSecurity). */
    public String authority() {
        return "SCOPE_" + apiName();
    }

    public static Scope fromApiName(String s) {
        for (Scope v : values()) {
            if (v.apiName().equals(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException(s);
    }

    /** The scope with the ones it implies (admin ⊃ submit ⊃ read; worker ⊃ read). */
    public static Set<Scope> closure(Set<Scope> given) {
        Set<Scope> out = given.isEmpty() ? EnumSet.noneOf(Scope.class) : EnumSet.copyOf(given);
        if (out.contains(ADMIN)) {
            out.add(SUBMIT);
        }
        if (out.contains(SUBMIT) || out.contains(WORKER)) {
            out.add(READ);
        }
        return out;
    }
}
