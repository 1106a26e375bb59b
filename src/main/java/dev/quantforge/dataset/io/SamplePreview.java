package dev.quantforge.dataset.io;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * One dataset sample drawn as an image: the tensor the model is fed, turned back into pixels. For an
 * image folder the preprocessing is undone ({@code pixel = (x·std + mean) / scale}) while resize,
 * grayscale and channel order stay as the model sees them (a {@code bgr} dataset shows red and blue
 * swapped). Arrays ([C,H,W], [H,W,C] with 1 or 3 channels, or [H,W] per sample) are stretched from
 * their minimum to their maximum.
 */
public final class SamplePreview {

    /** Largest batch read while skipping to a sample of an array dataset, in elements. */
    private static final long SKIP_BATCH_ELEMENTS = 1 << 22;

    private SamplePreview() {
    }

    /** The image of sample {@code index} and its label (null without labels). */
    public record Preview(BufferedImage image, Long label) {
        public byte[] png() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        }
    }

    /**
     * @param preprocessing the dataset's preprocessing (null: none)
     * @throws IndexOutOfBoundsException when the dataset has no sample {@code index}
     * @throws InvalidInputException       when the sample is not image-shaped
     */
    public static Preview of(SampleSource source, Preprocessing preprocessing, long index) throws IOException {
        if (index < 0 || index >= source.sampleCount()) {
            throw new IndexOutOfBoundsException("sample " + index + " of " + source.sampleCount());
        }
        TensorInfo info = source.tensors().get(0);
        Batch batch;
        if (source instanceof ImageFolderDataset images) {
            batch = images.sample(index);
        } else {
            batch = skipTo(source, index, info);
        }
        int row = (int) (index - batch.firstSample());
        NdArray tensor = batch.tensors().get(info.name());
        long[] dims = Arrays.copyOfRange(tensor.shape(), 1, tensor.shape().length);
        int per = Math.toIntExact(Arrays.stream(dims).reduce(1, Math::multiplyExact));
        float[] all = tensor.toFloatArray();
        float[] x = Arrays.copyOfRange(all, row * per, (row + 1) * per);
        Long label = batch.labels() == null ? null : batch.labels()[row];
        if (source instanceof ImageFolderDataset) {
            Preprocessing pre = preprocessing == null ? Preprocessing.DEFAULT : preprocessing;
            return new Preview(fromPreprocessed(x, dims, pre), label);
        }
        return new Preview(stretched(x, dims, info), label);
    }

    private static Batch skipTo(SampleSource source, long index, TensorInfo info) throws IOException {
        long per = 1;
        for (int i = 1; i < info.shape().size(); i++) {
            Object d = info.shape().get(i);
            per *= d instanceof Number n ? Math.max(1, n.longValue()) : 1;
        }
        int batchSize = (int) Math.max(1, Math.min(256, SKIP_BATCH_ELEMENTS / Math.max(1, per)));
        Batch last = null;
        try (SampleSource.BatchIterator it = source.batches(batchSize, index + 1)) {
            while (it.hasNext()) {
                last = it.next();
            }
        }
        if (last == null) {
            throw new IndexOutOfBoundsException("sample " + index + " of " + source.sampleCount());
        }
        return last;
    }

    /** An image-folder sample: channels in the tensor's order, preprocessing undone. */
    private static BufferedImage fromPreprocessed(float[] x, long[] dims, Preprocessing pre) {
        boolean nhwc = pre.nhwc();
        int c = (int) (nhwc ? dims[2] : dims[0]);
        int h = (int) (nhwc ? dims[0] : dims[1]);
        int w = (int) (nhwc ? dims[1] : dims[2]);
        double[] mean = pre.mean();
        double[] std = pre.std();
        return draw(h, w, c, nhwc, (ch, v) -> {
            double m = mean == null ? 0 : mean[ch];
            double s = std == null ? 1 : std[ch];
            return (v * s + m) / pre.scale();
        }, x);
    }

    /** An array sample: its layout guessed from the shape, values stretched over 0..255. */
    private static BufferedImage stretched(float[] x, long[] dims, TensorInfo info) {
        int h;
        int w;
        int c;
        boolean hwc;
        if (dims.length == 2) {
            h = (int) dims[0];
            w = (int) dims[1];
            c = 1;
            hwc = true;
        } else if (dims.length == 3 && (dims[0] == 1 || dims[0] == 3)) {
            c = (int) dims[0];
            h = (int) dims[1];
            w = (int) dims[2];
            hwc = false;
        } else if (dims.length == 3 && (dims[2] == 1 || dims[2] == 3)) {
            h = (int) dims[0];
            w = (int) dims[1];
            c = (int) dims[2];
            hwc = true;
        } else {
            throw new InvalidInputException("tensor '" + info.name() + "' has samples of shape " + Arrays.toString(dims)
                    + ", not an image ([C,H,W] or [H,W,C] with 1 or 3 channels, or [H,W])");
        }
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            if (Float.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        double lo = Float.isFinite(min) ? min : 0;
        double span = max > min ? max - min : 1;
        return draw(h, w, c, hwc, (ch, v) -> (v - lo) / span * 255, x);
    }

    private interface ToPixel {
        double apply(int channel, double value);
    }

    private static BufferedImage draw(int h, int w, int c, boolean hwc, ToPixel toPixel, float[] x) {
        if (c != 1 && c != 3) {
            throw new InvalidInputException("a preview needs 1 or 3 channels, the sample has " + c);
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int plane = h * w;
        for (int y = 0; y < h; y++) {
            for (int px = 0; px < w; px++) {
                int p = y * w + px;
                int[] rgb = new int[3];
                for (int ch = 0; ch < c; ch++) {
                    float v = x[hwc ? p * c + ch : ch * plane + p];
                    rgb[ch] = clamp(toPixel.apply(ch, v));
                }
                if (c == 1) {
                    rgb[1] = rgb[0];
                    rgb[2] = rgb[0];
                }
                img.setRGB(px, y, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
            }
        }
        return img;
    }

    private static int clamp(double v) {
        return Double.isFinite(v) ? (int) Math.max(0, Math.min(255, Math.round(v))) : 0;
    }
}
