package dev.quantforge.dataset.io;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;

/**
 * A zip of images in class folders ({@code cat/0001.jpg}, optionally under one common top folder
 * such as {@code test/cat/0001.jpg}) read as a labelled dataset. The sorted folder names are the
 * classes 0..K-1; samples are ordered by class, then file path. Each image is decoded, converted
 * to the preprocessing's channels, resized and normalized into one float32 tensor
 * {@value #TENSOR_NAME} of shape [N,C,H,W] or [N,H,W,C]. Non-image files and OS metadata are ignored.
 */
public final class ImageFolderDataset implements SampleSource {

    public static final String TENSOR_NAME = "input";

    private static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

    /** Images are decoded from memory; larger files are not plausible dataset images. */
    private static final int MAX_IMAGE_FILE_BYTES = 256 << 20;

    private record Sample(String entryName, int label) {
    }

    private final Path file;
    private final Preprocessing preprocessing;
    private final ZipLimits limits;
    private final List<String> classNames;
    private final List<Sample> samples;
    private final int height;
    private final int width;
    private final List<TensorInfo> tensors;

    public ImageFolderDataset(Path file, Preprocessing preprocessing, ZipLimits limits) throws IOException {
        this.file = file;
        this.preprocessing = preprocessing.validate();
        this.limits = limits;
        List<String> imageNames = new ArrayList<>();
        try (SafeZip zip = SafeZip.open(file, limits)) {
            for (ZipEntry entry : zip.files()) {
                if (!SafeZip.isJunk(entry.getName()) && isImageName(entry.getName())) {
                    imageNames.add(entry.getName());
                }
            }
            if (imageNames.isEmpty()) {
                throw new InvalidInputException("the zip contains no images (" + String.join(", ", new TreeSet<>(IMAGE_EXTENSIONS))
                        + "); put them in class folders such as cat/0001.jpg");
            }
            int classDepth = classFolderDepth(imageNames);
            TreeSet<String> classes = new TreeSet<>();
            for (String name : imageNames) {
                classes.add(name.split("/")[classDepth]);
            }
            requireImagesInEveryClassFolder(zip, imageNames, classDepth, classes);
            this.classNames = List.copyOf(classes);
            List<Sample> list = new ArrayList<>();
            for (String name : imageNames) {
                list.add(new Sample(name, classNames.indexOf(name.split("/")[classDepth])));
            }
            list.sort(Comparator.comparingInt(Sample::label).thenComparing(Sample::entryName));
            this.samples = List.copyOf(list);
            if (preprocessing.resize() != null) {
                this.height = preprocessing.resize()[0];
                this.width = preprocessing.resize()[1];
            } else {
                BufferedImage first = decode(zip, samples.get(0).entryName);
                this.height = first.getHeight();
                this.width = first.getWidth();
            }
        }
        long n = samples.size();
        long c = preprocessing.channels();
        List<Object> shape = preprocessing.nhwc() ? List.of(n, (long) height, (long) width, c) : List.of(n, c, (long) height, (long) width);
        this.tensors = List.of(new TensorInfo(TENSOR_NAME, ElementType.FLOAT32, shape));
    }

    static boolean isImageName(String name) {
        int dot = name.lastIndexOf('.');
        return dot >= 0 && !name.endsWith("/") && IMAGE_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /**
     * Index of the path segment that names the class: 0 for {@code cat/x.jpg}, 1 for one common top
     * folder ({@code top/cat/x.jpg}). Any other layout is refused with a message showing the expected one.
     */
    private static int classFolderDepth(List<String> imageNames) {
        Set<Integer> depths = new TreeSet<>();
        Set<String> tops = new TreeSet<>();
        for (String name : imageNames) {
            String[] parts = name.split("/");
            if (parts.length == 1) {
                throw new InvalidInputException("image '" + name + "' is not inside a class folder; put every image into a"
                        + " folder named after its class, e.g. cat/0001.jpg, dog/0001.jpg");
            }
            if (parts.length > 3) {
                throw new InvalidInputException("image '" + name + "' is nested too deeply; expected <class>/<file> or"
                        + " <top folder>/<class>/<file>");
            }
            depths.add(parts.length);
            tops.add(parts[0]);
        }
        if (depths.size() > 1) {
            throw new InvalidInputException("images are at different folder depths (some as <class>/<file>, some one folder"
                    + " deeper); put all images into class folders at the same level");
        }
        if (depths.contains(3) && tops.size() > 1) {
            throw new InvalidInputException("found class folders under several top-level folders " + tops
                    + "; use a single top folder (or none) that holds the class folders");
        }
        return depths.contains(3) ? 1 : 0;
    }

    /**
     * A class folder without images would be dropped from the sorted class list, moving every later
     * class's label down by one: refused, naming the folder.
     */
    private static void requireImagesInEveryClassFolder(SafeZip zip, List<String> imageNames, int classDepth, Set<String> classes) {
        String top = classDepth == 1 ? imageNames.get(0).split("/")[0] : null;
        Set<String> folders = new TreeSet<>();
        List<String> paths = new ArrayList<>(zip.directories());
        // a file's parent folders exist even without a directory entry; its own name is not a folder
        zip.files().forEach(f -> paths.add(f.getName().substring(0, f.getName().lastIndexOf('/') + 1)));
        for (String path : paths) {
            String[] parts = path.split("/");
            if (path.isEmpty() || SafeZip.isJunk(path) || parts.length <= classDepth || (top != null && !parts[0].equals(top))) {
                continue;
            }
            folders.add(parts[classDepth]);
        }
        folders.removeAll(classes);
        if (!folders.isEmpty()) {
            String prefix = top == null ? "" : top + "/";
            throw new InvalidInputException("class folder" + (folders.size() > 1 ? "s " : " ")
                    + String.join(", ", folders.stream().map(f -> "'" + prefix + f + "/'").toList())
                    + (folders.size() > 1 ? " hold" : " holds") + " no images (" + String.join(", ", new TreeSet<>(IMAGE_EXTENSIONS))
                    + "); the sorted class folders give the label indices, so every class needs at least one image: add its images"
                    + " or remove the folder");
        }
    }

    public List<String> classNames() {
        return classNames;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public long sampleCount() {
        return samples.size();
    }

    @Override
    public boolean hasLabels() {
        return true;
    }

    @Override
    public BatchIterator batches(int batchSize, long maxSamples) throws IOException {
        NpyBatchIterator.checkArguments(batchSize, maxSamples);
        return new ImageBatchIterator(SafeZip.open(file, limits), batchSize, 0, (int) Math.min(maxSamples, samples.size()));
    }

    /** Sample {@code index} alone, decoded and preprocessed (a batch of one), without reading the images before it. */
    public Batch sample(long index) throws IOException {
        if (index < 0 || index >= samples.size()) {
            throw new IndexOutOfBoundsException("sample " + index + " of " + samples.size());
        }
        try (ImageBatchIterator it = new ImageBatchIterator(SafeZip.open(file, limits), 1, (int) index, (int) index + 1)) {
            return it.next();
        }
    }

    private BufferedImage decode(SafeZip zip, String entryName) throws IOException {
        ZipEntry entry = zip.entry(entryName);
        if (entry == null) {
            throw new InvalidInputException("image '" + entryName + "' disappeared from the zip; the file changed while in use");
        }
        byte[] bytes;
        try (InputStream in = zip.open(entry)) {
            bytes = in.readNBytes(MAX_IMAGE_FILE_BYTES + 1);
        }
        if (bytes.length > MAX_IMAGE_FILE_BYTES) {
            throw new InvalidInputException("image '" + entryName + "' is larger than " + (MAX_IMAGE_FILE_BYTES >> 20)
                    + " MiB; downscale it");
        }
        return ImageDecoding.decode(bytes, entryName, limits.maxImagePixels());
    }

    private final class ImageBatchIterator implements BatchIterator {
        private final SafeZip zip;
        private final int batchSize;
        private final int end;
        private int next;

        ImageBatchIterator(SafeZip zip, int batchSize, int start, int end) {
            this.zip = zip;
            this.batchSize = batchSize;
            this.next = start;
            this.end = end;
        }

        @Override
        public boolean hasNext() {
            return next < end;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int count = Math.min(batchSize, end - next);
            int channels = preprocessing.channels();
            int sampleFloats = channels * height * width;
            ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(count, sampleFloats * 4)).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer floats = bytes.asFloatBuffer();
            long[] labels = new long[count];
            try {
                for (int i = 0; i < count; i++) {
                    Sample sample = samples.get(next + i);
                    writeSample(sample.entryName, floats, i * sampleFloats);
                    labels[i] = sample.label;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            long[] shape = preprocessing.nhwc() ? new long[] {count, height, width, channels}
                    : new long[] {count, channels, height, width};
            Batch batch = new Batch(next, count, Map.of(TENSOR_NAME, new NdArray(ElementType.FLOAT32, shape, bytes)), labels);
            next += count;
            return batch;
        }

        /** Decodes one image and writes its normalized values at {@code offset}. */
        private void writeSample(String entryName, FloatBuffer out, int offset) throws IOException {
            BufferedImage image = decode(zip, entryName);
            int w = image.getWidth();
            int h = image.getHeight();
            if (preprocessing.resize() == null) {
                checkSameSize(entryName, w, h);
            }
            float[][] planes = ImageDecoding.planes(image, preprocessing.grayscale());
            int channels = planes.length;
            double scale = preprocessing.scale();
            double[] mean = preprocessing.mean();
            double[] std = preprocessing.std();
            boolean nhwc = preprocessing.nhwc();
            int pixels = height * width;
            for (int c = 0; c < channels; c++) {
                // mean/std are given in output channel order; bgr reads the planes backwards
                float[] plane = planes[preprocessing.bgr() ? channels - 1 - c : c];
                plane = ImageDecoding.resizeBilinear(plane, w, h, width, height);
                double m = mean == null ? 0 : mean[c];
                double s = std == null ? 1 : std[c];
                for (int p = 0; p < pixels; p++) {
                    float value = (float) ((plane[p] * scale - m) / s);
                    out.put(offset + (nhwc ? p * channels + c : c * pixels + p), value);
                }
            }
        }

        /** Without resize every image must have the size of the first one (which gave the tensor shape). */
        private void checkSameSize(String entryName, int w, int h) {
            if (w != width || h != height) {
                throw new InvalidInputException("image '" + entryName + "' is " + w + "x" + h + " (width x height) but the"
                        + " first image '" + samples.get(0).entryName + "' is " + width + "x" + height + "; all images must"
                        + " have the same size, or set preprocessing.resize to [height, width]");
            }
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }
    }
}
