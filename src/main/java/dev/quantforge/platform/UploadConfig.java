package dev.quantforge.platform;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import jakarta.servlet.MultipartConfigElement;

/**
 * Multipart uploads go straight to disk in the instance's scratch folder (threshold 0: no part is buffered in
 * the heap), and a part over {@code qf.upload.max-bytes} is refused by the servlet container
 * while it streams (413), before the service copies it into the blob store.
 */
@Configuration(proxyBeanMethods = false)
public class UploadConfig {

    @Bean
    MultipartConfigElement multipartConfigElement(QfProperties props, InstanceDirectory instance) {
        // this process's scratch folder: a crash's half-received upload is deleted with the rest of it
        return new MultipartConfigElement(instance.scratch().toString(), props.upload().maxBytes(), -1, 0);
    }
}
