package dev.quantforge.dataset.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetInspectorTest {

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @TempDir
    Path tmp;

    private final DatasetInspector inspector = new DatasetInspector();

    private AbstractThrowableAssert<?, ? extends Throwable> assertRefused(Path file, DatasetInspector inspector) {
        return assertThatThrownBy(() -> inspector.inspect(file, null, file.getFileName().toString(), null))
                .isInstanceOf(InvalidInputException.class);
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRefused(Path file) {
        return assertRefused(file, inspector);
    }

    @Test
    void summarizesMnistEval() throws IOException {
        DatasetSummary s = inspector.inspect(NpzDatasetTest.MNIST_EVAL, null, "mnist8-eval.npz", null);
        assertThat(s.format()).isEqualTo(DatasetFormat.NPZ);
        assertThat(s.sampleCount()).isEqualTo(2000);
        assertThat(s.tensors()).containsExactly(new TensorInfo("Input3", ElementType.FLOAT32, List.of(2000L, 1L, 28L, 28L)));
        assertThat(s.hasLabels()).isTrue();
        assertThat(s.classNames()).isNull();
    }

    @Test
    void summarizesAnImageFolderAndAnNpy() throws IOException {
        Path zip = ImageFolderDatasetTest.cifarZip(tmp);
        assertThat(DatasetFormat.detect(zip, "cifar.zip")).isEqualTo(DatasetFormat.IMAGE_FOLDER);
        DatasetSummary s = inspector.inspect(zip, null, "cifar.zip",
                Preprocessing.fromMap(Map.of("scale", 1 / 255.0, "layout", "nhwc")));
        assertThat(s.format()).isEqualTo(DatasetFormat.IMAGE_FOLDER);
        assertThat(s.sampleCount()).isEqualTo(100);
        assertThat(s.tensors().get(0).shape()).containsExactly(100L, 32L, 32L, 3L);
        assertThat(s.classNames()).isEqualTo(ImageFolderDatasetTest.CIFAR_CLASSES);

        Path npy = Files.write(tmp.resolve("x.npy"), NpyWriter.npy("<f4", new long[] {2, 3}, new byte[24]));
        DatasetSummary n = inspector.inspect(npy, DatasetFormat.NPY, "x.npy", null);
        assertThat(n.format()).isEqualTo(DatasetFormat.NPY);
        assertThat(n.tensors()).containsExactly(new TensorInfo("input", ElementType.FLOAT32, List.of(2L, 3L)));
        assertThat(n.hasLabels()).isFalse();
    }

    @Test
    void randomBytes() throws IOException {
        byte[] junk = new byte[5000];
        new Random(1).nextBytes(junk);
        junk[0] = 0x12;
        Path file = Files.write(tmp.resolve("junk.npz"), junk);
        assertRefused(file).hasMessageContaining("'junk.npz' is not a recognized dataset").hasMessageContaining("expected an .npz");
    }

    @Test
    void emptyFile() throws IOException {
        Path file = Files.write(tmp.resolve("empty.npz"), new byte[0]);
        assertRefused(file).hasMessageContaining("is empty");
    }

    @Test
    void truncatedNpz() throws IOException {
        byte[] full = Files.readAllBytes(NpzDatasetTest.MNIST_EVAL);
        Path file = Files.write(tmp.resolve("half.npz"), Arrays.copyOf(full, full.length / 2));
        assertRefused(file).hasMessageContaining("not a readable zip archive").hasMessageContaining("truncated");
    }

    @Test
    void corruptDataInsideAnEntry() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        byte[] data = new byte[40_000];
        new Random(2).nextBytes(data);
        entries.put("x.npy", NpyWriter.npy("|u1", new long[] {100, 400}, data));
        Path file = NpyWriter.zip(tmp.resolve("c.npz"), entries, true);
        byte[] bytes = Files.readAllBytes(file);
        bytes[20_000] ^= 0x5A; // flip bits in the middle of the stored data
        Files.write(file, bytes);
        assertRefused(file).hasMessageContaining("zip entry 'x.npy' is corrupt (CRC mismatch)");
    }

    @Test
    void corruptNpyHeader() throws IOException {
        Path file = Files.write(tmp.resolve("bad.npy"), NpyWriter.npyWithHeader("{'descr': <f4, 'shape': (3,)}", new byte[12], 1));
        assertRefused(file).hasMessageContaining("not a valid .npy file").hasMessageContaining("header");
    }

    @Test
    void firstAxesDiffer() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("a.npy", NpyWriter.npy("<f4", new long[] {10, 2}, new byte[80]));
        entries.put("b.npy", NpyWriter.npy("<f4", new long[] {9}, new byte[36]));
        Path file = NpyWriter.zip(tmp.resolve("axes.npz"), entries, false);
        assertRefused(file).hasMessageContaining("different first-axis lengths")
                .hasMessageContaining("'a' has 10").hasMessageContaining("'b' has 9");
    }

    @Test
    void floatLabels() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", NpyWriter.npy("<f4", new long[] {2}, new byte[8]));
        entries.put("labels.npy", NpyWriter.npy("<f4", new long[] {2}, NpyWriter.floats(LE, 1, 0)));
        Path file = NpyWriter.zip(tmp.resolve("fl.npz"), entries, false);
        assertRefused(file).hasMessageContaining("labels must be integer class indices, got float32");
    }

    @Test
    void negativeLabels() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", NpyWriter.npy("<f4", new long[] {2}, new byte[8]));
        entries.put("labels.npy", NpyWriter.npy("<i8", new long[] {2}, NpyWriter.longs(LE, 1, -1)));
        Path file = NpyWriter.zip(tmp.resolve("neg.npz"), entries, false);
        assertRefused(file).hasMessageContaining("sample 1 has label -1");
    }

    @Test
    void emptyDataset() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", NpyWriter.npy("<f4", new long[] {0, 3}, new byte[0]));
        Path file = NpyWriter.zip(tmp.resolve("empty.npz"), entries, false);
        assertRefused(file).hasMessageContaining("no samples");
    }

    @Test
    void tensorFlowInputNamesWithAColonAreKeys() throws IOException {
        // tf2onnx names inputs "x:0"; a colon after one letter is not a drive path
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x:0.npy", NpyWriter.npy("<f4", new long[] {2, 3}, new byte[24]));
        entries.put("serving_default_input:0.npy", NpyWriter.npy("<f4", new long[] {2, 3}, new byte[24]));
        Path file = NpyWriter.zip(tmp.resolve("tf.npz"), entries, false);
        DatasetSummary s = inspector.inspect(file, null, "tf.npz", null);
        assertThat(s.tensors()).extracting(TensorInfo::name).containsExactly("x:0", "serving_default_input:0");
    }

    @Test
    void zipSlipEntriesAreRefused() throws IOException {
        for (String evil : List.of("../evil.jpg", "cat/../../evil.jpg", "/etc/evil.jpg", "C:\\evil.jpg")) {
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("cat/ok.png", png());
            entries.put(evil, png());
            Path file = NpyWriter.zip(tmp.resolve("slip.zip"), entries, false);
            assertRefused(file).hasMessageContaining("zip entry '" + evil + "' has an unsafe path");
            assertThatThrownBy(() -> inspector.inspect(file, DatasetFormat.IMAGE_FOLDER, "slip.zip", null))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("unsafe path");
        }
    }

    /** An npz whose one array is 50 MB of zeros: deflates to about 50 KB. */
    private Path zerosNpz() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("zeros.npy", NpyWriter.npy("|u1", new long[] {50_000, 1000}, new byte[50_000_000]));
        return NpyWriter.zip(tmp.resolve("bomb.npz"), entries, false);
    }

    @Test
    void decompressionBombOverTheTotalLimit() throws IOException {
        DatasetInspector strict = new DatasetInspector(new ZipLimits(10_000_000, 100_000, 1 << 20, 1 << 20));
        assertRefused(zerosNpz(), strict).hasMessageContaining("more than 10000000 uncompressed bytes")
                .hasMessageContaining("decompression bomb");
    }

    @Test
    void decompressionBombOverTheRatioLimit() throws IOException {
        assertRefused(zerosNpz()).hasMessageContaining("zip entry 'zeros.npy'").hasMessageContaining("compression ratio")
                .hasMessageContaining("limit 200:1").hasMessageContaining("decompression bomb");
    }

    @Test
    void inflatedBytesAreCountedNotTakenFromTheHeaders() throws IOException {
        // an "image" of 50 MB of zeros whose central directory claims 1000 bytes: passes the declared checks
        Path file = NpyWriter.zip(tmp.resolve("forged.zip"), Map.of("cat/zeros.png", new byte[50_000_000]), false);
        byte[] bytes = Files.readAllBytes(file);
        int cen = lastIndexOf(bytes, new byte[] {'P', 'K', 1, 2});
        ByteBuffer.wrap(bytes).order(LE).putInt(cen + 24, 1000); // uncompressed size field of the entry
        Files.write(file, bytes);
        assertRefused(file).hasMessageContaining("zip entry 'cat/zeros.png' inflates to more bytes than the 1000 it declares");
    }

    @Test
    void undecodableImageIsNamed() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("cat/good.png", png());
        entries.put("cat/broken.jpg", "this is not a jpeg".getBytes());
        Path file = NpyWriter.zip(tmp.resolve("broken.zip"), entries, false);
        assertRefused(file).hasMessageContaining("image 'cat/broken.jpg' could not be decoded");

        // a JPEG cut short decodes with warnings only; that is refused too
        byte[] jpeg = Files.readAllBytes(ImageFolderDatasetTest.CIFAR.resolve("dog/0001.jpg"));
        entries.put("cat/broken.jpg", Arrays.copyOf(jpeg, jpeg.length / 2));
        Path cut = NpyWriter.zip(tmp.resolve("cut.zip"), entries, false);
        assertRefused(cut).hasMessageContaining("image 'cat/broken.jpg' could not be decoded");
    }

    @Test
    void requestedFormatMustMatchTheFile() {
        assertThatThrownBy(() -> inspector.inspect(NpzDatasetTest.MNIST_EVAL, DatasetFormat.NPY, "mnist8-eval.npz", null))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("format 'npy' was requested but the file is a zip");
        assertThatThrownBy(() -> inspector.inspect(NpzDatasetTest.MNIST_EVAL, DatasetFormat.IMAGE_FOLDER, "x.zip", null))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("contains no images");
    }

    @Test
    void zipWithoutArraysOrImages() throws IOException {
        Path file = NpyWriter.zip(tmp.resolve("docs.zip"), Map.of("readme.txt", "hi".getBytes()), false);
        assertRefused(file).hasMessageContaining("neither .npy arrays (npz) nor JPEG/PNG images");
    }

    private static byte[] png() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }

    private static int lastIndexOf(byte[] bytes, byte[] pattern) {
        for (int i = bytes.length - pattern.length; i >= 0; i--) {
            if (Arrays.equals(bytes, i, i + pattern.length, pattern, 0, pattern.length)) {
                return i;
            }
        }
        throw new AssertionError("pattern not found");
    }
}
