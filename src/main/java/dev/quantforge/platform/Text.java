package dev.quantforge.platform;

import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;

/**
 * Text on its way into PostgreSQL, which cannot store the NUL character (U+0000) in {@code text} or
 * {@code jsonb}. Names that are only labels and free text (logs, messages) lose it; values that mean
 * something (config entries, capability keys, identifiers) are refused with a 400 naming the field.
 */
public final class Text {

    private Text() {
    }

    /** A name that is only a label: control characters removed, trimmed; null when nothing is left. */
    public static String label(String name) {
        if (name == null) {
            return null;
        }
        String cleaned = name.codePoints().filter(c -> !Character.isISOControl(c))
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString().trim();
        return cleaned.isEmpty() ? null : cleaned;
    }

    /** Free text (a log line, an error or progress message) as PostgreSQL can store it: without NUL. */
    public static String storable(String text) {
        return text == null || text.indexOf('\0') < 0 ? text : text.replace("\0", "");
    }

    /** The JSON path (below {@code path}) of the first key or string value holding a NUL, or null when none does. */
    public static String nulPath(JsonNode node, String path) {
        if (node == null) {
            return null;
        }
        if (node.isString()) {
            return node.stringValue().indexOf('\0') >= 0 ? path : null;
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String p = nulPath(node.get(i), path + "[" + i + "]");
                if (p != null) {
                    return p;
                }
            }
        } else if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String p = (path.isEmpty() ? "" : path + ".") + e.getKey().replace("\0", "\\u0000");
                if (e.getKey().indexOf('\0') >= 0) {
                    return p;
                }
                p = nulPath(e.getValue(), p);
                if (p != null) {
                    return p;
                }
            }
        }
        return null;
    }

    /** Refuses (400) a request value that holds a NUL anywhere, naming where. */
    public static void requireNoNul(JsonNode node, String path) {
        String at = nulPath(node, path);
        if (at != null) {
            throw ApiException.invalid(List.of(new ApiException.FieldError(at.isEmpty() ? "body" : at,
                    "must not contain the NUL character (\\u0000)")));
        }
    }
}
