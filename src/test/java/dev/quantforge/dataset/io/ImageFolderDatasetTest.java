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
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderDatasetTest {

    static final Path CIFAR = Path.of("/work/shared/datasets/cifar10-mlperftiny-ic/test-jpeg");
    static final List<String> CIFAR_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
            "ship", "truck");
    static final double[] MEAN = {0.485, 0.456, 0.406};
    static final double[] STD = {0.229, 0.224, 0.225};

    @TempDir
    Path tmp;

    /** 100 CIFAR JPEGs (0000..0009 of each class) under one top folder, as a user would zip them. */
    static Path cifarZip(Path dir) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        // deliberately not in sorted order: the reader must sort
        for (int c = CIFAR_CLASSES.size() - 1; c >= 0; c--) {
            for (int i = 9; i >= 0; i--) {
                String name = CIFAR_CLASSES.get(c) + "/" + String.format("%04d.jpg", i);
                entries.put("test-jpeg/" + name, Files.readAllBytes(CIFAR.resolve(name)));
            }
        }
        entries.put("test-jpeg/README.txt", "not an image".getBytes());
        entries.put("__MACOSX/test-jpeg/cat/._0000.jpg", new byte[] {0, 5, 22, 7});
        entries.put("test-jpeg/.DS_Store", new byte[] {0, 0, 0, 1});
        return NpyWriter.zip(dir.resolve("cifar.zip"), entries, false);
    }

    @Test
    void cifarJpegsWithImagenetNormalization() throws IOException {
        Preprocessing pre = new Preprocessing(null, 1 / 255.0, MEAN, STD, null, null, false);
        ImageFolderDataset ds = new ImageFolderDataset(cifarZip(tmp), pre, ZipLimits.DEFAULT);
        assertThat(ds.classNames()).isEqualTo(CIFAR_CLASSES);
        assertThat(ds.sampleCount()).isEqualTo(100);
        assertThat(ds.hasLabels()).isTrue();
        assertThat(ds.tensors()).containsExactly(new TensorInfo("input", ElementType.FLOAT32, List.of(100L, 3L, 32L, 32L)));

        List<Long> labels = new ArrayList<>();
        NdArray batchWithSample37 = null;
        try (SampleSource.BatchIterator it = ds.batches(32, Long.MAX_VALUE)) {
            while (it.hasNext()) {
                Batch b = it.next();
                for (long l : b.labels()) {
                    labels.add(l);
                }
                if (b.firstSample() == 32) {
                    batchWithSample37 = b.tensors().get("input");
                }
            }
        }
        assertThat(labels).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(labels.get(i)).isEqualTo(i / 10);
        }
        // sample 37 = class 3 (cat), file 0007.jpg; compare with a direct ImageIO decode
        BufferedImage image = ImageIO.read(CIFAR.resolve("cat/0007.jpg").toFile());
        float[] values = batchWithSample37.toFloatArray();
        int sampleOffset = 5 * 3 * 32 * 32; // index 37 within the batch starting at 32
        for (int[] yx : new int[][] {{0, 0}, {5, 9}, {31, 31}, {17, 2}}) {
            int rgb = image.getRGB(yx[1], yx[0]);
            int[] channel = {(rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF};
            for (int c = 0; c < 3; c++) {
                double expected = (channel[c] / 255.0 - MEAN[c]) / STD[c];
                assertThat(values[sampleOffset + c * 1024 + yx[0] * 32 + yx[1]]).isCloseTo((float) expected, within(1e-5f));
            }
        }
    }

    private static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    /** A w x h image whose pixel (x, y) has R = 10x, G = 10y, B = 200. */
    private static BufferedImage gradient(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (10 * x) << 16 | (10 * y) << 8 | 200);
            }
        }
        return img;
    }

    private Path pngZip() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("dog/b.png", png(gradient(4, 3)));
        entries.put("cat/a.png", png(gradient(4, 3)));
        entries.put("dog/a.png", png(gradient(4, 3)));
        return NpyWriter.zip(tmp.resolve("png.zip"), entries, false);
    }

    private static float[] firstBatch(SampleSource ds) throws IOException {
        try (SampleSource.BatchIterator it = ds.batches(10, Long.MAX_VALUE)) {
            return it.next().tensors().get("input").toFloatArray();
        }
    }

    @Test
    void pngInNhwcAndBgr() throws IOException {
        Path zip = pngZip();
        ImageFolderDataset nchw = new ImageFolderDataset(zip, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        assertThat(nchw.classNames()).containsExactly("cat", "dog");
        assertThat(nchw.tensors().get(0).shape()).containsExactly(3L, 3L, 3L, 4L);
        try (SampleSource.BatchIterator it = nchw.batches(10, Long.MAX_VALUE)) {
            assertThat(it.next().labels()).containsExactly(0, 1, 1);
        }
        float[] v = firstBatch(nchw);
        // pixel (x=3, y=2) of the first image: R=30, G=20, B=200
        assertThat(v[0 * 12 + 2 * 4 + 3]).isEqualTo(30f);
        assertThat(v[1 * 12 + 2 * 4 + 3]).isEqualTo(20f);
        assertThat(v[2 * 12 + 2 * 4 + 3]).isEqualTo(200f);

        Preprocessing nhwcBgr = new Preprocessing(null, 2, new double[] {1, 2, 3}, new double[] {1, 2, 4}, "nhwc", "bgr", false);
        ImageFolderDataset hwc = new ImageFolderDataset(zip, nhwcBgr, ZipLimits.DEFAULT);
        assertThat(hwc.tensors().get(0).shape()).containsExactly(3L, 3L, 4L, 3L);
        float[] w = firstBatch(hwc);
        int pixel = (2 * 4 + 3) * 3;
        assertThat(w[pixel]).isEqualTo((200 * 2 - 1) / 1f);      // B first
        assertThat(w[pixel + 1]).isEqualTo((20 * 2 - 2) / 2f);    // G
        assertThat(w[pixel + 2]).isEqualTo((30 * 2 - 3) / 4f);    // R last
    }

    @Test
    void grayscaleUsesLumaOrTheImagesOwnGray() throws IOException {
        BufferedImage gray = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 17);
        gray.getRaster().setSample(1, 1, 0, 250);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("g/gray.png", png(gray));
        entries.put("h/color.png", png(gradient(2, 2)));
        Path zip = NpyWriter.zip(tmp.resolve("gray.zip"), entries, false);
        Preprocessing pre = new Preprocessing(null, 1, null, null, null, null, true);
        ImageFolderDataset ds = new ImageFolderDataset(zip, pre, ZipLimits.DEFAULT);
        assertThat(ds.tensors().get(0).shape()).containsExactly(2L, 1L, 2L, 2L);
        float[] v = firstBatch(ds);
        assertThat(v[0]).isEqualTo(17f);
        assertThat(v[3]).isEqualTo(250f);
        // color pixel (1,1): R=10, G=10, B=200
        assertThat(v[4 + 3]).isCloseTo(0.299f * 10 + 0.587f * 10 + 0.114f * 200, within(1e-4f));

        // a gray image read as 3 channels repeats its gray value
        float[] rgb = firstBatch(new ImageFolderDataset(zip, Preprocessing.DEFAULT, ZipLimits.DEFAULT));
        assertThat(new float[] {rgb[0], rgb[4], rgb[8]}).containsExactly(17f, 17f, 17f);
    }

    @Test
    void resizeIsBilinear() throws IOException {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0);
        img.setRGB(1, 0, 100 << 16);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("a/small.png", png(img));
        entries.put("a/big.png", png(gradient(8, 6))); // other sizes are fine with resize
        Path zip = NpyWriter.zip(tmp.resolve("resize.zip"), entries, false);
        Preprocessing pre = new Preprocessing(new int[] {2, 4}, 1, null, null, null, null, false);
        ImageFolderDataset ds = new ImageFolderDataset(zip, pre, ZipLimits.DEFAULT);
        assertThat(ds.tensors().get(0).shape()).containsExactly(2L, 3L, 2L, 4L);
        float[] v = firstBatch(ds);
        // sample 1 = small.png (a/big.png sorts first); red row 0 of 4: centres map to x = -0.25, 0.25, 0.75, 1.25
        int red = 1 * 3 * 8;
        assertThat(new float[] {v[red], v[red + 1], v[red + 2], v[red + 3]}).containsExactly(0f, 25f, 75f, 100f);
        assertThat(v[red + 4]).isEqualTo(0f);
    }

    @Test
    void imagesOfDifferentSizesNeedResize() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("a/1.png", png(gradient(4, 3)));
        entries.put("a/2.png", png(gradient(4, 3)));
        entries.put("b/odd.png", png(gradient(5, 3)));
        Path zip = NpyWriter.zip(tmp.resolve("sizes.zip"), entries, false);
        ImageFolderDataset ds = new ImageFolderDataset(zip, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        assertThatThrownBy(() -> {
            try (SampleSource.BatchIterator it = ds.batches(1, Long.MAX_VALUE)) {
                it.forEachRemaining(b -> { });
            }
        }).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("'b/odd.png' is 5x3")
                .hasMessageContaining("'a/1.png' is 4x3")
                .hasMessageContaining("resize");
    }

    @Test
    void imagesMustBeInClassFolders() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("loose.png", png(gradient(2, 2)));
        Path zip = NpyWriter.zip(tmp.resolve("flat.zip"), entries, false);
        assertThatThrownBy(() -> new ImageFolderDataset(zip, Preprocessing.DEFAULT, ZipLimits.DEFAULT))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("'loose.png' is not inside a class folder");

        entries.clear();
        entries.put("x/cat/1.png", png(gradient(2, 2)));
        entries.put("y/dog/1.png", png(gradient(2, 2)));
        Path twoTops = NpyWriter.zip(tmp.resolve("tops.zip"), entries, false);
        assertThatThrownBy(() -> new ImageFolderDataset(twoTops, Preprocessing.DEFAULT, ZipLimits.DEFAULT))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("several top-level folders [x, y]");
    }

    @Test
    void oneClassIsFine() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("only/1.png", png(gradient(2, 2)));
        Path zip = NpyWriter.zip(tmp.resolve("one.zip"), entries, false);
        ImageFolderDataset ds = new ImageFolderDataset(zip, Preprocessing.DEFAULT, ZipLimits.DEFAULT);
        assertThat(ds.classNames()).containsExactly("only");
        assertThat(ds.sampleCount()).isEqualTo(1);
    }
}
