package dev.quantforge.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import jakarta.servlet.MultipartConfigElement;

/**
 * Multipart uploads go straight to disk under the data dir (threshold 0: no part is buffered in
 * the heap), and a part over {@code qf.upload.max-bytes} is refused by the servlet container
 * while it streams (413), before the service copies it into the blob store.
 */
@Configuration(proxyBeanMethods = false)
public class UploadConfig {

    @Bean
    MultipartConfigElement multipartConfigElement(QfProperties props) {
        Path tmp = props.tmpDir().toAbsolutePath().normalize();
        try {
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the upload directory " + tmp, e);
        }
        return new MultipartConfigElement(tmp.toString(), props.upload().maxBytes(), -1, 0);
    }
}
