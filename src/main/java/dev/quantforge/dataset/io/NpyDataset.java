package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A single .npy array read as a dataset with one tensor named {@value #TENSOR_NAME} and no labels. */
public final class NpyDataset implements SampleSource {

    public static final String TENSOR_NAME = "input";

    private final Path file;
    private final double scale;
    private final NpyHeader header;
    private final List<TensorInfo> tensors;

    public NpyDataset(Path file, Preprocessing preprocessing) throws IOException {
        this.file = file;
        this.scale = preprocessing.validateForArrays().scale();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            this.header = NpyHeader.read(in, TENSOR_NAME);
        }
        if (header.shape().length == 0) {
            throw new InvalidInputException("the array is a scalar (shape ()); it needs a first axis with one entry per sample");
        }
        long dataBytes = Files.size(file) - header.dataOffset();
        if (dataBytes != header.dataBytes()) {
            throw new InvalidInputException("the .npy file holds " + dataBytes + " data bytes but its shape " + header.shapeList()
                    + " " + header.elementType().apiName() + " needs " + header.dataBytes()
                    + (dataBytes < header.dataBytes() ? "; the file is truncated — upload the complete file" : "; the file is corrupt"));
        }
        this.tensors = List.of(new TensorInfo(TENSOR_NAME, NpyArrayStream.outputType(header.elementType(), scale),
                header.shapeList()));
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public long sampleCount() {
        return header.sampleCount();
    }

    @Override
    public boolean hasLabels() {
        return false;
    }

    @Override
    public BatchIterator batches(int batchSize, long maxSamples) throws IOException {
        NpyBatchIterator.checkArguments(batchSize, maxSamples);
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            NpyHeader.read(in, TENSOR_NAME);
            long end = Math.min(maxSamples, sampleCount());
            return new NpyBatchIterator(Map.of(TENSOR_NAME, new NpyArrayStream(TENSOR_NAME, header, in, scale)), null, in,
                    batchSize, end, end == sampleCount());
        } catch (RuntimeException | IOException e) {
            in.close();
            throw e;
        }
    }
}
