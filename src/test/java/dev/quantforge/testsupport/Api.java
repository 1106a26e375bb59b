package dev.quantforge.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** A small HTTP client for tests: talks to the running service exactly as curl or an SDK would. */
public final class Api {

    public static final ObjectMapper JSON = JsonMapper.builder().build();

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private String token;

    public Api(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    /** Sends "Authorization: Bearer token" with every request from now on (null: none). */
    public Api withToken(String token) {
        this.token = token;
        return this;
    }

    /** A response: status, content type and the body parsed as JSON (null when not JSON). */
    public record Res(int status, String contentType, String body, JsonNode json) {
        public String detail() {
            return json == null ? null : json.path("detail").asString("");
        }
    }

    public Res get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    /** The raw bytes of a download. */
    public byte[] getBytes(String path) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            HttpResponse<byte[]> r = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET " + path + " → " + r.statusCode());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Res delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    public Res postJson(String path, Object body, String... headers) {
        String text = body instanceof String s ? s : JSON.writeValueAsString(body);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(text));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b);
    }

    public Res patchJson(String path, Object body) {
        String text = body instanceof String s ? s : JSON.writeValueAsString(body);
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(text)));
    }

    public Res postRaw(String path, byte[] body) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** multipart/form-data with a file part "file" and text parts. */
    public Res upload(String path, Path file, Map<String, String> fields) {
        try {
            return upload(path, file.getFileName().toString(), Files.readAllBytes(file), fields);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Res upload(String path, String filename, byte[] content, Map<String, String> fields) {
        return upload(path, Map.of("file", new FilePart(filename, content)), fields);
    }

    /** A file part of a multipart upload. */
    public record FilePart(String filename, byte[] content) {
        public static FilePart of(Path file) {
            try {
                return new FilePart(file.getFileName().toString(), Files.readAllBytes(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** multipart/form-data with file parts (name → file) and text parts. */
    public Res upload(String path, Map<String, FilePart> files, Map<String, String> fields) {
        String boundary = "qf" + UUID.randomUUID().toString().replace("-", "");
        List<byte[]> parts = new ArrayList<>();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            parts.add(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n"
                    + f.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        for (Map.Entry<String, FilePart> f : files.entrySet()) {
            parts.add(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"; filename=\""
                    + f.getValue().filename() + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            parts.add(f.getValue().content());
            parts.add("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        parts.add(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArrays(parts)));
    }

    public Res send(HttpRequest.Builder b) {
        try {
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            HttpResponse<String> r = http.send(b.timeout(Duration.ofMinutes(5)).build(), HttpResponse.BodyHandlers.ofString());
            String ct = r.headers().firstValue("Content-Type").orElse("");
            JsonNode json = null;
            if (ct.contains("json") && !r.body().isEmpty()) {
                json = JSON.readTree(r.body());
            }
            return new Res(r.statusCode(), ct, r.body(), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public URI uri(String path) {
        return URI.create(base + path);
    }

    public HttpClient client() {
        return http;
    }

    /** Polls GET path until {@code until} holds; fails after {@code timeout}. */
    public JsonNode await(String path, Predicate<JsonNode> until, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            Res r = get(path);
            last = r.json();
            if (r.status() == 200 && until.test(last)) {
                return last;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("timed out waiting on " + path + "; last: " + last);
    }

    /** Waits for a job to reach a final state and returns it. */
    public JsonNode awaitJob(String jobId, Duration timeout) {
        return await("/api/v1/jobs/" + jobId, j -> java.util.Set.of("succeeded", "failed", "cancelled").contains(j.path("state").asString()),
                timeout);
    }
}
