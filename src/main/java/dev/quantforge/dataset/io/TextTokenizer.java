package dev.quantforge.dataset.io;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.LibUtils;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.runtime.DjlNatives;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Hugging Face {@code tokenizer.json} loaded in the Hugging Face tokenizers library (Rust, through DJL): it
 * encodes a sentence or a sentence pair exactly as the model's own tokenizer does (normalizer, pre-tokenizer,
 * WordPiece/BPE/Unigram model, special tokens), truncated to {@code maxLength} tokens. Padding is done by
 * {@link TextDataset}, with {@link #padTokenId()}. Not thread-safe; close it to free the native tokenizer.
 *
 * <p>The native library comes from the tokenizers jar and is extracted once into {@link DjlNatives#cacheDir()};
 * DJL runs offline (nothing is downloaded, no telemetry).
 */
final class TextTokenizer implements AutoCloseable {

    /** Pad tokens looked up when the tokenizer.json has no padding section (BERT's, then RoBERTa's / T5's). */
    private static final List<String> PAD_TOKENS = List.of("[PAD]", "<pad>");

    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final HuggingFaceTokenizer tokenizer;
    private final long padTokenId;
    private final long padTypeId;
    private final int maxLength;

    /** One encoded sample, at most {@code maxLength} tokens, not padded. */
    record Encoded(long[] ids, long[] typeIds, long[] attentionMask, boolean truncated) {
    }

    private TextTokenizer(HuggingFaceTokenizer tokenizer, long padTokenId, long padTypeId, int maxLength) {
        this.tokenizer = tokenizer;
        this.padTokenId = padTokenId;
        this.padTypeId = padTypeId;
        this.maxLength = maxLength;
    }

    /**
     * @throws InvalidInputException when the file is not a tokenizer.json the library can load (the message names
     *                             the upload part {@code tokenizer})
     */
    static TextTokenizer load(Path tokenizerJson, int maxLength) throws IOException {
        Path nativeDir = DjlNatives.cacheDir();
        long[] pad = readPadding(tokenizerJson);
        try {
            LibUtils.checkStatus();
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("the Hugging Face tokenizers native library did not load (cache " + nativeDir + "): "
                    + e.getMessage(), e);
        }
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of(
                    "addSpecialTokens", "true",
                    "truncation", "true",
                    "padding", "false",
                    "maxLength", Integer.toString(maxLength)));
        } catch (RuntimeException e) {
            throw new InvalidInputException("the part 'tokenizer' is not a tokenizer.json that the Hugging Face tokenizers library can"
                    + " load: " + e.getMessage() + "; send the model's own tokenizer.json (saved by tokenizer.save_pretrained)");
        }
        // the library does not truncate below its special tokens: refuse such a maxLength rather than overflow it
        int specialTokens = tokenizer.encode("").getIds().length;
        if (maxLength <= specialTokens) {
            tokenizer.close();
            throw new InvalidInputException("invalid text options: 'maxLength' " + maxLength + " leaves no room for text: the tokenizer adds "
                    + specialTokens + " special tokens to every sentence; use a maxLength of at least " + (specialTokens + 1));
        }
        return new TextTokenizer(tokenizer, pad[0], pad[1], maxLength);
    }

    /** The version of the tokenizers library doing the work ("0.21.0-0.36.0": Hugging Face tokenizers - DJL). */
    String libraryVersion() {
        return tokenizer.getVersion();
    }

    long padTokenId() {
        return padTokenId;
    }

    long padTypeId() {
        return padTypeId;
    }

    int maxLength() {
        return maxLength;
    }

    /**
     * Encodes one sample, truncated to {@code maxLength} tokens (longest segment first for pairs).
     *
     * @param pair the second segment, or null
     * @param line the line it came from, for messages
     */
    Encoded encode(String text, String pair, long line) {
        Encoding e;
        try {
            e = pair == null ? tokenizer.encode(text) : tokenizer.encode(text, pair);
        } catch (RuntimeException failure) {
            throw new InvalidInputException("line " + line + " cannot be tokenized: " + failure.getMessage());
        }
        long[] ids = e.getIds();
        if (ids.length > maxLength) {
            // the library leaves a sample longer than maxLength when its special tokens (a pair has more) do not fit
            throw new InvalidInputException("line " + line + " encodes to " + ids.length + " tokens even truncated, more than maxLength "
                    + maxLength + ": the special tokens of a sentence pair take more room; raise maxLength");
        }
        return new Encoded(ids, e.getTypeIds(), e.getAttentionMask(), e.exceedMaxLength());
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * Streams through the tokenizer.json once (it can be tens of MB) to check that it is one, and to find the padding
     * token: its {@code padding.pad_id} / {@code pad_type_id} when it sets padding, else the id of {@code [PAD]} or
     * {@code <pad>} among its added tokens or vocabulary, else 0 (padded positions have attention_mask 0, so the id only
     * has to be a valid one).
     */
    private static long[] readPadding(Path file) throws IOException {
        Long paddingId = null;
        long padTypeId = 0;
        Long addedTokenId = null;
        Long vocabId = null;
        boolean hasModel = false;
        try (JsonParser p = JSON.createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw notATokenizer("it is not a JSON object");
            }
            while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                switch (key) {
                    case "padding" -> {
                        if (value == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                                String field = p.currentName();
                                JsonToken v = p.nextToken();
                                if (field.equals("pad_id") && v == JsonToken.VALUE_NUMBER_INT) {
                                    paddingId = p.getLongValue();
                                } else if (field.equals("pad_type_id") && v == JsonToken.VALUE_NUMBER_INT) {
                                    padTypeId = p.getLongValue();
                                } else {
                                    p.skipChildren();
                                }
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    case "added_tokens" -> {
                        if (value == JsonToken.START_ARRAY) {
                            while (p.nextToken() == JsonToken.START_OBJECT) {
                                Long id = null;
                                String content = null;
                                while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                                    String field = p.currentName();
                                    JsonToken v = p.nextToken();
                                    if (field.equals("id") && v == JsonToken.VALUE_NUMBER_INT) {
                                        id = p.getLongValue();
                                    } else if (field.equals("content") && v == JsonToken.VALUE_STRING) {
                                        content = p.getString();
                                    } else {
                                        p.skipChildren();
                                    }
                                }
                                if (addedTokenId == null && id != null && PAD_TOKENS.contains(content)) {
                                    addedTokenId = id;
                                }
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    case "model" -> {
                        if (value != JsonToken.START_OBJECT) {
                            throw notATokenizer("its 'model' is not an object");
                        }
                        hasModel = true;
                        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                            String field = p.currentName();
                            JsonToken v = p.nextToken();
                            if (field.equals("vocab") && v == JsonToken.START_OBJECT) {
                                // WordPiece / BPE: {"token": id}
                                while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                                    String token = p.currentName();
                                    if (p.nextToken() == JsonToken.VALUE_NUMBER_INT && vocabId == null && PAD_TOKENS.contains(token)) {
                                        vocabId = p.getLongValue();
                                    } else {
                                        p.skipChildren();
                                    }
                                }
                            } else if (field.equals("vocab") && v == JsonToken.START_ARRAY) {
                                // Unigram: [["token", score], ...], the id is the position
                                long index = 0;
                                while (p.nextToken() == JsonToken.START_ARRAY) {
                                    if (p.nextToken() == JsonToken.VALUE_STRING && vocabId == null && PAD_TOKENS.contains(p.getString())) {
                                        vocabId = index;
                                    }
                                    while (p.currentToken() != JsonToken.END_ARRAY) {
                                        p.skipChildren();
                                        p.nextToken();
                                    }
                                    index++;
                                }
                            } else {
                                p.skipChildren();
                            }
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        } catch (JacksonException e) {
            throw notATokenizer("it is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!hasModel) {
            throw notATokenizer("it has no 'model' (is it a tokenizer_config.json or a vocab file?)");
        }
        long padId = paddingId != null ? paddingId : addedTokenId != null ? addedTokenId : vocabId != null ? vocabId : 0;
        return new long[] {padId, padTypeId};
    }

    private static InvalidInputException notATokenizer(String why) {
        return new InvalidInputException("the part 'tokenizer' is not a Hugging Face tokenizer.json: " + why
                + "; send the model's own tokenizer.json (saved by tokenizer.save_pretrained)");
    }
}
