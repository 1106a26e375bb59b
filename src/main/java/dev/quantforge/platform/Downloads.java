package dev.quantforge.platform;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.Normalizer;

import org.springframework.core.io.FileSystemResource;
import org.springframework.core.io.Resource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/** A stored blob as a download: attachment with a file name, the sha256 as ETag, streamed from disk. */
public final class Downloads {

    private static final String FALLBACK_NAME = "download";

    private Downloads() {
    }

    public static ResponseEntity<Resource> blob(Path file, String filename, String sha256, long size) {
        return blob(new FileSystemResource(file), filename, sha256, size);
    }

    /** As {@link #blob(Path, String, String, long)} for a body streamed from the blob store (a file, or an object store's stream). */
    public static ResponseEntity<Resource> blob(Resource body, String filename, String sha256, long size) {
        return ResponseEntity.ok()
                .header(HttpHeaders.CONTENT_DISPOSITION, contentDisposition(filename))
                .header(HttpHeaders.ETAG, "\"" + sha256 + "\"")
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .contentLength(size)
                .body(body);
    }

    /**
     * {@code attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>} (RFC 6266 with RFC 5987):
     * clients that read {@code filename*} get the name as uploaded, older ones an ASCII approximation.
     * Only the last path segment is used, without control characters or leading dots, so a stored
     * name such as {@code ../../etc/passwd} never reaches a client as a path.
     */
    public static String contentDisposition(String filename) {
        String name = safeName(filename);
        return "attachment; filename=\"" + asciiFallback(name) + "\"; filename*=UTF-8''" + rfc5987(name);
    }

    static String safeName(String filename) {
        String name = filename == null ? "" : filename.replace('\\', '/');
        name = name.substring(name.lastIndexOf('/') + 1);
        name = name.codePoints().filter(c -> !Character.isISOControl(c))
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString().strip();
        name = name.replaceFirst("^[.\\s]+", "");
        return name.isEmpty() ? FALLBACK_NAME : name;
    }

    /** Accents dropped (é → e), anything else outside printable ASCII and the quoting characters become '_'. */
    static String asciiFallback(String name) {
        String decomposed = Normalizer.normalize(name, Normalizer.Form.NFKD).replaceAll("\\p{M}", "");
        StringBuilder out = new StringBuilder();
        decomposed.codePoints().forEach(c -> out.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' ? (char) c : '_'));
        return out.toString();
    }

    /** RFC 5987 value-chars: attr-char as is, every other UTF-8 byte as %XX. */
    static String rfc5987(String name) {
        StringBuilder out = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$&+-.^_`|~".indexOf(c) >= 0) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
