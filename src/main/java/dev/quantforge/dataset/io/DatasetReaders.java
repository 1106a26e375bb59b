package dev.quantforge.dataset.io;

import dev.quantforge.quant.data.SampleSource;
import java.io.IOException;
import java.nio.file.Path;

/** Opens a stored dataset file as a {@link SampleSource} of its format. */
public final class DatasetReaders {

    private DatasetReaders() {
    }

    public static SampleSource open(Path file, DatasetFormat format, Preprocessing preprocessing, ZipLimits limits)
            throws IOException {
        Preprocessing pre = preprocessing == null ? Preprocessing.DEFAULT : preprocessing;
        return switch (format) {
            case NPZ -> new NpzDataset(file, pre, limits);
            case NPY -> new NpyDataset(file, pre);
            case IMAGE_FOLDER -> new ImageFolderDataset(file, pre, limits);
            case TEXT -> throw new IllegalArgumentException("a text dataset is read with its tokenizer: new TextDataset(...)");
        };
    }

    public static SampleSource open(Path file, DatasetFormat format, Preprocessing preprocessing) throws IOException {
        return open(file, format, preprocessing, ZipLimits.DEFAULT);
    }

    public static SampleSource open(Path file, DatasetSummary summary, Preprocessing preprocessing) throws IOException {
        return open(file, summary.format(), preprocessing, ZipLimits.DEFAULT);
    }
}
