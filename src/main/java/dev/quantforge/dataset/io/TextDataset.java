package dev.quantforge.dataset.io;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Sentences (a {@code .txt}, one per line, or a {@code .jsonl} of {@code {"text", "textPair", "label"}}) read as
 * the int64 tensors of a BERT-style encoder: {@code input_ids}, {@code attention_mask} and {@code token_type_ids},
 * each {@code [N, maxLength]}, truncated and padded to {@code maxLength}. The stored file is what the user
 * uploaded; every pass streams it and tokenizes as it goes (the same tokenizer.json, the same library: the same
 * ids every time), so memory holds one batch, never the file.
 */
public final class TextDataset implements SampleSource {

    /** Largest tokenizer.json accepted (the biggest vocabularies in use take a few tens of MB). */
    public static final long MAX_TOKENIZER_BYTES = 64L << 20;

    /** Bytes one sample takes as tensors: three int64 rows of maxLength. */
    private static final int TENSOR_BYTES_PER_TOKEN = TextOptions.TENSORS.size() * Long.BYTES;

    private final Path textFile;
    private final Path tokenizerFile;
    private final TextOptions options;
    private final TextLayout layout;
    private final long sampleCount;
    private final boolean hasLabels;

    /**
     * A validated text dataset (see {@link #scan}): {@code sampleCount} and {@code hasLabels} are what the scan found.
     */
    public TextDataset(Path textFile, Path tokenizerFile, TextOptions options, TextLayout layout, long sampleCount, boolean hasLabels) {
        this.textFile = textFile;
        this.tokenizerFile = tokenizerFile;
        this.options = options;
        this.layout = layout;
        this.sampleCount = sampleCount;
        this.hasLabels = hasLabels;
    }

    /**
     * What validation found in a text upload.
     *
     * @param truncated        samples longer than maxLength tokens (cut to it)
     * @param pairs            whether any sample is a sentence pair (token_type_ids 1 on its second segment)
     * @param padTokenId       the id padded positions carry (their attention_mask is 0)
     * @param tokenizerLibrary the tokenizers library version that encoded it
     */
    public record TextSummary(TextLayout layout, long sentences, boolean hasLabels, boolean pairs, long truncated, long padTokenId,
                              String tokenizerLibrary) {
    }

    /**
     * Reads and tokenizes every sample once, so that a file that is not UTF-8, a line that is not JSON, a bad label or a
     * tokenizer that does not load is refused at upload, and counts what a job will see.
     *
     * @param maxTensorBytes the most bytes the samples may take as tensors (the upload limit on uncompressed content)
     * @throws InvalidInputException naming the line and what to fix
     */
    public static TextSummary scan(Path textFile, String originalFilename, Path tokenizerFile, TextOptions options,
                                   long maxTensorBytes) throws IOException {
        refuseBinary(textFile);
        TextLayout layout = TextLayout.detect(textFile, originalFilename);
        long maxSamples = maxTensorBytes / ((long) options.maxLength() * TENSOR_BYTES_PER_TOKEN);
        long count = 0;
        long truncated = 0;
        long firstUnlabelled = 0;
        long firstLabelled = 0;
        boolean pairs = false;
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerFile, options.maxLength());
             TextRecords records = new TextRecords(textFile, layout)) {
            for (TextRecords.TextRecord r = records.next(); r != null; r = records.next()) {
                if (++count > maxSamples) {
                    throw new InvalidInputException("the text has more than " + maxSamples + " samples: at maxLength " + options.maxLength()
                            + " they take more than the " + maxTensorBytes + " bytes of tensors an upload may hold"
                            + " (QF_UPLOAD_MAX_UNCOMPRESSED_BYTES); split the file or lower maxLength");
                }
                if (r.label() == null && firstUnlabelled == 0) {
                    firstUnlabelled = r.line();
                } else if (r.label() != null && firstLabelled == 0) {
                    firstLabelled = r.line();
                }
                if (firstLabelled != 0 && firstUnlabelled != 0) {
                    throw new InvalidInputException("line " + Math.max(firstLabelled, firstUnlabelled) + (firstUnlabelled > firstLabelled
                            ? " has no 'label' but line " + firstLabelled + " has one" : " has a 'label' but line " + firstUnlabelled
                            + " has none") + "; give every line a label, or none");
                }
                pairs |= r.pair() != null;
                if (tokenizer.encode(r.text(), r.pair(), r.line()).truncated()) {
                    truncated++;
                }
            }
            if (count == 0) {
                throw new InvalidInputException("the text has no samples (the file is empty or only blank lines); upload one sentence per line");
            }
            return new TextSummary(layout, count, firstLabelled != 0, pairs, truncated, tokenizer.padTokenId(), tokenizer.libraryVersion());
        }
    }

    private static void refuseBinary(Path file) throws IOException {
        byte[] head = DatasetFormat.readHead(file, 8);
        if (DatasetFormat.isZip(head) || DatasetFormat.startsWith(head, NpyHeader.MAGIC)) {
            throw new InvalidInputException("the file is " + (DatasetFormat.isZip(head) ? "a zip archive (npz or image_folder)" : "an .npy array")
                    + ", not text: the parts 'tokenizer' and 'text' are for text datasets; upload it without them");
        }
    }

    @Override
    public List<TensorInfo> tensors() {
        List<TensorInfo> tensors = new ArrayList<>();
        for (String tensor : TextOptions.TENSORS) {
            tensors.add(new TensorInfo(options.nameOf(tensor), ElementType.INT64, List.of(sampleCount, (long) options.maxLength())));
        }
        return tensors;
    }

    @Override
    public long sampleCount() {
        return sampleCount;
    }

    @Override
    public boolean hasLabels() {
        return hasLabels;
    }

    public TextOptions options() {
        return options;
    }

    @Override
    public BatchIterator batches(int batchSize, long maxSamples) throws IOException {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1");
        }
        return new Pass(batchSize, Math.min(Math.max(0, maxSamples), sampleCount));
    }

    /** One pass: the text file and a tokenizer of its own, open until closed. */
    private final class Pass implements BatchIterator {
        private final int batchSize;
        private final long limit;
        private final TextRecords records;
        private final TextTokenizer tokenizer;
        private long delivered;

        Pass(int batchSize, long limit) throws IOException {
            this.batchSize = batchSize;
            this.limit = limit;
            this.tokenizer = TextTokenizer.load(tokenizerFile, options.maxLength());
            TextRecords opened = null;
            try {
                opened = new TextRecords(textFile, layout);
            } finally {
                if (opened == null) {
                    tokenizer.close();
                }
            }
            this.records = opened;
        }

        @Override
        public boolean hasNext() {
            return delivered < limit;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int n = (int) Math.min(batchSize, limit - delivered);
            int length = options.maxLength();
            ByteBuffer idBytes = int64s(n * length);
            ByteBuffer maskBytes = int64s(n * length);
            ByteBuffer typeBytes = int64s(n * length);
            LongBuffer ids = idBytes.asLongBuffer();
            LongBuffer mask = maskBytes.asLongBuffer();
            LongBuffer types = typeBytes.asLongBuffer();
            long[] labels = hasLabels ? new long[n] : null;
            try {
                for (int i = 0; i < n; i++) {
                    TextRecords.TextRecord r = records.next();
                    if (r == null) {
                        throw new InvalidInputException("the text ends after " + (delivered + i) + " samples, but the dataset has "
                                + sampleCount + "; the stored file is not the one that was validated");
                    }
                    TextTokenizer.Encoded e = tokenizer.encode(r.text(), r.pair(), r.line());
                    int row = i * length;
                    for (int t = 0; t < length; t++) {
                        boolean token = t < e.ids().length;
                        ids.put(row + t, token ? e.ids()[t] : tokenizer.padTokenId());
                        mask.put(row + t, token ? e.attentionMask()[t] : 0);
                        types.put(row + t, token ? e.typeIds()[t] : tokenizer.padTypeId());
                    }
                    if (labels != null) {
                        if (r.label() == null) {
                            throw new InvalidInputException("line " + r.line() + " has no 'label'; the stored file is not the one that was validated");
                        }
                        labels[i] = r.label();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            long firstSample = delivered;
            delivered += n;
            long[] shape = {n, length};
            Map<String, NdArray> tensors = new LinkedHashMap<>();
            tensors.put(options.nameOf(TextOptions.INPUT_IDS), new NdArray(ElementType.INT64, shape, idBytes));
            tensors.put(options.nameOf(TextOptions.ATTENTION_MASK), new NdArray(ElementType.INT64, shape, maskBytes));
            tensors.put(options.nameOf(TextOptions.TOKEN_TYPE_IDS), new NdArray(ElementType.INT64, shape, typeBytes));
            return new Batch(firstSample, n, tensors, labels);
        }

        @Override
        public void close() throws IOException {
            try {
                records.close();
            } finally {
                tokenizer.close();
            }
        }
    }

    /** Little-endian, as {@link NdArray} holds its bytes. */
    private static ByteBuffer int64s(int count) {
        return ByteBuffer.allocate(count * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    }
}
