package dev.quantforge.dataset.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** How the lines of a text dataset are written. */
public enum TextLayout {
    /** One sentence per line. */
    TXT("txt"),
    /** One JSON object per line: {@code {"text": "...", "textPair": "...", "label": 3}}. */
    JSONL("jsonl");

    private final String apiName;

    TextLayout(String apiName) {
        this.apiName = apiName;
    }

    public String apiName() {
        return apiName;
    }

    public static TextLayout fromApiName(String name) {
        for (TextLayout l : values()) {
            if (l.apiName.equals(name)) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown text layout '" + name + "'");
    }

    /**
     * By the file name's extension ({@code .jsonl} / {@code .ndjson}, {@code .txt}); otherwise JSONL when the first
     * non-blank line starts with '{'.
     */
    public static TextLayout detect(Path file, String originalFilename) throws IOException {
        String name = originalFilename == null ? "" : originalFilename.toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
            return JSONL;
        }
        if (name.endsWith(".txt")) {
            return TXT;
        }
        try (Utf8Lines lines = new Utf8Lines(file)) {
            for (String line = lines.next(); line != null; line = lines.next()) {
                if (!line.isBlank()) {
                    return line.stripLeading().startsWith("{") ? JSONL : TXT;
                }
            }
        }
        return TXT;
    }
}
