package dev.quantforge.dataset.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.runtime.DjlNatives;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.testsupport.BertVariants;
import dev.quantforge.testsupport.TextModels;

/**
 * Text datasets fed to real encoders in ONNX Runtime, every batch: the sentence embeddings e5-small-v2 computes from
 * them make sense (a paraphrase is nearer than an unrelated sentence), and a BERT graph without token_type_ids takes
 * the same dataset and gives the same outputs as the full one.
 */
class TextDatasetModelTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void natives() {
        DjlNatives.useCacheDir(Path.of("target", "djl"));
    }

    private static TextDataset open(Path text, Path tokenizer, int maxLength) throws IOException {
        return TextDatasetTest.open(text, tokenizer, TextOptions.fromMap(Map.of("maxLength", maxLength)));
    }

    /** The model's first output per sample, over every batch of the dataset. */
    private static List<float[]> run(OrtModel model, SampleSource data, int batchSize, List<long[]> masks) throws IOException {
        Map<String, String> binding = InputBinding.bind(model.inputs(), data.tensors());
        List<float[]> out = new ArrayList<>();
        try (SampleSource.BatchIterator it = data.batches(batchSize, data.sampleCount())) {
            while (it.hasNext()) {
                Batch b = it.next();
                float[][] rows = model.run(b, binding);
                long[] mask = b.tensors().get("attention_mask").toLongArray();
                int length = mask.length / b.size();
                for (int i = 0; i < b.size(); i++) {
                    out.add(rows[i]);
                    if (masks != null) {
                        masks.add(java.util.Arrays.copyOfRange(mask, i * length, (i + 1) * length));
                    }
                }
            }
        }
        return out;
    }

    /** Mean of the token vectors where attention_mask is 1 (how e5 pools a sentence). */
    private static double[] meanPool(float[] hidden, long[] mask) {
        int width = hidden.length / mask.length;
        double[] v = new double[width];
        int n = 0;
        for (int t = 0; t < mask.length; t++) {
            if (mask[t] == 1) {
                n++;
                for (int d = 0; d < width; d++) {
                    v[d] += hidden[t * width + d];
                }
            }
        }
        for (int d = 0; d < width; d++) {
            v[d] /= n;
        }
        return v;
    }

    private static double cosine(double[] a, double[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    @Test
    void e5EmbeddingsOfTheSnliSentencesPutParaphrasesNearer() throws IOException {
        List<String> sentences = Files.readAllLines(TextModels.snliSentences());
        TextDataset data = open(TextModels.snliSentences(), TextModels.e5Tokenizer(), 64);
        List<long[]> masks = new ArrayList<>();
        List<float[]> hidden;
        try (OrtModel e5 = OrtModel.load(TextModels.e5Model())) {
            hidden = run(e5, data, 32, masks);
        }
        assertThat(hidden).hasSize(330);
        assertThat(hidden.get(0)).hasSize(64 * 384);
        double[] dog = meanPool(hidden.get(sentences.indexOf("A dog licks his nose.")), masks.get(sentences.indexOf("A dog licks his nose.")));
        int para = sentences.indexOf("A dog is licking his nose.");
        int other = sentences.indexOf("The school band is walking to band hall.");
        double near = cosine(dog, meanPool(hidden.get(para), masks.get(para)));
        double far = cosine(dog, meanPool(hidden.get(other), masks.get(other)));
        assertThat(near).isGreaterThan(0.9).isGreaterThan(far + 0.05);
    }

    @Test
    void aTwoInputBertTakesTheThreeTensorDatasetAndComputesTheSame() throws IOException {
        Path twoInputs = BertVariants.withoutTokenTypeIds(TextModels.tinybert(), dir.resolve("tinybert-2-inputs.onnx"));
        TextDataset data = open(TextModels.snliSentences(), TextModels.tinybertTokenizer(), 48);
        try (OrtModel full = OrtModel.load(TextModels.tinybert()); OrtModel two = OrtModel.load(twoInputs)) {
            assertThat(two.inputs()).extracting(t -> t.name()).containsExactly("input_ids", "attention_mask");
            List<float[]> a = run(full, data, 64, null);
            List<float[]> b = run(two, data, 64, null);
            assertThat(b).hasSize(330);
            for (int i = 0; i < a.size(); i++) {
                assertThat(b.get(i)).as("sample " + i).containsExactly(a.get(i));
            }
        }
    }
}
