package dev.quantforge.platform;

import java.nio.file.Path;

import org.springframework.core.io.FileSystemResource;
import org.springframework.core.io.Resource;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/** A stored blob as a download: attachment with a file name, the sha256 as ETag, streamed from disk. */
public final class Downloads {

    private Downloads() {
    }

    public static ResponseEntity<Resource> blob(Path file, String filename, String sha256, long size) {
        return ResponseEntity.ok()
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment().filename(filename).build().toString())
                .header(HttpHeaders.ETAG, "\"" + sha256 + "\"")
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .contentLength(size)
                .body(new FileSystemResource(file));
    }
}
