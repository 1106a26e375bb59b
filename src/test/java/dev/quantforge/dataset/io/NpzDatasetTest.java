package dev.quantforge.dataset.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzDatasetTest {

    static final Path MNIST_EVAL = Path.of("/work/shared/datasets/mnist/mnist8-eval.npz");
    static final Path MNIST_CALIB = Path.of("/work/shared/datasets/mnist/mnist8-calib.npz");
    static final Path ALIBABA_SAMPLE = Path.of("/work/shared/datasets/mlperftiny-alibaba-extra/sample_data.npz");
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    @TempDir
    Path tmp;

    @Test
    void mnistEvalHasImagesAndLabelsAndStreamsInBatches() throws IOException {
        NpzDataset ds = new NpzDataset(MNIST_EVAL, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        assertThat(ds.tensors()).containsExactly(new TensorInfo("Input3", ElementType.FLOAT32, List.of(2000L, 1L, 28L, 28L)));
        assertThat(ds.sampleCount()).isEqualTo(2000);
        assertThat(ds.hasLabels()).isTrue();

        long samples = 0;
        int batchCount = 0;
        double sum = 0;
        long labelSum = 0;
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        long[] firstLabels = null;
        float[] firstImage = null;
        try (SampleSource.BatchIterator it = ds.batches(64, Long.MAX_VALUE)) {
            while (it.hasNext()) {
                Batch b = it.next();
                assertThat(b.firstSample()).isEqualTo(samples);
                NdArray x = b.tensors().get("Input3");
                // only this batch is materialized: the buffer holds exactly b.size() images
                assertThat(x.shape()).containsExactly(b.size(), 1, 28, 28);
                assertThat(x.data().capacity()).isEqualTo(b.size() * 28 * 28 * 4);
                assertThat(b.labels()).hasSize(b.size());
                float[] v = x.toFloatArray();
                if (firstImage == null) {
                    firstImage = java.util.Arrays.copyOf(v, 784);
                    firstLabels = b.labels();
                }
                for (float f : v) {
                    sum += f;
                    min = Math.min(min, f);
                    max = Math.max(max, f);
                }
                for (long l : b.labels()) {
                    labelSum += l;
                }
                samples += b.size();
                batchCount++;
            }
        }
        assertThat(samples).isEqualTo(2000);
        assertThat(batchCount).isEqualTo(32); // 31 full batches + 16
        assertThat(min).isEqualTo(0f);
        assertThat(max).isLessThanOrEqualTo(1f);
        // reference values computed with numpy from the same file
        assertThat(sum).isCloseTo(189753.08018221427, within(0.01));
        assertThat(labelSum).isEqualTo(8991);
        assertThat(java.util.Arrays.copyOf(firstLabels, 10)).containsExactly(9, 0, 2, 5, 1, 9, 7, 8, 1, 0);
        assertThat(firstImage).isEqualTo(firstImageParsedIndependently());
        double mean = 0;
        for (float f : firstImage) {
            mean += f;
        }
        assertThat(mean / 784).isCloseTo(0.10808323410503586, within(1e-6));
    }

    /** The first image read a second way: ZipInputStream and the header length field, no NpyHeader. */
    private static float[] firstImageParsedIndependently() throws IOException {
        try (ZipInputStream zin = new ZipInputStream(java.nio.file.Files.newInputStream(MNIST_EVAL))) {
            for (ZipEntry e = zin.getNextEntry(); e != null; e = zin.getNextEntry()) {
                if (e.getName().equals("Input3.npy")) {
                    byte[] prefix = zin.readNBytes(10);
                    int headerLen = (prefix[8] & 0xFF) | (prefix[9] & 0xFF) << 8;
                    zin.readNBytes(headerLen);
                    ByteBuffer b = ByteBuffer.wrap(zin.readNBytes(784 * 4)).order(LE);
                    float[] out = new float[784];
                    b.asFloatBuffer().get(out);
                    return out;
                }
            }
        }
        throw new AssertionError("Input3.npy not found");
    }

    @Test
    void maxSamplesLimitsThePassAndEachPassStartsAgain() throws IOException {
        NpzDataset ds = new NpzDataset(MNIST_EVAL, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        for (int pass = 0; pass < 2; pass++) {
            List<Integer> sizes = new ArrayList<>();
            try (SampleSource.BatchIterator it = ds.batches(100, 150)) {
                it.forEachRemaining(b -> sizes.add(b.size()));
            }
            assertThat(sizes).containsExactly(100, 50);
        }
    }

    @Test
    void mnistCalibHasNoLabels() throws IOException {
        NpzDataset ds = new NpzDataset(MNIST_CALIB, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        assertThat(ds.hasLabels()).isFalse();
        assertThat(ds.sampleCount()).isEqualTo(1000);
        double sum = 0;
        long samples = 0;
        try (SampleSource.BatchIterator it = ds.batches(256, Long.MAX_VALUE)) {
            while (it.hasNext()) {
                Batch b = it.next();
                assertThat(b.labels()).isNull();
                for (float f : b.tensors().get("Input3").toFloatArray()) {
                    sum += f;
                }
                samples += b.size();
            }
        }
        assertThat(samples).isEqualTo(1000);
        assertThat(sum).isCloseTo(95855.42832229799, within(0.01));
    }

    @Test
    void storedFloat64Array() throws IOException {
        NpzDataset ds = new NpzDataset(ALIBABA_SAMPLE, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        assertThat(ds.tensors()).containsExactly(new TensorInfo("actual_input_1", ElementType.FLOAT64, List.of(1L, 640L)));
        try (SampleSource.BatchIterator it = ds.batches(8, Long.MAX_VALUE)) {
            NdArray x = it.next().tensors().get("actual_input_1");
            assertThat(it.hasNext()).isFalse();
            ByteBuffer b = x.data();
            assertThat(b.getDouble(0)).isCloseTo(-52.68256378, within(1e-7));
            double sum = 0;
            for (int i = 0; i < 640; i++) {
                sum += b.getDouble(i * 8);
            }
            assertThat(sum).isCloseTo(-18759.979555904865, within(1e-6));
        }
    }

    @Test
    void scaleMultipliesFloatArraysAndKeepsTheirType() throws IOException {
        NpzDataset ds = new NpzDataset(MNIST_EVAL, new Preprocessing(null, 255, null, null, null, null, false), ZipLimits.DEFAULT);
        assertThat(ds.tensors().get(0).elementType()).isEqualTo(ElementType.FLOAT32);
        try (SampleSource.BatchIterator it = ds.batches(1, 1)) {
            float[] scaled = it.next().tensors().get("Input3").toFloatArray();
            float[] raw = firstImageParsedIndependently();
            for (int i = 0; i < raw.length; i++) {
                assertThat(scaled[i]).isCloseTo(raw[i] * 255f, within(1e-4f));
            }
        }
    }

    @Test
    void dtypeConversions() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("f64.npy", NpyWriter.npy("<f8", new long[] {3, 2}, NpyWriter.doubles(LE, 1, 2, 3, 4, 5, 6)));
        entries.put("bigf32.npy", NpyWriter.npy(">f4", new long[] {3}, NpyWriter.floats(BE, 1.5f, -2.25f, 1e6f)));
        entries.put("u8.npy", NpyWriter.npy("|u1", new long[] {3, 1}, new byte[] {0, (byte) 128, (byte) 255}));
        entries.put("half.npy", NpyWriter.npy("<f2", new long[] {3}, NpyWriter.shorts(LE, (short) 0x3C00, (short) 0xC000, (short) 0x3800)));
        entries.put("bigi64.npy", NpyWriter.npy(">i8", new long[] {3}, NpyWriter.longs(BE, -1, 1L << 40, 7)));
        entries.put("labels.npy", NpyWriter.npy("<i4", new long[] {3, 1}, NpyWriter.ints(LE, 2, 0, 1)));
        Path file = NpyWriter.zip(tmp.resolve("types.npz"), entries, false);

        NpzDataset ds = new NpzDataset(file, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        assertThat(ds.tensors()).extracting(TensorInfo::name).containsExactly("f64", "bigf32", "u8", "half", "bigi64");
        assertThat(ds.tensors()).extracting(TensorInfo::elementType).containsExactly(
                ElementType.FLOAT64, ElementType.FLOAT32, ElementType.UINT8, ElementType.FLOAT16, ElementType.INT64);
        try (SampleSource.BatchIterator it = ds.batches(2, Long.MAX_VALUE)) {
            Batch first = it.next();
            Batch second = it.next();
            assertThat(it.hasNext()).isFalse();
            assertThat(first.tensors().get("f64").toFloatArray()).containsExactly(1, 2, 3, 4);
            assertThat(second.tensors().get("f64").toFloatArray()).containsExactly(5, 6);
            assertThat(first.tensors().get("bigf32").toFloatArray()).containsExactly(1.5f, -2.25f);
            assertThat(second.tensors().get("bigf32").toFloatArray()).containsExactly(1e6f);
            assertThat(first.tensors().get("u8").toLongArray()).containsExactly(0, 128);
            assertThat(first.tensors().get("half").toFloatArray()).containsExactly(1f, -2f);
            assertThat(second.tensors().get("half").toFloatArray()).containsExactly(0.5f);
            assertThat(first.tensors().get("bigi64").toLongArray()).containsExactly(-1, 1L << 40);
            assertThat(first.labels()).containsExactly(2, 0);
            assertThat(second.labels()).containsExactly(1);
        }

        // with a scale, integer arrays become float32; labels are never scaled
        NpzDataset scaled = new NpzDataset(file, new Preprocessing(null, 1 / 255.0, null, null, null, null, false), ZipLimits.DEFAULT);
        assertThat(scaled.tensors()).extracting(TensorInfo::elementType).containsExactly(
                ElementType.FLOAT64, ElementType.FLOAT32, ElementType.FLOAT32, ElementType.FLOAT32, ElementType.FLOAT32);
        try (SampleSource.BatchIterator it = scaled.batches(3, Long.MAX_VALUE)) {
            Batch b = it.next();
            assertThat(b.tensors().get("u8").toFloatArray()).containsExactly(0f, 128 / 255f, 1f);
            assertThat(b.tensors().get("u8").shape()).containsExactly(3, 1);
            assertThat(b.tensors().get("f64").toFloatArray()[5]).isCloseTo(6 / 255f, within(1e-7f));
            assertThat(b.labels()).containsExactly(2, 0, 1);
        }
    }

    @Test
    void storedEntriesAndBigEndianLabels() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", NpyWriter.npy("<f4", new long[] {2, 2}, NpyWriter.floats(LE, 1, 2, 3, 4)));
        entries.put("labels.npy", NpyWriter.npy(">u2", new long[] {2}, NpyWriter.shorts(BE, (short) 3, (short) 9)));
        Path file = NpyWriter.zip(tmp.resolve("stored.npz"), entries, true);
        NpzDataset ds = new NpzDataset(file, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        try (SampleSource.BatchIterator it = ds.batches(5, Long.MAX_VALUE)) {
            Batch b = it.next();
            assertThat(b.tensors().get("x").toFloatArray()).containsExactly(1, 2, 3, 4);
            assertThat(b.labels()).containsExactly(3, 9);
        }
    }

    @Test
    void labelsMustBeIntegersOfShapeN() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", NpyWriter.npy("<f4", new long[] {2}, NpyWriter.floats(LE, 1, 2)));
        entries.put("labels.npy", NpyWriter.npy("<i8", new long[] {1, 2}, NpyWriter.longs(LE, 0, 1)));
        Path file = NpyWriter.zip(tmp.resolve("l.npz"), entries, false);
        assertThatThrownBy(() -> new NpzDataset(file, Preprocessing.DEFAULT, ZipLimits.DEFAULT))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("labels must have shape [N] or [N, 1]");
    }

    @Test
    void imageOptionsAreRefusedForArrays() {
        Preprocessing withMean = new Preprocessing(null, 1, new double[] {0.5, 0.5, 0.5}, null, null, null, false);
        assertThatThrownBy(() -> new NpzDataset(MNIST_EVAL, withMean, ZipLimits.DEFAULT))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("mean only apply to image_folder");
    }
}
