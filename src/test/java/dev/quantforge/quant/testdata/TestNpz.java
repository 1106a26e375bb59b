package dev.quantforge.quant.testdata;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Test-only npz reader: loads every array of a small .npz into memory (little-endian, C order,
 * the dtypes our test files use) and serves it as a {@link SampleSource}; the array "labels" is
 * the label column. Not the production reader.
 */
public final class TestNpz implements SampleSource {

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=])([a-z])(\\d+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private final Map<String, NdArray> arrays;
    private final long[] labels;

    private TestNpz(Map<String, NdArray> arrays, long[] labels) {
        this.arrays = arrays;
        this.labels = labels;
    }

    public static TestNpz read(Path npz) throws IOException {
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        long[] labels = null;
        try (ZipFile zip = new ZipFile(npz.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                String name = entry.getName().replaceFirst("\\.npy$", "");
                NdArray array;
                try (InputStream in = zip.getInputStream(entry)) {
                    array = readNpy(in.readAllBytes());
                }
                if (name.equals("labels")) {
                    labels = array.toLongArray();
                } else {
                    arrays.put(name, array);
                }
            }
        }
        return new TestNpz(arrays, labels);
    }

    /**
     * The first {@code count} MNIST IDX images (gzip) as float32 [count,1,28,28] raw pixel values
     * 0..255 under {@code tensorName}, with their labels.
     */
    public static TestNpz fromIdx(Path imagesGz, Path labelsGz, String tensorName, int count) throws IOException {
        byte[] images;
        byte[] labelBytes;
        try (InputStream in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(imagesGz))) {
            images = in.readAllBytes();
        }
        try (InputStream in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(labelsGz))) {
            labelBytes = in.readAllBytes();
        }
        int pixels = 28 * 28;
        ByteBuffer data = ByteBuffer.allocate(count * pixels * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count * pixels; i++) {
            data.putFloat(images[16 + i] & 0xFF);
        }
        long[] labels = new long[count];
        for (int i = 0; i < count; i++) {
            labels[i] = labelBytes[8 + i] & 0xFF;
        }
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        arrays.put(tensorName, new NdArray(ElementType.FLOAT32, new long[] {count, 1, 28, 28}, data.rewind()));
        return new TestNpz(arrays, labels);
    }

    static NdArray readNpy(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes[0] != (byte) 0x93 || !new String(bytes, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IllegalArgumentException("not an npy array");
        }
        int major = bytes[6];
        int headerLength = major == 1 ? buf.getShort(8) & 0xFFFF : buf.getInt(8);
        int headerStart = major == 1 ? 10 : 12;
        String header = new String(bytes, headerStart, headerLength, StandardCharsets.ISO_8859_1);
        if (header.contains("'fortran_order': True")) {
            throw new IllegalArgumentException("fortran order not supported");
        }
        Matcher descr = DESCR.matcher(header);
        Matcher shapeMatch = SHAPE.matcher(header);
        if (!descr.find() || !shapeMatch.find()) {
            throw new IllegalArgumentException("bad npy header: " + header);
        }
        ElementType type = switch (descr.group(2) + descr.group(3)) {
            case "f4" -> ElementType.FLOAT32;
            case "f8" -> ElementType.FLOAT64;
            case "i8" -> ElementType.INT64;
            case "i4" -> ElementType.INT32;
            case "u1" -> ElementType.UINT8;
            case "i1" -> ElementType.INT8;
            default -> throw new IllegalArgumentException("dtype not supported: " + descr.group(0));
        };
        List<Long> dims = new ArrayList<>();
        for (String part : shapeMatch.group(1).split(",")) {
            if (!part.isBlank()) {
                dims.add(Long.parseLong(part.trim()));
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        ByteBuffer data = ByteBuffer.wrap(bytes, headerStart + headerLength, bytes.length - headerStart - headerLength).slice();
        return new NdArray(type, shape, data);
    }

    /** A copy whose tensor {@code from} is renamed {@code to} and multiplied by {@code scale} (as float32). */
    public TestNpz scaled(String from, String to, float scale) {
        Map<String, NdArray> copy = new LinkedHashMap<>();
        arrays.forEach((name, array) -> {
            if (!name.equals(from)) {
                copy.put(name, array);
                return;
            }
            float[] values = array.toFloatArray();
            ByteBuffer out = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                out.putFloat(v * scale);
            }
            copy.put(to, new NdArray(ElementType.FLOAT32, array.shape(), out.rewind()));
        });
        return new TestNpz(copy, labels);
    }

    /** A copy without labels. */
    public TestNpz withoutLabels() {
        return new TestNpz(arrays, null);
    }

    @Override
    public List<TensorInfo> tensors() {
        List<TensorInfo> infos = new ArrayList<>();
        arrays.forEach((name, array) -> {
            List<Object> shape = new ArrayList<>();
            for (long d : array.shape()) {
                shape.add(d);
            }
            infos.add(new TensorInfo(name, array.elementType(), shape));
        });
        return infos;
    }

    @Override
    public long sampleCount() {
        return arrays.values().iterator().next().shape()[0];
    }

    @Override
    public boolean hasLabels() {
        return labels != null;
    }

    @Override
    public BatchIterator batches(int batchSize, long maxSamples) {
        long end = Math.min(maxSamples, sampleCount());
        return new BatchIterator() {
            long next = 0;

            @Override
            public boolean hasNext() {
                return next < end;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int size = (int) Math.min(batchSize, end - next);
                Map<String, NdArray> slices = new LinkedHashMap<>();
                arrays.forEach((name, array) -> slices.put(name, slice(array, next, size)));
                long[] batchLabels = labels == null ? null : java.util.Arrays.copyOfRange(labels, (int) next, (int) next + size);
                Batch batch = new Batch(next, size, slices, batchLabels);
                next += size;
                return batch;
            }

            @Override
            public void close() {
            }
        };
    }

    private static NdArray slice(NdArray array, long first, int count) {
        long perSample = array.elementCount() / array.shape()[0];
        int bytesPerSample = Math.toIntExact(perSample * array.elementType().byteSize());
        ByteBuffer data = array.data().duplicate();
        data.position(Math.toIntExact(first * bytesPerSample));
        data.limit(data.position() + count * bytesPerSample);
        long[] shape = array.shape().clone();
        shape[0] = count;
        return new NdArray(array.elementType(), shape, data.slice());
    }
}
