package dev.quantforge.dataset.io;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Validates an uploaded dataset file: detects or checks its format, then streams through every
 * sample once, so that truncated or corrupt files, undecodable images and bad labels are refused
 * at upload rather than in the middle of a job. Nothing is extracted to disk.
 */
public final class DatasetInspector {

    /** Inspection reads batches of about this many bytes (whole samples, at least one). */
    private static final long BATCH_BYTES = 16L << 20;

    private final ZipLimits limits;

    public DatasetInspector() {
        this(ZipLimits.DEFAULT);
    }

    public DatasetInspector(ZipLimits limits) {
        this.limits = limits;
    }

    public ZipLimits limits() {
        return limits;
    }

    /**
     * @param formatOrNull     the format the user gave, or null to detect it
     * @param originalFilename the uploaded file's name, for messages only (may be null)
     * @param preprocessing    the preprocessing to validate against the format (null = defaults)
     * @throws InvalidInputException with a message for the user when the file cannot be used
     */
    public DatasetSummary inspect(Path file, DatasetFormat formatOrNull, String originalFilename, Preprocessing preprocessing)
            throws IOException {
        Preprocessing pre = preprocessing == null ? Preprocessing.DEFAULT : preprocessing;
        DatasetFormat format = formatOrNull == null ? DatasetFormat.detect(file, originalFilename) : checkFormat(file, formatOrNull);
        SampleSource source = DatasetReaders.open(file, format, pre, limits);
        if (source.sampleCount() == 0) {
            throw new InvalidInputException("the dataset has no samples (the first axis of its arrays is 0); upload at least one");
        }
        readEverySample(source);
        return new DatasetSummary(format, source.sampleCount(), source.tensors(), source.hasLabels(),
                source instanceof ImageFolderDataset images ? images.classNames() : null);
    }

    private static DatasetFormat checkFormat(Path file, DatasetFormat format) throws IOException {
        byte[] head = DatasetFormat.readHead(file, 8);
        boolean npy = DatasetFormat.startsWith(head, NpyHeader.MAGIC);
        boolean zip = DatasetFormat.isZip(head);
        if (format == DatasetFormat.NPY && !npy) {
            throw new InvalidInputException("format 'npy' was requested but the file is " + (zip ? "a zip archive" : "not an .npy array")
                    + " (it does not start with \\x93NUMPY); " + (zip ? "use format npz or image_folder" : "save it with numpy.save"));
        }
        if (format != DatasetFormat.NPY && !zip) {
            throw new InvalidInputException("format '" + format.apiName() + "' was requested but the file is not a zip archive"
                    + (npy ? " (it is an .npy array; use format npy)" : ""));
        }
        return format;
    }

    private static void readEverySample(SampleSource source) throws IOException {
        long sampleBytes = 0;
        for (TensorInfo t : source.tensors()) {
            long n = Math.max(1, t.elementType().byteSize());
            for (int i = 1; i < t.shape().size(); i++) {
                n *= (Long) t.shape().get(i);
            }
            sampleBytes += n;
        }
        int batchSize = (int) Math.max(1, Math.min(1024, BATCH_BYTES / Math.max(1, sampleBytes)));
        long seen = 0;
        try (SampleSource.BatchIterator batches = source.batches(batchSize, source.sampleCount())) {
            while (batches.hasNext()) {
                Batch batch = batches.next();
                if (batch.hasLabels()) {
                    for (int i = 0; i < batch.size(); i++) {
                        if (batch.labels()[i] < 0) {
                            throw new InvalidInputException("labels must be class indices >= 0, but sample "
                                    + (batch.firstSample() + i) + " has label " + batch.labels()[i]);
                        }
                    }
                }
                seen += batch.size();
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (seen != source.sampleCount()) {
            throw new InvalidInputException("read " + seen + " samples but the dataset declares " + source.sampleCount()
                    + "; the file is corrupt");
        }
    }
}
