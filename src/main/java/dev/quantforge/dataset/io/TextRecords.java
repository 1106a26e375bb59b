package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** The samples of a text file in order, one per non-blank line, streamed. */
final class TextRecords implements Closeable {

    static final String TEXT = "text";
    static final String TEXT_PAIR = "textPair";
    static final String LABEL = "label";
    private static final List<String> JSONL_KEYS = List.of(TEXT, TEXT_PAIR, LABEL);

    private static final ObjectMapper JSON = JsonMapper.builder().build();

    /**
     * One sample.
     *
     * @param line  1-based line number in the file (for messages)
     * @param pair  the second segment of a sentence pair, or null
     * @param label class index, or null
     */
    record TextRecord(long line, String text, String pair, Long label) {
    }

    private final Utf8Lines lines;
    private final TextLayout layout;

    TextRecords(Path file, TextLayout layout) throws IOException {
        this.lines = new Utf8Lines(file);
        this.layout = layout;
    }

    /** The next sample, or null at the end. */
    TextRecord next() throws IOException {
        for (String line = lines.next(); line != null; line = lines.next()) {
            if (line.isBlank()) {
                continue;
            }
            return layout == TextLayout.TXT ? new TextRecord(lines.lineNumber(), line, null, null) : parseJson(line, lines.lineNumber());
        }
        return null;
    }

    private static TextRecord parseJson(String line, long number) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JacksonException e) {
            throw new InvalidInputException("line " + number + " is not JSON (" + e.getOriginalMessage() + "); a .jsonl dataset has one"
                    + " object per line, such as {\"text\": \"A sentence.\"}");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidInputException("line " + number + " is not a JSON object; a .jsonl dataset has one object per line, such"
                    + " as {\"text\": \"A sentence.\"}");
        }
        for (String key : node.propertyNames()) {
            if (!JSONL_KEYS.contains(key)) {
                throw new InvalidInputException("line " + number + " has the key '" + key + "'; the keys of a .jsonl line are "
                        + String.join(", ", JSONL_KEYS));
            }
        }
        String text = requiredText(node, TEXT, number);
        String pair = node.has(TEXT_PAIR) ? requiredText(node, TEXT_PAIR, number) : null;
        Long label = null;
        if (node.has(LABEL)) {
            JsonNode l = node.get(LABEL);
            if (!l.isIntegralNumber() || !l.canConvertToLong() || l.longValue() < 0) {
                throw new InvalidInputException("line " + number + ": 'label' must be a class index (an integer >= 0), got " + l);
            }
            label = l.longValue();
        }
        return new TextRecord(number, text, pair, label);
    }

    private static String requiredText(JsonNode node, String key, long number) {
        JsonNode value = node.get(key);
        if (value == null || !value.isString()) {
            throw new InvalidInputException("line " + number + ": '" + key + "' must be a string"
                    + (value == null ? ", and it is missing" : ", got " + value));
        }
        if (value.stringValue().isBlank()) {
            throw new InvalidInputException("line " + number + ": '" + key + "' is empty");
        }
        return value.stringValue();
    }

    @Override
    public void close() throws IOException {
        lines.close();
    }
}
