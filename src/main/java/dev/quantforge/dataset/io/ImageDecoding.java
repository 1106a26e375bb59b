package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/** Image decoding (javax.imageio, in memory only) and the pixel steps of preprocessing. */
final class ImageDecoding {

    private ImageDecoding() {
    }

    /**
     * Decodes an image from its file bytes. The size is checked before the pixels are decoded, so a
     * small file that declares a huge image cannot exhaust memory. Decoder warnings (a JPEG that
     * ends early decodes with a grey bottom) count as errors: such images would silently skew results.
     */
    static BufferedImage decode(byte[] bytes, String fileName, long maxPixels) {
        // MemoryCacheImageInputStream: ImageIO.read(InputStream) would cache to a temp file on disk
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw undecodable(fileName, "not a JPEG/PNG image or its header is corrupt");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            IIOReadWarningListener listener = (source, warning) -> warnings.add(warning);
            reader.addIIOReadWarningListener(listener);
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > maxPixels) {
                    throw new InvalidInputException("image '" + fileName + "' is " + reader.getWidth(0) + "x"
                            + reader.getHeight(0) + " pixels, more than the limit of " + maxPixels + "; downscale it");
                }
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw undecodable(fileName, String.join("; ", warnings));
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException dfe) {
                throw dfe;
            }
            throw undecodable(fileName, String.valueOf(e.getMessage()));
        }
    }

    private static InvalidInputException undecodable(String fileName, String why) {
        return new InvalidInputException("image '" + fileName + "' could not be decoded (" + why
                + "); remove it from the zip or replace it with a valid JPEG or PNG");
    }

    /**
     * The image's pixels as planes of 0..255 values (row-major, width*height each): R, G, B, or one
     * grey plane when {@code grayscale}. Grey images use their own samples (getRGB would apply a
     * colour-space conversion that changes them); colour images become grey by luma 0.299R+0.587G+0.114B.
     */
    static float[][] planes(BufferedImage image, boolean grayscale) {
        int w = image.getWidth();
        int h = image.getHeight();
        int n = w * h;
        ColorModel cm = image.getColorModel();
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel)) {
            Raster raster = image.getRaster();
            float toByteRange = 255f / ((1 << cm.getComponentSize(0)) - 1);
            float[] grey = new float[n];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    grey[y * w + x] = raster.getSample(x, y, 0) * toByteRange;
                }
            }
            return grayscale ? new float[][] {grey} : new float[][] {grey, grey.clone(), grey.clone()};
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        if (grayscale) {
            float[] grey = new float[n];
            for (int i = 0; i < n; i++) {
                int p = argb[i];
                grey[i] = 0.299f * ((p >> 16) & 0xFF) + 0.587f * ((p >> 8) & 0xFF) + 0.114f * (p & 0xFF);
            }
            return new float[][] {grey};
        }
        float[] r = new float[n];
        float[] g = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            int p = argb[i];
            r[i] = (p >> 16) & 0xFF;
            g[i] = (p >> 8) & 0xFF;
            b[i] = p & 0xFF;
        }
        return new float[][] {r, g, b};
    }

    /** Bilinear resize with pixel-centre alignment (as OpenCV INTER_LINEAR, without antialiasing). */
    static float[] resizeBilinear(float[] src, int srcW, int srcH, int dstW, int dstH) {
        if (srcW == dstW && srcH == dstH) {
            return src;
        }
        float[] dst = new float[dstW * dstH];
        double sx = (double) srcW / dstW;
        double sy = (double) srcH / dstH;
        for (int y = 0; y < dstH; y++) {
            double fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), srcH - 1);
            int y0 = (int) fy;
            int y1 = Math.min(y0 + 1, srcH - 1);
            double wy = fy - y0;
            for (int x = 0; x < dstW; x++) {
                double fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), srcW - 1);
                int x0 = (int) fx;
                int x1 = Math.min(x0 + 1, srcW - 1);
                double wx = fx - x0;
                double top = src[y0 * srcW + x0] * (1 - wx) + src[y0 * srcW + x1] * wx;
                double bottom = src[y1 * srcW + x0] * (1 - wx) + src[y1 * srcW + x1] * wx;
                dst[y * dstW + x] = (float) (top * (1 - wy) + bottom * wy);
            }
        }
        return dst;
    }
}
