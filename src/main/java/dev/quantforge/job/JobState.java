package dev.quantforge.job;

import java.util.Locale;

/** queued → running → succeeded | failed | cancelled; failed and cancelled jobs can be retried (→ queued). */
public enum JobState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    public static JobState fromApiName(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
