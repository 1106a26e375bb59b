package dev.quantforge.dataset.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.runtime.DjlNatives;
import dev.quantforge.testsupport.TextModels;

/**
 * Text datasets read through the Hugging Face tokenizers library, checked against token ids published independently of
 * it, and every kind of bad upload refused with a message naming the line.
 */
class TextDatasetTest {

    private static final long NO_LIMIT = Long.MAX_VALUE;

    @TempDir
    Path dir;

    @BeforeAll
    static void natives() {
        DjlNatives.useCacheDir(Path.of("target", "djl"));
    }

    /** Scans (validates) a text file and opens it as a job would. */
    static TextDataset open(Path text, Path tokenizer, TextOptions options) throws IOException {
        TextDataset.TextSummary s = TextDataset.scan(text, text.getFileName().toString(), tokenizer, options, NO_LIMIT);
        return new TextDataset(text, tokenizer, options, s.layout(), s.sentences(), s.hasLabels());
    }

    private static List<Batch> all(SampleSource source, int batchSize) throws IOException {
        List<Batch> out = new ArrayList<>();
        try (SampleSource.BatchIterator it = source.batches(batchSize, source.sampleCount())) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    private static long[] row(Batch b, String tensor, int sample) {
        long[] all = b.tensors().get(tensor).toLongArray();
        int length = all.length / b.size();
        return Arrays.copyOfRange(all, sample * length, (sample + 1) * length);
    }

    private static long[] padded(int length, long pad, long... values) {
        long[] out = new long[length];
        Arrays.fill(out, pad);
        System.arraycopy(values, 0, out, 0, values.length);
        return out;
    }

    private Path write(String name, String content) throws IOException {
        return write(name, content.getBytes(StandardCharsets.UTF_8));
    }

    private Path write(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private static TextOptions maxLength(int n) {
        return TextOptions.fromMap(Map.of("maxLength", n));
    }

    @Test
    void tokenizesAsTheHuggingFaceCourse() throws IOException {
        // Expected ids: the Hugging Face course, chapter 2 "Behind the pipeline" (huggingface/course @ 0a5eee6e,
        // chapters/en/chapter2/2.mdx), tokenizer of distilbert-base-uncased-finetuned-sst-2-english, padding=True: the
        // bert-base-uncased WordPiece vocabulary, which e5-small-v2 uses too. (The page prints the second sentence's
        // attention mask with seven 1s for its eight tokens, a typo; the mask is checked against the ids instead.)
        Path text = write("course.txt", "I've been waiting for a HuggingFace course my whole life.\nI hate this so much!\n");
        TextDataset ds = open(text, TextModels.e5Tokenizer(), maxLength(16));
        Batch b = all(ds, 2).get(0);
        assertThat(row(b, "input_ids", 0)).containsExactly(101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026,
                2878, 2166, 1012, 102);
        assertThat(row(b, "input_ids", 1)).containsExactly(padded(16, 0, 101, 1045, 5223, 2023, 2061, 2172, 999, 102));
        assertThat(row(b, "attention_mask", 0)).containsOnly(1);
        assertThat(row(b, "attention_mask", 1)).containsExactly(padded(16, 0, 1, 1, 1, 1, 1, 1, 1, 1));
        assertThat(row(b, "token_type_ids", 1)).containsOnly(0);
        TextDataset.TextSummary s = TextDataset.scan(text, "course.txt", TextModels.e5Tokenizer(), maxLength(16), NO_LIMIT);
        assertThat(s.truncated()).as("16 tokens fit maxLength 16 exactly").isZero();
        assertThat(s.padTokenId()).isZero();
    }

    @Test
    void tokenizesSentencePairsAsTheTokenizersLibraryTests() throws IOException {
        // Expected ids and type ids: huggingface/tokenizers @ 019a8390, bindings/python/tests/implementations/
        // test_bert_wordpiece.py, test_basic_encode: BertWordPieceTokenizer on bert-base-uncased-vocab.txt,
        // encode("My name is John", "pair").
        Path text = write("pair.jsonl", "{\"text\": \"My name is John\", \"textPair\": \"pair\"}\n");
        TextDataset ds = open(text, TextModels.e5Tokenizer(), maxLength(12));
        Batch b = all(ds, 1).get(0);
        assertThat(row(b, "input_ids", 0)).containsExactly(padded(12, 0, 101, 2026, 2171, 2003, 2198, 102, 3940, 102));
        assertThat(row(b, "token_type_ids", 0)).containsExactly(padded(12, 0, 0, 0, 0, 0, 0, 0, 1, 1));
        assertThat(row(b, "attention_mask", 0)).containsExactly(padded(12, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    }

    @Test
    void tinybertTokenizesTribuosSentenceAndPadsWithItsOwnPadToken() throws IOException {
        // Tribuo's BERTFeatureExtractorTest (oracle/tribuo @ 76f085db, Interop/ONNX/.../BERTFeatureExtractorTest.java) expects
        // 11 word pieces for this sentence with this tokenizer.json, and 13 token embeddings once [CLS] and [SEP] are
        // added ("Strip off [CLS] and [SEP]"); [CLS] 3, [SEP] 1 and [PAD] 2 are the ids that tokenizer.json assigns (its
        // post_processor and added_tokens).
        Path text = write("austen.txt", "It is a truth universally acknowledged,\n");
        TextDataset ds = open(text, TextModels.tinybertTokenizer(), maxLength(16));
        Batch b = all(ds, 1).get(0);
        long[] ids = row(b, "input_ids", 0);
        assertThat(Arrays.stream(row(b, "attention_mask", 0)).sum()).isEqualTo(13);
        assertThat(ids[0]).isEqualTo(3);
        assertThat(ids[12]).isEqualTo(1);
        assertThat(Arrays.copyOfRange(ids, 1, 12)).doesNotContain(0L, 1L, 2L, 3L);
        assertThat(Arrays.copyOfRange(ids, 13, 16)).containsOnly(2);
        assertThat(TextDataset.scan(text, "austen.txt", TextModels.tinybertTokenizer(), maxLength(16), NO_LIMIT).padTokenId()).isEqualTo(2);
    }

    @Test
    void readsInBatchesTheSameIdsEveryPass() throws IOException {
        TextDataset ds = open(TextModels.snliSentences(), TextModels.e5Tokenizer(), TextOptions.DEFAULT);
        assertThat(ds.sampleCount()).isEqualTo(330);
        assertThat(ds.hasLabels()).isFalse();
        assertThat(ds.tensors()).extracting(TensorInfo::name).containsExactly("input_ids", "attention_mask", "token_type_ids");
        assertThat(ds.tensors()).allSatisfy(t -> {
            assertThat(t.elementType()).isEqualTo(ElementType.INT64);
            assertThat(t.shape()).containsExactly(330L, 128L);
        });
        List<Batch> first = all(ds, 32);
        assertThat(first).extracting(Batch::size).containsExactly(32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 10);
        assertThat(first).extracting(Batch::firstSample).containsExactly(0L, 32L, 64L, 96L, 128L, 160L, 192L, 224L, 256L, 288L, 320L);
        assertThat(first.get(10).tensors().get("input_ids").shape()).containsExactly(10, 128);
        assertThat(first.get(0).labels()).isNull();
        List<Batch> again = all(ds, 32);
        for (int i = 0; i < first.size(); i++) {
            for (String t : TextOptions.TENSORS) {
                assertThat(again.get(i).tensors().get(t).toLongArray()).isEqualTo(first.get(i).tensors().get(t).toLongArray());
            }
        }
        try (SampleSource.BatchIterator it = ds.batches(32, 50)) {
            assertThat(it.next().size()).isEqualTo(32);
            assertThat(it.next().size()).isEqualTo(18);
            assertThat(it.hasNext()).isFalse();
        }
    }

    @Test
    void countsTruncatedSentencesAndEndsThemWithTheSeparator() throws IOException {
        Path snli = TextModels.snliSentences();
        TextDataset full = open(snli, TextModels.e5Tokenizer(), maxLength(64));
        long longerThan16 = 0;
        for (Batch b : all(full, 64)) {
            for (int i = 0; i < b.size(); i++) {
                assertThat(row(b, "attention_mask", i)[63]).as("no SNLI sentence reaches 64 tokens").isZero();
                if (Arrays.stream(row(b, "attention_mask", i)).sum() > 16) {
                    longerThan16++;
                }
            }
        }
        TextDataset.TextSummary at16 = TextDataset.scan(snli, "snli.txt", TextModels.e5Tokenizer(), maxLength(16), NO_LIMIT);
        assertThat(longerThan16).isPositive();
        assertThat(at16.truncated()).isEqualTo(longerThan16);
        TextDataset cut = open(snli, TextModels.e5Tokenizer(), maxLength(16));
        for (Batch b : all(cut, 64)) {
            for (int i = 0; i < b.size(); i++) {
                long[] ids = row(b, "input_ids", i);
                long tokens = Arrays.stream(row(b, "attention_mask", i)).sum();
                assertThat(ids[(int) tokens - 1]).as("the last real token is [SEP]").isEqualTo(102);
            }
        }
    }

    @Test
    void jsonlWithPairsAndLabels() throws IOException {
        TextDataset ds = open(TextModels.snliPairs(), TextModels.e5Tokenizer(), maxLength(64));
        TextDataset.TextSummary s = TextDataset.scan(TextModels.snliPairs(), "snli-pairs.jsonl", TextModels.e5Tokenizer(), maxLength(64),
                NO_LIMIT);
        assertThat(s.layout()).isEqualTo(TextLayout.JSONL);
        assertThat(s.pairs()).isTrue();
        assertThat(s.hasLabels()).isTrue();
        assertThat(ds.hasLabels()).isTrue();
        List<Batch> batches = all(ds, 3);
        assertThat(batches.stream().flatMapToLong(b -> Arrays.stream(b.labels())).toArray()).containsExactly(2, 1, 2, 1, 0, 2, 1, 0);
        // record 5: "Dinner and decisions, with the crew." / "the crew was having dinner": the second segment and its
        // [SEP] are type 1
        long[] types = row(batches.get(1), "token_type_ids", 1);
        long[] ids = row(batches.get(1), "input_ids", 1);
        int firstSep = 0;
        while (ids[firstSep] != 102) {
            firstSep++;
        }
        long tokens = Arrays.stream(row(batches.get(1), "attention_mask", 1)).sum();
        for (int t = 0; t < 64; t++) {
            assertThat(types[t]).as("type id at " + t).isEqualTo(t > firstSep && t < tokens ? 1L : 0L);
        }
        assertThat(tokens - firstSep - 1).as("'the crew was having dinner' + [SEP]").isEqualTo(6);
    }

    @Test
    void inputNamesRenameTheTensors() throws IOException {
        TextOptions options = TextOptions.fromMap(Map.of("maxLength", 8, "inputNames",
                Map.of("attention_mask", "input_mask", "token_type_ids", "segment_ids")));
        TextDataset ds = open(write("two.txt", "Hello world\nA dog licks his nose.\n"), TextModels.e5Tokenizer(), options);
        assertThat(ds.tensors()).extracting(TensorInfo::name).containsExactly("input_ids", "input_mask", "segment_ids");
        assertThat(all(ds, 2).get(0).tensors()).containsOnlyKeys("input_ids", "input_mask", "segment_ids");
    }

    @Test
    void byteOrderMarkCrLfAndBlankLines() throws IOException {
        JsonNode vocab = JsonMapper.builder().build().readTree(TextModels.e5Tokenizer().toFile()).path("model").path("vocab");
        Path text = write("bom.txt", "\uFEFFHello world\r\n\r\n   \n\nHello world\n");
        TextDataset ds = open(text, TextModels.e5Tokenizer(), maxLength(6));
        assertThat(ds.sampleCount()).isEqualTo(2);
        Batch b = all(ds, 2).get(0);
        long[] expected = padded(6, 0, vocab.path("[CLS]").asLong(), vocab.path("hello").asLong(), vocab.path("world").asLong(),
                vocab.path("[SEP]").asLong());
        assertThat(row(b, "input_ids", 0)).containsExactly(expected);
        assertThat(row(b, "input_ids", 1)).containsExactly(expected);
    }

    private void refused(Path text, Path tokenizer, TextOptions options, String message) {
        assertThatThrownBy(() -> TextDataset.scan(text, text.getFileName().toString(), tokenizer, options, NO_LIMIT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining(message);
    }

    @Test
    void refusesTextThatIsNotUtf8() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write("A good line.\n".getBytes(StandardCharsets.UTF_8));
        bytes.write(new byte[] {'A', ' ', (byte) 0xE9, 't', 'e', '\n'}); // Latin-1 "é"
        refused(write("latin1.txt", bytes.toByteArray()), TextModels.e5Tokenizer(), TextOptions.DEFAULT,
                "line 2 is not UTF-8: byte 3 of the line is 0xe9");
        refused(write("nul.txt", "A line\nwith a \0 in it\n"), TextModels.e5Tokenizer(), TextOptions.DEFAULT, "line 2 contains a NUL");
    }

    @Test
    void refusesEmptyTextBinaryFilesAndOverlongLines() throws IOException {
        refused(write("empty.txt", ""), TextModels.e5Tokenizer(), TextOptions.DEFAULT, "the text has no samples");
        refused(write("blank.txt", "\n  \n\t\n"), TextModels.e5Tokenizer(), TextOptions.DEFAULT, "the text has no samples");
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            z.putNextEntry(new ZipEntry("x.npy"));
            z.write(1);
        }
        refused(write("data.npz", zip.toByteArray()), TextModels.e5Tokenizer(), TextOptions.DEFAULT, "is a zip archive");
        byte[] huge = new byte[Utf8Lines.MAX_LINE_BYTES + 1];
        Arrays.fill(huge, (byte) 'a');
        refused(write("huge.txt", huge), TextModels.e5Tokenizer(), TextOptions.DEFAULT, "line 1 is longer than 1048576 bytes");
    }

    @Test
    void refusesBadJsonLines() throws IOException {
        Path tok = TextModels.e5Tokenizer();
        refused(write("a.jsonl", "{\"text\": \"fine\"}\n{\"text\": \"broken\"\n"), tok, TextOptions.DEFAULT, "line 2 is not JSON");
        refused(write("b.jsonl", "[\"a list\"]\n"), tok, TextOptions.DEFAULT, "line 1 is not a JSON object");
        refused(write("c.jsonl", "{\"text\": \"x\", \"text_pair\": \"y\"}\n"), tok, TextOptions.DEFAULT,
                "line 1 has the key 'text_pair'; the keys of a .jsonl line are text, textPair, label");
        refused(write("d.jsonl", "{\"textPair\": \"y\"}\n"), tok, TextOptions.DEFAULT, "line 1: 'text' must be a string, and it is missing");
        refused(write("e.jsonl", "{\"text\": 42}\n"), tok, TextOptions.DEFAULT, "line 1: 'text' must be a string, got 42");
        refused(write("f.jsonl", "{\"text\": \"   \"}\n"), tok, TextOptions.DEFAULT, "line 1: 'text' is empty");
        for (String label : List.of("1.5", "-1", "\"3\"")) {
            refused(write("g.jsonl", "{\"text\": \"x\", \"label\": " + label + "}\n"), tok, TextOptions.DEFAULT,
                    "line 1: 'label' must be a class index (an integer >= 0), got " + label);
        }
        refused(write("h.jsonl", "{\"text\": \"x\", \"label\": 1}\n\n{\"text\": \"y\"}\n"), tok, TextOptions.DEFAULT,
                "line 3 has no 'label' but line 1 has one; give every line a label, or none");
        refused(write("i.jsonl", "{\"text\": \"x\"}\n{\"text\": \"y\", \"label\": 0}\n"), tok, TextOptions.DEFAULT,
                "line 2 has a 'label' but line 1 has none");
    }

    @Test
    void refusesWhatIsNotATokenizer() throws IOException {
        Path text = write("ok.txt", "A sentence.\n");
        refused(text, write("tok1.json", "not json"), TextOptions.DEFAULT, "the part 'tokenizer' is not a Hugging Face tokenizer.json: it is not");
        refused(text, write("tok2.json", "[1, 2]"), TextOptions.DEFAULT, "it is not a JSON object");
        refused(text, write("tok3.json", "{\"do_lower_case\": true, \"model_max_length\": 512}"), TextOptions.DEFAULT,
                "it has no 'model' (is it a tokenizer_config.json or a vocab file?)");
        refused(text, write("vocab.txt", "[PAD]\n[UNK]\nhello\n"), TextOptions.DEFAULT, "is not a Hugging Face tokenizer.json");
        refused(text, write("tok4.json", "{\"model\": {\"type\": \"Nonsense\"}}"), TextOptions.DEFAULT,
                "is not a tokenizer.json that the Hugging Face tokenizers library can load");
    }

    @Test
    void refusesAMaxLengthWithoutRoomForTextAndTooManySamples() throws IOException {
        Path text = write("ten.txt", String.join("\n", Stream.generate(() -> "A dog licks his nose.").limit(11).toList()));
        refused(text, TextModels.e5Tokenizer(), maxLength(2), "'maxLength' 2 leaves no room for text: the tokenizer adds 2 special tokens");
        long tenSamples = 10L * 16 * 3 * Long.BYTES;
        assertThatThrownBy(() -> TextDataset.scan(text, "ten.txt", TextModels.e5Tokenizer(), maxLength(16), tenSamples))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("the text has more than 10 samples: at maxLength 16 they take more than the 3840 bytes")
                .hasMessageContaining("QF_UPLOAD_MAX_UNCOMPRESSED_BYTES");
        assertThat(TextDataset.scan(text, "ten.txt", TextModels.e5Tokenizer(), maxLength(16), tenSamples + 16 * 3 * Long.BYTES).sentences())
                .isEqualTo(11);
    }

    @Test
    void optionsAreValidated() {
        assertThat(TextOptions.fromMap(null)).isEqualTo(TextOptions.DEFAULT);
        assertThat(TextOptions.DEFAULT.maxLength()).isEqualTo(128);
        assertThat(TextOptions.DEFAULT.toMap()).isEqualTo(Map.of("maxLength", 128, "inputNames",
                Map.of("input_ids", "input_ids", "attention_mask", "attention_mask", "token_type_ids", "token_type_ids")));
        assertThatThrownBy(() -> TextOptions.fromMap(Map.of("lowercase", true))).hasMessageContaining("unknown key 'lowercase'")
                .hasMessageContaining("come from the tokenizer.json");
        for (Object bad : List.of(0, 8193, 12.5, "128")) {
            assertThatThrownBy(() -> TextOptions.fromMap(Map.of("maxLength", bad))).isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("'maxLength' must be");
        }
        assertThatThrownBy(() -> TextOptions.fromMap(Map.of("inputNames", Map.of("ids", "x"))))
                .hasMessageContaining("'inputNames' has the key 'ids'; its keys are the dataset's tensors input_ids, attention_mask, token_type_ids");
        assertThatThrownBy(() -> TextOptions.fromMap(Map.of("inputNames", Map.of("input_ids", " "))))
                .hasMessageContaining("'inputNames.input_ids' must be a model input name");
        assertThatThrownBy(() -> TextOptions.fromMap(Map.of("inputNames", Map.of("attention_mask", "token_type_ids"))))
                .hasMessageContaining("'inputNames' gives two tensors the name 'token_type_ids'");
    }

    @Test
    void theNativeLibraryIsExtractedUnderTheConfiguredDirectoryAndDjlIsOffline() throws IOException {
        TextDataset.scan(write("one.txt", "One sentence.\n"), "one.txt", TextModels.tinybertTokenizer(), maxLength(8), NO_LIMIT);
        try (Stream<Path> files = Files.walk(DjlNatives.cacheDir().resolve("tokenizers"))) {
            assertThat(files.map(p -> p.getFileName().toString())).contains("libtokenizers.so");
        }
        // DJL's own switch: with it, HuggingFaceTokenizer never calls home (Ec2Utils.callHome) and nothing is downloaded
        assertThat(ai.djl.util.Utils.isOfflineMode()).isTrue();
    }
}
