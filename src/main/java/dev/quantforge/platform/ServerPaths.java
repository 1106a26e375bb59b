package dev.quantforge.platform;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps the server's own file paths out of what users read (problem details, job errors): an error
 * message from a library ("Load model from /srv/data/tmp/…/upload-1.part failed") says where the
 * server keeps its files, which is no business of the client's and does not help it fix its input.
 * Paths under the data directory, the temp directory, the working and the home directory are
 * replaced; the caller logs the original.
 */
public final class ServerPaths {

    public static final String PLACEHOLDER = "<server file>";

    private static final List<String> ROOTS = new CopyOnWriteArrayList<>();

    static {
        for (String property : new String[]{"java.io.tmpdir", "user.dir", "user.home"}) {
            String value = System.getProperty(property);
            if (value != null) {
                addRoot(Path.of(value));
            }
        }
    }

    private ServerPaths() {
    }

    /** Another directory whose paths are never shown (the data directory, resolved at start-up). */
    public static void addRoot(Path dir) {
        String root = dir.toAbsolutePath().normalize().toString();
        // "/" would hide every absolute path, API paths in messages included
        if (root.length() > 1 && !ROOTS.contains(root)) {
            ROOTS.add(root);
            ROOTS.sort(Comparator.comparingInt(String::length).reversed());
        }
    }

    /** {@code text} with every server path replaced by {@link #PLACEHOLDER}; null stays null. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String root : ROOTS) {
            if (out.contains(root)) {
                out = Pattern.compile(Pattern.quote(root) + "(?![\\w.-])[^\\s'\"`,;()\\[\\]{}<>]*")
                        .matcher(out).replaceAll(Matcher.quoteReplacement(PLACEHOLDER));
            }
        }
        return out;
    }

    /** {@code text} with the given file's path replaced by a description of it ("the uploaded file"), then redacted. */
    public static String describe(String text, Path file, String description) {
        if (text == null) {
            return null;
        }
        return redact(text.replace(file.toAbsolutePath().toString(), description).replace(file.toString(), description));
    }
}
