package dev.quantforge.report;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeSet;

import tools.jackson.databind.JsonNode;

/**
 * A stable hash of an effective per-layer configuration: sha256 of its canonical JSON (object keys
 * sorted, no whitespace, numbers in shortest form). The same configuration measured by different
 * jobs gets the same hash, which is how the results database groups them.
 */
public final class ConfigHash {

    private ConfigHash() {
    }

    public static String of(JsonNode config) {
        StringBuilder sb = new StringBuilder();
        canonical(config, sb);
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void canonical(JsonNode n, StringBuilder sb) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            sb.append("null");
        } else if (n.isObject()) {
            sb.append('{');
            boolean first = true;
            for (String key : new TreeSet<>(n.propertyNames())) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                quote(key, sb);
                sb.append(':');
                canonical(n.get(key), sb);
            }
            sb.append('}');
        } else if (n.isArray()) {
            sb.append('[');
            for (int i = 0; i < n.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                canonical(n.get(i), sb);
            }
            sb.append(']');
        } else if (n.isNumber()) {
            if (n.canConvertToExactIntegral()) {
                sb.append(n.bigIntegerValue());
            } else {
                sb.append(Double.toString(n.asDouble()));
            }
        } else if (n.isBoolean()) {
            sb.append(n.asBoolean());
        } else {
            quote(n.asString(), sb);
        }
    }

    private static void quote(String s, StringBuilder sb) {
        sb.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
