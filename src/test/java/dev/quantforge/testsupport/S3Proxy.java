package dev.quantforge.testsupport;

import java.io.IOException;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Assumptions;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3-compatible server for the tests: s3proxy (org.gaul, filesystem backend under a temp dir) in a JVM of
 * its own, from the shaded jar Maven copies to {@code target/s3proxy/s3proxy.jar} (its Jetty 11 and jclouds never
 * meet the service's classpath). One per test JVM, started on first use, killed at exit. Without the jar or when it
 * does not start, tests are skipped with the reason — and fail with it under {@code REQUIRE_DATA=true} or
 * {@code REQUIRE_DB=true} (CI).
 */
public final class S3Proxy {

    public static final String ACCESS_KEY = "qf-test-access";
    public static final String SECRET_KEY = "qf-test-secret-key";

    private static S3Proxy instance;
    private static String failure;

    private volatile Process process;
    private final String endpoint;
    private final S3Client client;
    private final Path dir;
    private final int port;

    private S3Proxy(Process process, String endpoint, Path dir, int port) {
        this.process = process;
        this.endpoint = endpoint;
        this.dir = dir;
        this.port = port;
        this.client = client(endpoint);
    }

    /** The running server (started now if needed); skips or fails (CI) the calling test when it cannot start. */
    public static synchronized S3Proxy get() {
        if (instance == null && failure == null) {
            try {
                instance = start();
            } catch (Exception e) {
                failure = e.getMessage();
            }
        }
        if (instance == null) {
            String message = "s3proxy is not available: " + failure;
            if ("true".equalsIgnoreCase(System.getenv("REQUIRE_DATA")) || "true".equalsIgnoreCase(System.getenv("REQUIRE_DB"))) {
                throw new AssertionError(message + " (REQUIRE_DATA / REQUIRE_DB: the S3 tests must run)");
            }
            Assumptions.assumeTrue(false, message);
        }
        return instance;
    }

    private static S3Proxy start() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("qf-s3proxy-");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Process p = launch(dir, port);
        return new S3Proxy(p, "http://127.0.0.1:" + port, dir, port);
    }

    /**
     * A server of the caller's own (not the shared one), which it may {@link #kill()} and {@link #restart()} on the
     * same port and data: for tests of an object-store outage. Fails (or skips) like {@link #get()}.
     */
    public static S3Proxy dedicated() {
        try {
            return start();
        } catch (Exception e) {
            String message = "s3proxy is not available: " + e.getMessage();
            if ("true".equalsIgnoreCase(System.getenv("REQUIRE_DATA")) || "true".equalsIgnoreCase(System.getenv("REQUIRE_DB"))) {
                throw new AssertionError(message + " (REQUIRE_DATA / REQUIRE_DB: the S3 tests must run)");
            }
            Assumptions.assumeTrue(false, message);
            throw new IllegalStateException(message);
        }
    }

    /** kill -9: the store becomes unreachable (connections refused) until {@link #restart()}. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** Starts the server again on the same port with the same objects. */
    public void restart() throws IOException, InterruptedException {
        process = launch(dir, port);
    }

    /** Runs s3proxy on {@code port} over {@code dir}/data and waits until it answers. */
    private static Process launch(Path dir, int port) throws IOException, InterruptedException {
        Path jar = Path.of("target", "s3proxy", "s3proxy.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IOException(jar + " is missing (Maven copies it in generate-test-resources: run the tests through ./mvnw)");
        }
        Path data = Files.createDirectories(dir.resolve("data"));
        String endpoint = "http://127.0.0.1:" + port;
        Path conf = dir.resolve("s3proxy.conf");
        Files.writeString(conf, String.join("\n",
                "s3proxy.endpoint=" + endpoint,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + data, ""));
        Path log = dir.resolve("s3proxy.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(), "--properties", conf.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        S3Client probe = client(endpoint);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        try (probe) {
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    throw new IOException("s3proxy exited with " + p.exitValue() + ": " + tail(log));
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                    probe.listBuckets();
                    return p;
                } catch (IOException | RuntimeException notYet) {
                    Thread.sleep(200);
                }
            }
        }
        p.destroyForcibly();
        throw new IOException("s3proxy did not answer on " + endpoint + " within 90 s: " + tail(log));
    }

    private static S3Client client(String endpoint) {
        return S3Client.builder().endpointOverride(URI.create(endpoint)).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED).build();
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.substring(Math.max(0, s.length() - 2000));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public String endpoint() {
        return endpoint;
    }

    public S3Client client() {
        return client;
    }

    /** A new empty bucket (each test service gets its own). */
    public String newBucket() {
        String bucket = "qf-" + UUID.randomUUID().toString().substring(0, 13);
        client.createBucket(b -> b.bucket(bucket));
        return bucket;
    }

    /** Every key in the bucket under {@code prefix}. */
    public List<String> keys(String bucket, String prefix) {
        return client.listObjectsV2Paginator(l -> l.bucket(bucket).prefix(prefix)).contents().stream().map(S3Object::key).toList();
    }

    /** The service's arguments for this bucket (credentials as system properties: the SDK's default chain reads them). */
    public List<String> serviceArgs(String bucket, String prefix) {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET_KEY);
        return List.of("--qf.storage.type=s3", "--qf.storage.s3.endpoint=" + endpoint, "--qf.storage.s3.bucket=" + bucket,
                "--qf.storage.s3.prefix=" + prefix, "--qf.storage.s3.path-style=true", "--qf.storage.s3.part-size-mb=5");
    }

}
