package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a NumPy .npy array (format versions 1.0, 2.0 and 3.0): element type, byte order
 * and shape. The data follows the header in C order until the end of the array.
 *
 * @param dataOffset bytes from the start of the array to its first data byte
 */
public record NpyHeader(ElementType elementType, boolean bigEndian, long[] shape, long dataOffset) {

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** Real headers are a few hundred bytes; refuse absurd lengths before allocating. */
    private static final int MAX_HEADER_LENGTH = 1 << 20;

    /** Reads the header from {@code in}, leaving the stream at the first data byte. */
    public static NpyHeader read(InputStream in, String arrayName) throws IOException {
        byte[] prefix = in.readNBytes(8);
        if (prefix.length < 8 || !DatasetFormat.startsWith(prefix, MAGIC)) {
            throw corrupt(arrayName, "it does not start with the .npy magic \\x93NUMPY");
        }
        int major = prefix[6] & 0xFF;
        int minor = prefix[7] & 0xFF;
        int lengthBytes = switch (major) {
            case 1 -> 2;
            case 2, 3 -> 4;
            default -> throw corrupt(arrayName, "unsupported format version " + major + "." + minor + " (1.0, 2.0 and 3.0 are supported)");
        };
        byte[] lengthField = in.readNBytes(lengthBytes);
        if (lengthField.length < lengthBytes) {
            throw corrupt(arrayName, "the header ends early");
        }
        long headerLength = 0;
        for (int i = lengthBytes - 1; i >= 0; i--) {
            headerLength = (headerLength << 8) | (lengthField[i] & 0xFF);
        }
        if (headerLength > MAX_HEADER_LENGTH) {
            throw corrupt(arrayName, "header length " + headerLength + " is implausible");
        }
        byte[] headerBytes = in.readNBytes((int) headerLength);
        if (headerBytes.length < headerLength) {
            throw corrupt(arrayName, "the header ends early");
        }
        String text = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Object parsed;
        try {
            parsed = new LiteralParser(text).parseTopLevel();
        } catch (IllegalArgumentException e) {
            throw corrupt(arrayName, "the header dictionary is malformed (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map<?, ?> dict)) {
            throw corrupt(arrayName, "the header is not a dictionary");
        }
        Object descr = dict.get("descr");
        Object fortranOrder = dict.get("fortran_order");
        Object shapeValue = dict.get("shape");
        if (descr == null || fortranOrder == null || shapeValue == null) {
            throw corrupt(arrayName, "the header lacks one of 'descr', 'fortran_order', 'shape'");
        }
        if (!(descr instanceof String dtype)) {
            throw new InvalidInputException("array '" + arrayName + "' has a structured dtype (" + descr
                    + "), which is not supported; store each field as its own array");
        }
        if (Boolean.TRUE.equals(fortranOrder)) {
            throw new InvalidInputException("array '" + arrayName + "' is stored in Fortran (column-major) order, which is not"
                    + " supported; save it with np.ascontiguousarray(arr)");
        }
        if (!(shapeValue instanceof List<?> dims)) {
            throw corrupt(arrayName, "'shape' is not a tuple");
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0) {
                throw corrupt(arrayName, "'shape' entry " + dims.get(i) + " is not a non-negative integer");
            }
            shape[i] = d;
        }
        boolean bigEndian = dtype.startsWith(">");
        NpyHeader header = new NpyHeader(elementType(dtype, arrayName), bigEndian, shape, 8 + lengthBytes + headerLength);
        header.dataBytes(); // rejects shapes whose byte size overflows
        return header;
    }

    /** Maps a NumPy dtype string such as {@code <f4} or {@code |u1} to an element type. */
    static ElementType elementType(String descr, String arrayName) {
        String code = descr.isEmpty() || "<>|=".indexOf(descr.charAt(0)) < 0 ? descr : descr.substring(1);
        return switch (code) {
            case "f2" -> ElementType.FLOAT16;
            case "f4" -> ElementType.FLOAT32;
            case "f8" -> ElementType.FLOAT64;
            case "i1" -> ElementType.INT8;
            case "u1" -> ElementType.UINT8;
            case "i2" -> ElementType.INT16;
            case "u2" -> ElementType.UINT16;
            case "i4" -> ElementType.INT32;
            case "u4" -> ElementType.UINT32;
            case "i8" -> ElementType.INT64;
            case "u8" -> ElementType.UINT64;
            case "b1" -> ElementType.BOOL;
            default -> throw new InvalidInputException("array '" + arrayName + "' has dtype '" + descr + "'"
                    + describeUnsupported(code) + "; supported are float16/32/64, (u)int8/16/32/64 and bool"
                    + " — convert it with arr.astype(np.float32)");
        };
    }

    private static String describeUnsupported(String code) {
        if (code.startsWith("O")) {
            return " (Python objects)";
        }
        if (code.startsWith("U") || code.startsWith("S")) {
            return " (strings)";
        }
        if (code.startsWith("c")) {
            return " (complex numbers)";
        }
        if (code.startsWith("M") || code.startsWith("m")) {
            return " (dates/times)";
        }
        return "";
    }

    private static InvalidInputException corrupt(String arrayName, String why) {
        return new InvalidInputException("array '" + arrayName + "' is not a valid .npy file: " + why
                + "; write it with numpy.save or numpy.savez");
    }

    /** Samples = length of the first axis; a 0-d array has none. */
    public long sampleCount() {
        return shape.length == 0 ? 0 : shape[0];
    }

    /** Bytes of one sample (one index of the first axis). */
    public long sampleBytes() {
        long n = elementType.byteSize();
        for (int i = 1; i < shape.length; i++) {
            n = Math.multiplyExact(n, shape[i]);
        }
        return n;
    }

    public long dataBytes() {
        try {
            long n = elementType.byteSize();
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        } catch (ArithmeticException e) {
            throw new InvalidInputException("array shape " + Arrays.toString(shape) + " is too large");
        }
    }

    /** The shape as {@link TensorInfo}-style list of {@link Long}. */
    public List<Object> shapeList() {
        List<Object> list = new ArrayList<>();
        for (long d : shape) {
            list.add(d);
        }
        return list;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyHeader h && h.elementType == elementType && h.bigEndian == bigEndian
                && Arrays.equals(h.shape, shape) && h.dataOffset == dataOffset;
    }

    @Override
    public int hashCode() {
        return elementType.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "NpyHeader[" + elementType.apiName() + (bigEndian ? " big-endian " : " ") + Arrays.toString(shape) + "]";
    }

    /** Parses the Python literal subset NumPy writes: dicts, tuples, lists, strings, ints, True/False/None. */
    private static final class LiteralParser {
        /** A header NumPy writes nests two deep; a deeper one is refused before the recursion can overflow the stack. */
        private static final int MAX_DEPTH = 32;
        private final String s;
        private int pos;
        private int depth;

        LiteralParser(String s) {
            this.s = s;
        }

        Object parseTopLevel() {
            Object value = parseValue();
            skipSpace();
            if (pos != s.length()) {
                throw new IllegalArgumentException("unexpected text after the dictionary at offset " + pos);
            }
            return value;
        }

        private Object parseValue() {
            if (++depth > MAX_DEPTH) {
                throw new IllegalArgumentException("values nested more than " + MAX_DEPTH + " deep at offset " + pos);
            }
            try {
                return parseValueAt();
            } finally {
                depth--;
            }
        }

        private Object parseValueAt() {
            skipSpace();
            if (pos >= s.length()) {
                throw new IllegalArgumentException("unexpected end");
            }
            char c = s.charAt(pos);
            if (c == '{') {
                pos++;
                Map<String, Object> map = new LinkedHashMap<>();
                while (true) {
                    skipSpace();
                    if (peek('}')) {
                        pos++;
                        return map;
                    }
                    Object key = parseValue();
                    if (!(key instanceof String k)) {
                        throw new IllegalArgumentException("dictionary key is not a string at offset " + pos);
                    }
                    skipSpace();
                    expect(':');
                    map.put(k, parseValue());
                    skipSpace();
                    if (peek(',')) {
                        pos++;
                    } else if (!peek('}')) {
                        throw new IllegalArgumentException("expected ',' or '}' at offset " + pos);
                    }
                }
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                pos++;
                List<Object> items = new ArrayList<>();
                while (true) {
                    skipSpace();
                    if (peek(close)) {
                        pos++;
                        return items;
                    }
                    items.add(parseValue());
                    skipSpace();
                    if (peek(',')) {
                        pos++;
                    } else if (!peek(close)) {
                        throw new IllegalArgumentException("expected ',' or '" + close + "' at offset " + pos);
                    }
                }
            }
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, pos + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated string at offset " + pos);
                }
                String str = s.substring(pos + 1, end);
                pos = end + 1;
                return str;
            }
            if (Character.isDigit(c) || c == '-') {
                int start = pos++;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                    pos++;
                }
                try {
                    long v = Long.parseLong(s.substring(start, pos));
                    if (pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) {
                        pos++; // Python 2 long suffix in old headers
                    }
                    return v;
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad integer at offset " + start);
                }
            }
            for (String word : new String[] {"True", "False", "None"}) {
                if (s.startsWith(word, pos)) {
                    pos += word.length();
                    return word.equals("None") ? "None" : Boolean.valueOf(word.equals("True"));
                }
            }
            throw new IllegalArgumentException("unexpected character '" + c + "' at offset " + pos);
        }

        private boolean peek(char c) {
            return pos < s.length() && s.charAt(pos) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at offset " + pos);
            }
            pos++;
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }
    }
}
