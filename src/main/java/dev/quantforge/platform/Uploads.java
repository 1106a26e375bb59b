package dev.quantforge.platform;

import java.util.List;

import org.springframework.web.multipart.MultipartHttpServletRequest;

/** Checks of multipart uploads common to models and datasets. */
public final class Uploads {

    private Uploads() {
    }

    /** Each named part (file or text) at most once: a second 'file' part is refused, never silently ignored. */
    public static void requireSingleParts(MultipartHttpServletRequest request, String... names) {
        for (String name : names) {
            String[] values = request.getParameterValues(name);
            int count = request.getFiles(name).size() + (values == null ? 0 : values.length);
            if (count > 1) {
                throw ApiException.invalid(List.of(new ApiException.FieldError(name,
                        "was sent " + count + " times; send exactly one part named '" + name + "'")));
            }
        }
    }
}
