package dev.quantforge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Random;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.quantforge.QuantforgeApplication;
import dev.quantforge.testsupport.TestDatabase;

/**
 * Streams a large generated body (default 1 GiB, {@code -Dbench.uploadBytes}) to
 * {@code POST /api/v1/models}, raw and multipart, against the whole service started in this JVM on
 * a fresh database with the upload limit raised to 2 GiB; measures MiB/s and the heap growth of
 * the JVM (server and client) while it runs. The body is not an ONNX model: the answer is 400
 * after the body was stored and hashed, and nothing may be left in {@code <dataDir>/tmp} or
 * {@code <dataDir>/blobs}. Then, on a second instance with a small limit, an upload over the limit
 * must answer 413 and store nothing.
 *
 * <p>Not a test: tagged {@code bench}, run with {@code ./mvnw -o -Pbench test -Dtest=UploadBenchmark}.
 */
@Tag("bench")
class UploadBenchmark {

    private static final long UPLOAD_BYTES = Long.getLong("bench.uploadBytes", 1L << 30);
    private static final long LIMIT = Long.getLong("bench.limitBytes", 2L << 30);
    private static final long SMALL_LIMIT = Long.getLong("bench.smallLimitBytes", 64L << 20);
    private static final long OVER_BYTES = Long.getLong("bench.overBytes", 512L << 20);
    private static final long TEXT_BYTES = Long.getLong("bench.textBytes", 1L << 30);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void streamedUploads() throws Exception {
        BenchReport r = new BenchReport("upload");
        r.put("uploadBytes", UPLOAD_BYTES);
        r.put("limitBytes", LIMIT);

        Path dataDir = Files.createTempDirectory("qf-bench-upload-");
        try (ConfigurableApplicationContext ctx = start(dataDir, LIMIT)) {
            int port = port(ctx);
            // warm-up: a small upload through both paths (JIT, Tomcat threads, multipart parser)
            send(port, false, 8L << 20, 1, null);
            send(port, true, 8L << 20, 2, null);

            for (boolean multipart : new boolean[]{false, true}) {
                String k = multipart ? "multipart" : "raw";
                Sampler s = new Sampler(dataDir.resolve("tmp"));
                Result res = send(port, multipart, UPLOAD_BYTES, multipart ? 4 : 3, s);
                r.put(k + "_status", res.status);
                r.put(k + "_detail", res.body.length() > 200 ? res.body.substring(0, 200) : res.body);
                r.put(k + "_seconds", res.seconds);
                r.put(k + "_MiB_per_s", UPLOAD_BYTES / 1048576.0 / res.seconds);
                r.put(k + "_heap_baseline_MiB", s.baseline / 1048576.0);
                r.put(k + "_heap_peak_minus_baseline_MiB", (s.peakHeap - s.baseline) / 1048576.0);
                r.put(k + "_old_gen_peak_minus_baseline_MiB", (s.peakOld - s.baselineOld) / 1048576.0);
                r.put(k + "_heap_retained_after_gc_MiB", (s.afterGc - s.baseline) / 1048576.0);
                r.put(k + "_gc_count_during_upload", s.gcCount);
                r.put(k + "_allocated_by_tomcat_threads_MiB", s.allocServer / 1048576.0);
                r.put(k + "_allocated_by_client_threads_MiB", s.allocClient / 1048576.0);
                r.put(k + "_allocated_by_all_threads_MiB", s.allocAll / 1048576.0);
                r.put(k + "_tmp_dir_peak_MiB", s.peakTmpBytes / 1048576.0);
                r.put(k + "_tmp_dir_peak_files", s.peakTmpFiles);
                r.put(k + "_tmp_files_left", count(dataDir.resolve("tmp")));
                r.put(k + "_blobs_left", count(dataDir.resolve("blobs")));
                assertThat(res.status).as(k + ": " + res.body).isEqualTo(400);
                assertThat(count(dataDir.resolve("tmp"))).as(k + ": files left in tmp").isZero();
                assertThat(count(dataDir.resolve("blobs"))).as(k + ": blobs stored").isZero();
            }
        }

        // over the limit: a second instance with a small limit
        r.put("over_limitBytes", SMALL_LIMIT);
        r.put("over_sentBytes", OVER_BYTES);
        Path dataDir2 = Files.createTempDirectory("qf-bench-upload-limit-");
        try (ConfigurableApplicationContext ctx = start(dataDir2, SMALL_LIMIT)) {
            int port = port(ctx);
            for (boolean multipart : new boolean[]{false, true}) {
                String k = "over_" + (multipart ? "multipart" : "raw");
                Sampler s = new Sampler(dataDir2.resolve("tmp"));
                Result res = send(port, multipart, OVER_BYTES, multipart ? 6 : 5, s);
                r.put(k + "_status", res.status);
                r.put(k + "_seconds", res.seconds);
                r.put(k + "_client_bytes_generated_before_response", res.generatedAtResponse);
                r.put(k + "_client_bytes_generated_total", res.generatedTotal);
                r.put(k + "_tmp_dir_peak_MiB", s.peakTmpBytes / 1048576.0);
                r.put(k + "_tmp_files_left", count(dataDir2.resolve("tmp")));
                r.put(k + "_blobs_left", count(dataDir2.resolve("blobs")));
                assertThat(res.status).as(k + ": " + res.body).isEqualTo(413);
                assertThat(count(dataDir2.resolve("tmp"))).as(k + ": files left in tmp").isZero();
                assertThat(count(dataDir2.resolve("blobs"))).as(k + ": blobs stored").isZero();
            }
        }
        r.write();
        deleteQuietly(dataDir);
        deleteQuietly(dataDir2);
    }

    /**
     * The same 1 GiB uploads sent by curl from another process, so the only heap in this JVM is the
     * server's: a clean answer to "does an upload grow the server's heap?" (goal: < 64 MB).
     */
    @Test
    void streamedUploadsFromCurl() throws Exception {
        BenchReport r = new BenchReport("upload-curl");
        r.put("uploadBytes", UPLOAD_BYTES);
        Path dataDir = Files.createTempDirectory("qf-bench-upload-curl-");
        Path body = Files.createTempFile("qf-bench-body-", ".bin");
        // a sparse file of zeros: its first byte (0) ends ONNX parsing at once, so the 400 measures streaming only
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(body.toFile(), "rw")) {
            f.setLength(UPLOAD_BYTES);
        }
        try (ConfigurableApplicationContext ctx = start(dataDir, LIMIT)) {
            int port = port(ctx);
            for (boolean multipart : new boolean[]{false, true}) {
                String k = multipart ? "multipart" : "raw";
                List<String> cmd = multipart
                        ? List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-F", "file=@" + body + ";filename=bench.onnx",
                        "http://127.0.0.1:" + port + "/api/v1/models")
                        : List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-T", body.toString(),
                        "-H", "Content-Type: application/octet-stream", "http://127.0.0.1:" + port + "/api/v1/models?name=bench-raw");
                Sampler s = new Sampler(dataDir.resolve("tmp"));
                s.start();
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String status = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
                p.waitFor();
                double secs = (System.nanoTime() - t0) / 1e9;
                s.stop();
                r.put(k + "_status", status);
                r.put(k + "_seconds", secs);
                r.put(k + "_MiB_per_s", UPLOAD_BYTES / 1048576.0 / secs);
                r.put(k + "_heap_peak_minus_baseline_MiB", (s.peakHeap - s.baseline) / 1048576.0);
                r.put(k + "_old_gen_peak_minus_baseline_MiB", (s.peakOld - s.baselineOld) / 1048576.0);
                r.put(k + "_heap_retained_after_gc_MiB", (s.afterGc - s.baseline) / 1048576.0);
                r.put(k + "_allocated_by_all_threads_MiB", s.allocAll / 1048576.0);
                r.put(k + "_tmp_dir_peak_files", s.peakTmpFiles);
                assertThat(status).isEqualTo("400");
                assertThat(count(dataDir.resolve("tmp"))).isZero();
            }
        } finally {
            Files.deleteIfExists(body);
        }
        r.write();
        deleteQuietly(dataDir);
    }

    /**
     * A text dataset of {@code bench.textBytes} (default 1 GiB: the 330 SNLI sentences of bench/data repeated, ~23
     * million lines) sent by curl with tinybert's tokenizer.json at maxLength 8: the upload scan reads and tokenizes
     * every line, and the server's heap must not grow with the file (it holds one line at a time).
     */
    @Test
    void textUploadFromCurl() throws Exception {
        BenchReport r = new BenchReport("upload-text");
        Path dataDir = Files.createTempDirectory("qf-bench-upload-text-");
        Path text = Files.createTempFile("qf-bench-text-", ".txt");
        long lines = 0;
        byte[] sentences = Files.readAllBytes(dev.quantforge.testsupport.TextModels.snliSentences());
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(text), 1 << 20)) {
            for (long written = 0; written + sentences.length <= TEXT_BYTES; written += sentences.length) {
                out.write(sentences);
                lines += 330;
            }
        }
        r.put("textBytes", Files.size(text));
        r.put("lines", lines);
        try (ConfigurableApplicationContext ctx = start(dataDir, LIMIT)) {
            int port = port(ctx);
            Sampler s = new Sampler(dataDir.resolve("tmp"));
            s.start();
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder("curl", "-s", "-w", "\n%{http_code}", "-F", "file=@" + text + ";filename=bench.txt",
                    "-F", "tokenizer=@" + dev.quantforge.testsupport.TextModels.tinybertTokenizer(), "-F", "text={\"maxLength\":8}",
                    "http://127.0.0.1:" + port + "/api/v1/datasets").redirectErrorStream(true).start();
            String answer = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor();
            double secs = (System.nanoTime() - t0) / 1e9;
            s.stop();
            String status = answer.substring(answer.lastIndexOf('\n') + 1);
            r.put("status", status);
            r.put("seconds", secs);
            r.put("MiB_per_s", Files.size(text) / 1048576.0 / secs);
            r.put("sentences_per_s", lines / secs);
            r.put("heap_peak_minus_baseline_MiB", (s.peakHeap - s.baseline) / 1048576.0);
            r.put("old_gen_peak_minus_baseline_MiB", (s.peakOld - s.baselineOld) / 1048576.0);
            r.put("heap_retained_after_gc_MiB", (s.afterGc - s.baseline) / 1048576.0);
            assertThat(status).as(answer).isEqualTo("201");
            assertThat(answer).contains("\"sampleCount\":" + lines);
            assertThat(count(dataDir.resolve("tmp"))).isZero();
        } finally {
            Files.deleteIfExists(text);
        }
        r.write();
        deleteQuietly(dataDir);
    }

    /**
     * A valid 1 GiB dataset ({@code bench.uploadBytes}: one .npy of float32 zeros, a sparse file) sent by curl, once to a
     * service on filesystem storage and once to one on S3 storage (a real s3proxy), in the same run: received to a
     * temp file while hashed, validated (every value read), then moved into the blob directory or put into the bucket
     * as a multipart upload of 16 MiB parts. The server's heap must not keep anything of the file (goal < 64 MB
     * retained), the object must be in the bucket at full size, the temp area empty, and a delete must remove it.
     */
    @Test
    void datasetUploadToFilesystemAndS3FromCurl() throws Exception {
        BenchReport r = new BenchReport("upload-s3");
        dev.quantforge.testsupport.S3Proxy s3 = dev.quantforge.testsupport.S3Proxy.get();
        Path npy = Files.createTempFile("qf-bench-s3-", ".npy");
        long values = (UPLOAD_BYTES - 128) / 4 / 784 * 784;
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + values / 784 + ", 1, 28, 28), }";
        // npy v1: magic (6) + version (2) + header length (2) + header padded with spaces and '\n' to a multiple of 64
        String header = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) (header.length() & 0xff), (byte) (header.length() >> 8)};
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(npy.toFile(), "rw")) {
            f.write(magic);
            f.write(header.getBytes(StandardCharsets.US_ASCII));
            f.setLength(10 + header.length() + values * 4);
        }
        r.put("uploadBytes", Files.size(npy));
        try {
            for (String storage : List.of("filesystem", "s3")) {
                String bucket = storage.equals("s3") ? s3.newBucket() : null;
                Path dataDir = Files.createTempDirectory("qf-bench-upload-" + storage + "-");
                List<String> args = new java.util.ArrayList<>(List.of("--server.port=0", "--QF_DATA_DIR=" + dataDir,
                        "--QF_UPLOAD_MAX_BYTES=" + LIMIT, "--qf.roles=api", "--spring.jmx.enabled=false"));
                if (bucket != null) {
                    args.addAll(s3.serviceArgs(bucket, ""));
                }
                try (ConfigurableApplicationContext ctx = start(args)) {
                    int port = port(ctx);
                    Sampler sampler = new Sampler(dataDir.resolve("tmp"));
                    sampler.start();
                    long t0 = System.nanoTime();
                    Process p = new ProcessBuilder("curl", "-s", "-w", "\n%{http_code}", "-F", "file=@" + npy + ";filename=bench.npy",
                            "http://127.0.0.1:" + port + "/api/v1/datasets").redirectErrorStream(true).start();
                    String answer = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                    p.waitFor();
                    double secs = (System.nanoTime() - t0) / 1e9;
                    sampler.stop();
                    String status = answer.substring(answer.lastIndexOf('\n') + 1);
                    r.put(storage + "_status", status);
                    r.put(storage + "_seconds", secs);
                    r.put(storage + "_MiB_per_s", Files.size(npy) / 1048576.0 / secs);
                    r.put(storage + "_heap_peak_minus_baseline_MiB", (sampler.peakHeap - sampler.baseline) / 1048576.0);
                    r.put(storage + "_old_gen_peak_minus_baseline_MiB", (sampler.peakOld - sampler.baselineOld) / 1048576.0);
                    r.put(storage + "_heap_retained_after_gc_MiB", (sampler.afterGc - sampler.baseline) / 1048576.0);
                    r.put(storage + "_tmp_dir_peak_MiB", sampler.peakTmpBytes / 1048576.0);
                    assertThat(status).as(answer).isEqualTo("201");
                    assertThat(count(dataDir.resolve("tmp"))).isZero();
                    if (bucket != null) {
                        String id = answer.replaceAll("(?s).*\"id\":\"([0-9a-f-]{36})\".*", "$1");
                        // (s3proxy's filesystem backend lists its directories too)
                        List<software.amazon.awssdk.services.s3.model.S3Object> objects = s3.client().listObjectsV2(l -> l.bucket(bucket))
                                .contents().stream().filter(o -> !o.key().endsWith("/")).toList();
                        r.put("s3_object_bytes", objects.isEmpty() ? 0 : objects.get(0).size());
                        assertThat(objects).hasSize(1);
                        assertThat(objects.get(0).size()).isEqualTo(Files.size(npy));
                        HttpResponse<String> deleted = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/api/v1/datasets/" + id)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
                        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(204);
                        assertThat(s3.client().listObjectsV2(l -> l.bucket(bucket)).contents().stream().filter(o -> !o.key().endsWith("/")))
                                .as("deleted from the bucket").isEmpty();
                    }
                }
                deleteQuietly(dataDir);
            }
        } finally {
            Files.deleteIfExists(npy);
        }
        r.write();
    }

    /** The service as deployed: QF_DATA_DIR and QF_UPLOAD_MAX_BYTES drive qf.* and the multipart settings alike. */
    private static ConfigurableApplicationContext start(Path dataDir, long limit) {
        return start(List.of("--server.port=0", "--QF_DATA_DIR=" + dataDir, "--QF_UPLOAD_MAX_BYTES=" + limit, "--qf.roles=api",
                "--spring.jmx.enabled=false"));
    }

    /** On a fresh database, with these arguments. */
    private static ConfigurableApplicationContext start(List<String> args) {
        TestDatabase.assumeAvailable();
        String url = TestDatabase.newDatabase();
        List<String> all = new java.util.ArrayList<>(List.of("--spring.datasource.url=" + url,
                "--spring.datasource.username=" + TestDatabase.username(), "--spring.datasource.password=" + TestDatabase.password()));
        all.addAll(args);
        return new SpringApplicationBuilder(QuantforgeApplication.class).run(all.toArray(String[]::new));
    }

    private static int port(ConfigurableApplicationContext ctx) {
        return Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
    }

    record Result(int status, String body, double seconds, long generatedAtResponse, long generatedTotal) {
    }

    private Result send(int port, boolean multipart, long size, long seed, Sampler sampler) throws Exception {
        Generator gen = new Generator(size, seed);
        HttpRequest.Builder b;
        long contentLength;
        InputStream body;
        if (multipart) {
            String boundary = "qfbench" + UUID.randomUUID().toString().replace("-", "");
            byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.onnx\"\r\n"
                    + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
            contentLength = head.length + size + tail.length;
            body = new SequenceInputStream(new ByteArrayInputStream(head), new SequenceInputStream(gen, new ByteArrayInputStream(tail)));
            b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/models?name=bench-multipart"))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary);
        } else {
            contentLength = size;
            body = gen;
            b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/models?name=bench-raw"))
                    .header("Content-Type", "application/octet-stream");
        }
        HttpRequest req = b.timeout(Duration.ofMinutes(15))
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> body), contentLength))
                .build();
        if (sampler != null) {
            sampler.start();
        }
        long t0 = System.nanoTime();
        HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
        double s = (System.nanoTime() - t0) / 1e9;
        long atResponse = gen.generated.get();
        if (sampler != null) {
            sampler.stop();
        }
        return new Result(res.statusCode(), res.body(), s, atResponse, gen.generated.get());
    }

    /**
     * A deterministic pseudo-random body generated on the fly from a 1 MiB block (varied per block):
     * nothing near the body's size is ever held in memory. The first byte is 0, which ends protobuf
     * parsing at once (tag 0), so the service answers 400 "not an ONNX model" without the parser
     * allocating anything large: the measurement is of the streaming path.
     */
    static final class Generator extends InputStream {
        private final byte[] block = new byte[1 << 20];
        private final long size;
        final AtomicLong generated = new AtomicLong();
        private long pos;

        Generator(long size, long seed) {
            this.size = size;
            new Random(seed).nextBytes(block);
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - pos);
            long blockNo = pos >>> 20;
            int inBlock = (int) (pos & ((1 << 20) - 1));
            n = Math.min(n, block.length - inBlock);
            System.arraycopy(block, inBlock, b, off, n);
            b[off] ^= (byte) blockNo; // vary the blocks
            if (pos == 0) {
                b[off] = 0;
            }
            pos += n;
            generated.set(pos);
            return n;
        }
    }

    /** Samples heap used (all heap pools and the old generation) and the tmp dir every 50 ms. */
    static final class Sampler {
        private final Path tmp;
        private final AtomicBoolean running = new AtomicBoolean();
        private Thread thread;
        long baseline;
        long baselineOld;
        volatile long peakHeap;
        volatile long peakOld;
        volatile long peakTmpBytes;
        volatile long peakTmpFiles;
        long afterGc;
        long gcCount;
        long allocServer;
        long allocClient;
        long allocAll;
        private long gcBefore;
        private java.util.Map<Long, Long> allocBefore;

        Sampler(Path tmp) {
            this.tmp = tmp;
        }

        void start() throws InterruptedException {
            gc();
            baseline = heapUsed();
            baselineOld = oldUsed();
            peakHeap = baseline;
            peakOld = baselineOld;
            gcBefore = gcs();
            allocBefore = allocations();
            running.set(true);
            thread = new Thread(() -> {
                while (running.get()) {
                    peakHeap = Math.max(peakHeap, heapUsed());
                    peakOld = Math.max(peakOld, oldUsed());
                    long[] t = tmpUsage();
                    peakTmpBytes = Math.max(peakTmpBytes, t[0]);
                    peakTmpFiles = Math.max(peakTmpFiles, t[1]);
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "bench-heap-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
            gcCount = gcs() - gcBefore;
            com.sun.management.ThreadMXBean tm = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            for (java.lang.management.ThreadInfo ti : tm.getThreadInfo(tm.getAllThreadIds())) {
                if (ti == null) {
                    continue;
                }
                long now = tm.getThreadAllocatedBytes(ti.getThreadId());
                long delta = now - allocBefore.getOrDefault(ti.getThreadId(), 0L);
                if (now < 0 || delta <= 0) {
                    continue;
                }
                allocAll += delta;
                if (ti.getThreadName().startsWith("http-nio")) {
                    allocServer += delta;
                } else if (ti.getThreadName().startsWith("HttpClient")) {
                    allocClient += delta;
                }
            }
            gc();
            afterGc = heapUsed();
        }

        /** Bytes allocated so far per live thread (HotSpot's per-thread allocation counter). */
        private static java.util.Map<Long, Long> allocations() {
            com.sun.management.ThreadMXBean tm = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            java.util.Map<Long, Long> m = new java.util.HashMap<>();
            for (long id : tm.getAllThreadIds()) {
                m.put(id, tm.getThreadAllocatedBytes(id));
            }
            return m;
        }

        private long[] tmpUsage() {
            long bytes = 0;
            long files = 0;
            try (Stream<Path> s = Files.list(tmp)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    try {
                        bytes += Files.size(p);
                        files++;
                    } catch (IOException e) {
                        // deleted meanwhile
                    }
                }
            } catch (IOException e) {
                // not there (yet)
            }
            return new long[]{bytes, files};
        }

        private static void gc() throws InterruptedException {
            for (int i = 0; i < 2; i++) {
                System.gc();
                Thread.sleep(100);
            }
        }

        private static long heapUsed() {
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }

        private static long oldUsed() {
            long used = 0;
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                if (p.getType() == MemoryType.HEAP && (p.getName().contains("Old") || p.getName().contains("Tenured"))) {
                    used += p.getUsage().getUsed();
                }
            }
            return used;
        }

        private static long gcs() {
            return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(g -> Math.max(0, g.getCollectionCount())).sum();
        }
    }

    private static long count(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

}
