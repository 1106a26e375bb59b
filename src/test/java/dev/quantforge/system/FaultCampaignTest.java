package dev.quantforge.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.quantforge.testsupport.S3Proxy;
import dev.quantforge.testsupport.SharedData;
import dev.quantforge.testsupport.TestDatabase;

/**
 * The bounded fault campaign of the default test run ({@link FaultCampaign}: 2 API replicas, 3 remote workers,
 * PostgreSQL and s3proxy as real processes; 100 short jobs while workers, a replica, PostgreSQL and the object store
 * fail on a seeded schedule). {@code -Dcampaign.seed=...} replays a failing run; the long version is
 * {@code bench/FaultCampaignBenchmark}.
 */
class FaultCampaignTest {

    @Test
    void nothingIsLostWhileWorkersAReplicaPostgresqlAndTheObjectStoreFail() throws Exception {
        TestDatabase.assumeAvailable();
        SharedData.file("mnist/mnist-8.onnx");
        S3Proxy.get();
        FaultCampaign.Outcome o = new FaultCampaign(FaultCampaign.Settings.fromSystemProperties(100, Duration.ofSeconds(70))).run();
        System.out.println(o.figures());
        FaultCampaignChecks.check(o);
    }
}
