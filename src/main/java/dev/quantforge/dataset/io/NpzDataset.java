package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;

/**
 * An .npz (zip of {@code <name>.npy} entries, stored or deflated) read as a dataset: every array
 * but {@code labels} is a tensor named after its entry; {@code labels}, when present, holds one
 * integer class index per sample. Each pass streams all entries in lockstep without seeking.
 */
public final class NpzDataset implements SampleSource {

    public static final String LABELS = "labels";

    private record Array(String name, String entryName, NpyHeader header) {
    }

    private final Path file;
    private final ZipLimits limits;
    private final double scale;
    private final List<Array> tensorArrays;
    private final Array labelArray;
    private final List<TensorInfo> tensors;
    private final long sampleCount;

    public NpzDataset(Path file, Preprocessing preprocessing, ZipLimits limits) throws IOException {
        this.file = file;
        this.limits = limits;
        this.scale = preprocessing.validateForArrays().scale();
        List<Array> arrays = new ArrayList<>();
        Array labels = null;
        try (SafeZip zip = SafeZip.open(file, limits)) {
            for (ZipEntry entry : zip.files()) {
                String entryName = entry.getName();
                if (SafeZip.isJunk(entryName) || !entryName.toLowerCase(Locale.ROOT).endsWith(".npy")) {
                    continue; // a README or similar next to the arrays is harmless
                }
                String name = entryName.substring(0, entryName.length() - 4);
                NpyHeader header;
                try (InputStream in = zip.open(entry)) {
                    header = NpyHeader.read(in, name);
                }
                if (header.shape().length == 0) {
                    throw new InvalidInputException("array '" + name + "' is a scalar (shape ()); every array needs a first"
                            + " axis with one entry per sample");
                }
                long expectedSize = header.dataOffset() + header.dataBytes();
                if (entry.getSize() >= 0 && entry.getSize() != expectedSize) {
                    throw new InvalidInputException("array '" + name + "' holds " + (entry.getSize() - header.dataOffset())
                            + " data bytes but its shape " + header.shapeList() + " " + header.elementType().apiName()
                            + " needs " + header.dataBytes() + "; the file is truncated or corrupt");
                }
                Array array = new Array(name, entryName, header);
                if (name.equals(LABELS)) {
                    checkLabels(header);
                    labels = array;
                } else {
                    arrays.add(array);
                }
            }
        }
        if (arrays.isEmpty()) {
            throw new InvalidInputException(labels == null
                    ? "the npz contains no .npy arrays; save the data with numpy.savez(path, <input name>=array)"
                    : "the npz contains only 'labels'; add the input arrays, keyed by the model's input names");
        }
        List<Array> all = new ArrayList<>(arrays);
        if (labels != null) {
            all.add(labels);
        }
        if (all.stream().map(a -> a.header.sampleCount()).distinct().count() > 1) {
            throw new InvalidInputException("the arrays have different first-axis lengths, but the first axis is the sample"
                    + " axis and must be equal for all arrays: " + all.stream()
                    .map(a -> "'" + a.name + "' has " + a.header.sampleCount())
                    .collect(Collectors.joining(", ")));
        }
        this.tensorArrays = List.copyOf(arrays);
        this.labelArray = labels;
        this.sampleCount = arrays.get(0).header.sampleCount();
        this.tensors = arrays.stream()
                .map(a -> new TensorInfo(a.name, NpyArrayStream.outputType(a.header.elementType(), scale), a.header.shapeList()))
                .toList();
    }

    private static void checkLabels(NpyHeader header) {
        if (!header.elementType().isInteger()) {
            throw new InvalidInputException("labels must be integer class indices, got " + header.elementType().apiName()
                    + "; save them with labels.astype(np.int64)");
        }
        long[] shape = header.shape();
        if (shape.length == 0 || shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
            throw new InvalidInputException("labels must have shape [N] or [N, 1] (one class index per sample), got "
                    + header.shapeList());
        }
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public long sampleCount() {
        return sampleCount;
    }

    @Override
    public boolean hasLabels() {
        return labelArray != null;
    }

    @Override
    public BatchIterator batches(int batchSize, long maxSamples) throws IOException {
        NpyBatchIterator.checkArguments(batchSize, maxSamples);
        SafeZip zip = SafeZip.open(file, limits);
        try {
            Map<String, NpyArrayStream> streams = new LinkedHashMap<>();
            for (Array a : tensorArrays) {
                streams.put(a.name, openArray(zip, a));
            }
            NpyArrayStream labels = labelArray == null ? null : openArray(zip, labelArray);
            long end = Math.min(maxSamples, sampleCount);
            return new NpyBatchIterator(streams, labels, zip, batchSize, end, end == sampleCount);
        } catch (RuntimeException | IOException e) {
            zip.close();
            throw e;
        }
    }

    private NpyArrayStream openArray(SafeZip zip, Array array) throws IOException {
        ZipEntry entry = zip.entry(array.entryName);
        if (entry == null) {
            throw new InvalidInputException("array '" + array.name + "' disappeared from the npz; the file changed while in use");
        }
        InputStream in = zip.open(entry);
        NpyHeader.read(in, array.name); // skip the header; it was parsed when the dataset was opened
        return new NpyArrayStream(array.name, array.header, in, array.name.equals(LABELS) ? 1.0 : scale);
    }
}
