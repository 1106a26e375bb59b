package dev.quantforge.system;

import static org.assertj.core.api.Assertions.assertThat;

/** What a fault campaign must show (FaultCampaignTest and the long benchmark). */
public final class FaultCampaignChecks {

    private FaultCampaignChecks() {
    }

    /** The campaign's assertions (shared with the benchmark). */
    public static void check(FaultCampaign.Outcome o) {
        String context = o.figures() + "\n" + o.logs();
        assertThat(o.unfinished()).as("every job ended\n" + context).isEmpty();
        assertThat(o.jobs()).hasSize(o.settings().jobs());
        for (FaultCampaign.EndedJob j : o.jobs()) {
            if (j.state().equals("failed")) {
                assertThat(j.errorRetryable() && j.attempts() >= o.settings().maxAttempts())
                        .as("job %s failed only with a retryable cause after maxAttempts: %s\n%s", j.id(), j, context).isTrue();
            } else {
                assertThat(j.state()).as(j.toString()).isEqualTo("succeeded");
                assertThat(j.succeededLogLines()).as("job %s completed once", j.id()).isEqualTo(1);
            }
            assertThat(j.orphanReports()).as("job %s: one report set (its result names all its reports)", j.id()).isEmpty();
            assertThat(j.duplicateArtifactKinds()).as("job %s: one artifact set", j.id()).isEmpty();
        }
        assertThat(o.missingBlobs()).as("every row's content is in the bucket\n" + context).isEmpty();
        assertThat(o.serverErrors()).as("no 5xx but 503 with Retry-After while a dependency was down\n" + context).isEmpty();
        assertThat(o.unhealthyAfter()).as("healthy after\n" + context).isEmpty();
        assertThat(o.notHandedBack()).as("a SIGTERM'd worker hands its job back\n" + context).isEmpty();
        assertThat(o.kills()).containsKeys("worker kill -9", "api replica kill -9", "postgresql restart", "object store down 10 s");
    }
}
