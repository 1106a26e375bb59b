package dev.quantforge.bench;

import java.time.Duration;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.quantforge.system.FaultCampaign;
import dev.quantforge.system.FaultCampaignChecks;

/**
 * The long fault campaign: {@code ./mvnw -o -Pbench test -Dtest=FaultCampaignBenchmark -Dcampaign.jobs=1000
 * -Dcampaign.chaosSeconds=600} (defaults: 500 jobs, faults for at least 5 minutes; {@code -Dcampaign.seed} picks the
 * schedule). The same assertions as {@code FaultCampaignTest}; the figures go to {@code target/bench/fault-campaign.md}.
 */
@Tag("bench")
class FaultCampaignBenchmark {

    @Test
    void longFaultCampaign() throws Exception {
        FaultCampaign.Outcome o = new FaultCampaign(FaultCampaign.Settings.fromSystemProperties(500, Duration.ofMinutes(5))).run();
        BenchReport r = new BenchReport("fault-campaign");
        r.put("figures", o.figures().replace("\n", "<br>"));
        r.write();
        System.out.println(o.figures());
        FaultCampaignChecks.check(o);
    }
}
