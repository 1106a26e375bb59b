package dev.quantforge.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

import com.zaxxer.hikari.HikariDataSource;

import dev.quantforge.testsupport.TestDatabase;

/**
 * The PostgreSQL queue under concurrency, on a database of its own (no service running against
 * it): every job claimed exactly once, leases, reaping, fencing, cancel, retry, priorities.
 */
class JobQueueTest {

    private static HikariDataSource ds;
    private static JdbcClient jdbc;
    private static JobRepository jobs;
    private static UUID modelId;

    @BeforeAll
    static void database() {
        ds = TestDatabase.newMigratedDataSource(12);
        jdbc = JdbcClient.create(ds);
        jobs = new JobRepository(jdbc);
        modelId = TestDatabase.insertPlaceholderModel(jdbc);
    }

    @AfterAll
    static void close() {
        if (ds != null) {
            ds.close();
        }
    }

    @BeforeEach
    void emptyQueue() {
        jdbc.sql("delete from job").update();
    }

    private static UUID enqueue(int priority, List<String> requirements, int maxAttempts) {
        UUID id = UUID.randomUUID();
        assertThat(jobs.insert(new JobRepository.NewJob(id, "benchmark", modelId, null, null, null, "{}", priority,
                requirements, maxAttempts, null))).isTrue();
        return id;
    }

    @Test
    void concurrentClaimersClaimEveryJobExactlyOnce() throws Exception {
        int n = 400;
        Set<UUID> queued = new HashSet<>();
        for (int i = 0; i < n; i++) {
            queued.add(enqueue(i % 3, List.of("cpu"), 3));
        }
        int claimers = 8;
        ConcurrentLinkedQueue<UUID> claimed = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(claimers);
        CountDownLatch start = new CountDownLatch(1);
        for (int c = 0; c < claimers; c++) {
            String worker = "w" + c;
            pool.submit(() -> {
                start.await();
                Optional<JobRecord> j;
                while ((j = jobs.claim(worker, List.of("cpu", "onnxruntime"), 60)).isPresent()) {
                    claimed.add(j.get().id());
                }
                return null;
            });
        }
        start.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(2, TimeUnit.MINUTES)).isTrue();
        List<UUID> all = new ArrayList<>(claimed);
        assertThat(all).hasSize(n);
        assertThat(new HashSet<>(all)).isEqualTo(queued);
        assertThat(jdbc.sql("select count(*) from job where state = 'running' and attempts = 1").query(Long.class).single()).isEqualTo(n);
    }

    @Test
    void higherPriorityFirstThenOldestFirst() {
        UUID low = enqueue(0, List.of(), 3);
        UUID high = enqueue(5, List.of(), 3);
        UUID low2 = enqueue(0, List.of(), 3);
        assertThat(jobs.claim("w", List.of(), 60).orElseThrow().id()).isEqualTo(high);
        assertThat(jobs.claim("w", List.of(), 60).orElseThrow().id()).isEqualTo(low);
        assertThat(jobs.claim("w", List.of(), 60).orElseThrow().id()).isEqualTo(low2);
        assertThat(jobs.claim("w", List.of(), 60)).isEmpty();
    }

    @Test
    void aWorkerOnlyClaimsJobsItsCapabilitiesCover() {
        UUID gpu = enqueue(10, List.of("cuda", "tensorrt"), 3);
        UUID cpu = enqueue(0, List.of("onnxruntime"), 3);
        assertThat(jobs.claim("cpu-worker", List.of("cpu", "onnxruntime"), 60).orElseThrow().id()).isEqualTo(cpu);
        assertThat(jobs.claim("cpu-worker", List.of("cpu", "onnxruntime"), 60)).isEmpty();
        assertThat(jobs.claim("gpu-worker", List.of("cpu", "onnxruntime", "cuda", "tensorrt"), 60).orElseThrow().id()).isEqualTo(gpu);
        jobs.markUnservable(List.of(List.of("cpu", "onnxruntime")));
    }

    @Test
    void unservableJobsSaySoInTheirProgressMessage() {
        UUID gpu = enqueue(0, List.of("cuda"), 3);
        jobs.markUnservable(List.of(List.of("cpu", "onnxruntime")));
        assertThat(jobs.find(gpu).orElseThrow().progressMessage()).contains("no live worker has the capabilities cuda");
        jobs.markUnservable(List.of(List.of("cpu", "cuda")));
        assertThat(jobs.find(gpu).orElseThrow().progressMessage()).isEqualTo("waiting for a worker");
        // the message names what is missing, not everything required
        UUID both = enqueue(0, List.of("cpu", "tensorrt"), 3);
        jobs.markUnservable(List.of(List.of("cpu", "onnxruntime"), List.of("cuda")));
        assertThat(jobs.find(both).orElseThrow().progressMessage())
                .isEqualTo("waiting: no live worker has the capabilities tensorrt (the job requires cpu, tensorrt)");
        // every tag is somewhere, but no single worker has them all
        jobs.markUnservable(List.of(List.of("cpu"), List.of("tensorrt")));
        assertThat(jobs.find(both).orElseThrow().progressMessage()).isEqualTo("waiting: no live worker has all the capabilities cpu, tensorrt");
        jobs.markUnservable(List.of(List.of("cpu", "tensorrt")));
        assertThat(jobs.find(both).orElseThrow().progressMessage()).isEqualTo("waiting for a worker");
    }

    @Test
    void expiredLeaseIsRequeuedThenFailedAfterMaxAttempts() throws Exception {
        UUID id = enqueue(0, List.of(), 2);
        jobs.claim("dead-1", List.of(), 1).orElseThrow();
        Thread.sleep(1500);
        List<JobRepository.Reaped> reaped = jobs.reapExpiredLeases();
        assertThat(reaped).extracting(JobRepository.Reaped::id).contains(id);
        JobRecord requeued = jobs.find(id).orElseThrow();
        assertThat(requeued.state()).isEqualTo(JobState.QUEUED);
        assertThat(requeued.attempts()).isEqualTo(1);
        assertThat(requeued.progressMessage()).contains("requeued");

        JobRecord second = jobs.claim("dead-2", List.of(), 1).orElseThrow();
        assertThat(second.attempts()).isEqualTo(2);
        Thread.sleep(1500);
        jobs.reapExpiredLeases();
        JobRecord failed = jobs.find(id).orElseThrow();
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        assertThat(failed.errorCode()).isEqualTo("worker_lost");
        assertThat(failed.errorMessage()).contains("lease expired").contains("2 attempts");
        assertThat(failed.finishedAt()).isNotNull();
    }

    @Test
    void aJobWhoseWorkerDiedCompletesOnALaterAttemptAndTheDeadWorkerCannotWrite() throws Exception {
        UUID id = enqueue(0, List.of(), 3);
        jobs.claim("dead", List.of(), 1).orElseThrow();
        Thread.sleep(1500);
        jobs.reapExpiredLeases();
        JobRecord again = jobs.claim("alive", List.of(), 60).orElseThrow();
        assertThat(again.id()).isEqualTo(id);
        // the dead worker wakes up: every write of its is fenced off
        assertThat(jobs.heartbeat(id, "dead", 60, 0.5, "x", "y")).isEmpty();
        assertThat(jobs.complete(id, "dead", "{\"stale\":true}")).isFalse();
        assertThat(jobs.fail(id, "dead", "x", "y", false)).isEmpty();
        assertThat(jobs.heartbeat(id, "alive", 60, 0.5, "run", "half")).contains(false);
        assertThat(jobs.complete(id, "alive", "{\"ok\":true}")).isTrue();
        JobRecord done = jobs.find(id).orElseThrow();
        assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).isEqualTo(2);
        assertThat(done.resultJson()).contains("ok");
    }

    @Test
    void cancelQueuedAtOnceAndRunningAtTheNextHeartbeat() {
        UUID queued = enqueue(0, List.of(), 3);
        assertThat(jobs.requestCancel(queued)).contains(JobState.CANCELLED);
        UUID running = enqueue(0, List.of(), 3);
        jobs.claim("w", List.of(), 60).orElseThrow();
        assertThat(jobs.requestCancel(running)).contains(JobState.RUNNING);
        assertThat(jobs.heartbeat(running, "w", 60, null, null, null)).contains(true);
        assertThat(jobs.markCancelled(running, "w")).isTrue();
        assertThat(jobs.find(running).orElseThrow().state()).isEqualTo(JobState.CANCELLED);
        assertThat(jobs.requestCancel(UUID.randomUUID())).isEmpty();
    }

    @Test
    void failureIsRetriedWhenRetryableElseFinal() {
        UUID id = enqueue(0, List.of(), 3);
        jobs.claim("w", List.of(), 60);
        assertThat(jobs.fail(id, "w", "internal_error", "boom", true)).contains(JobState.QUEUED);
        jobs.claim("w", List.of(), 60);
        assertThat(jobs.fail(id, "w", "invalid_input", "bad data", false)).contains(JobState.FAILED);
        JobRecord failed = jobs.find(id).orElseThrow();
        assertThat(failed.errorMessage()).isEqualTo("bad data");
        assertThat(jobs.retry(id)).isTrue();
        JobRecord retried = jobs.find(id).orElseThrow();
        assertThat(retried.state()).isEqualTo(JobState.QUEUED);
        assertThat(retried.attempts()).isZero();
        assertThat(retried.errorCode()).isNull();
        assertThat(jobs.retry(id)).as("a queued job cannot be retried").isFalse();
    }

    @Test
    void anIdempotencyKeyIsUsedOnce() {
        String key = "k-" + UUID.randomUUID();
        assertThat(jobs.insert(new JobRepository.NewJob(UUID.randomUUID(), "benchmark", modelId, null, null, null, "{}", 0,
                List.of(), 3, key))).isTrue();
        assertThat(jobs.insert(new JobRepository.NewJob(UUID.randomUUID(), "benchmark", modelId, null, null, null, "{}", 0,
                List.of(), 3, key))).isFalse();
        assertThat(jobs.findByIdempotencyKey(key)).isPresent();
    }
}
