package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lines of a UTF-8 file, one at a time (a file of any size streams through a fixed buffer). Line ends are
 * {@code \n} or {@code \r\n}; a byte-order mark before the first line is dropped. Bytes that are not UTF-8 and
 * lines over {@link #MAX_LINE_BYTES} are refused, naming the line.
 */
final class Utf8Lines implements Closeable {

    /** Longest line accepted: a sentence (or a JSON object holding one) longer than this is not a sentence. */
    static final int MAX_LINE_BYTES = 1 << 20;

    private final InputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;
    private byte[] line = new byte[4096];
    private long lineNumber;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);

    Utf8Lines(Path file) throws IOException {
        this.in = Files.newInputStream(file);
    }

    /** The 1-based number of the line {@link #next()} returned last. */
    long lineNumber() {
        return lineNumber;
    }

    /** The next line without its line end, or null at the end of the file. */
    String next() throws IOException {
        int length = 0;
        boolean any = false;
        while (true) {
            if (position == limit) {
                limit = in.read(buffer, 0, buffer.length);
                position = 0;
                if (limit <= 0) {
                    limit = 0;
                    break;
                }
            }
            any = true;
            int end = position;
            while (end < limit && buffer[end] != '\n') {
                end++;
            }
            int chunk = end - position;
            if (length + chunk > MAX_LINE_BYTES) {
                throw new InvalidInputException("line " + (lineNumber + 1) + " is longer than " + MAX_LINE_BYTES + " bytes; a text"
                        + " dataset holds one sentence per line (is this a text file?)");
            }
            if (length + chunk > line.length) {
                line = java.util.Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, Math.max(line.length * 2, length + chunk)));
            }
            System.arraycopy(buffer, position, line, length, chunk);
            length += chunk;
            position = end;
            if (end < limit) {
                position++; // the '\n'
                break;
            }
        }
        if (!any) {
            return null;
        }
        lineNumber++;
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        int start = 0;
        if (lineNumber == 1 && length >= 3 && (line[0] & 0xFF) == 0xEF && (line[1] & 0xFF) == 0xBB && (line[2] & 0xFF) == 0xBF) {
            start = 3;
        }
        return decode(start, length);
    }

    private String decode(int start, int end) {
        ByteBuffer bytes = ByteBuffer.wrap(line, start, end - start);
        CharBuffer chars = CharBuffer.allocate(end - start);
        decoder.reset();
        CoderResult result = decoder.decode(bytes, chars, true);
        if (result.isError()) {
            throw new InvalidInputException("line " + lineNumber + " is not UTF-8: byte " + (bytes.position() - start + 1)
                    + " of the line is 0x" + String.format("%02x", line[bytes.position()] & 0xFF)
                    + "; save the text as UTF-8");
        }
        decoder.flush(chars);
        chars.flip();
        String text = chars.toString();
        if (text.indexOf('\0') >= 0) {
            throw new InvalidInputException("line " + lineNumber + " contains a NUL character; a text dataset is UTF-8 text, not a"
                    + " binary file");
        }
        return text;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
