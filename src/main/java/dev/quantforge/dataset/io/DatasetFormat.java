package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The upload formats of a dataset. */
public enum DatasetFormat {
    NPZ("npz"), NPY("npy"), IMAGE_FOLDER("image_folder");

    private final String apiName;

    DatasetFormat(String apiName) {
        this.apiName = apiName;
    }

    public String apiName() {
        return apiName;
    }

    public static DatasetFormat fromApiName(String name) {
        for (DatasetFormat f : values()) {
            if (f.apiName.equalsIgnoreCase(name == null ? "" : name.trim())) {
                return f;
            }
        }
        throw new InvalidInputException("unknown dataset format '" + name + "'; use one of npz, npy, image_folder");
    }

    /**
     * Detects the format from the file's content (magic bytes and, for zips, the entry names);
     * the original file name only improves the error message.
     */
    public static DatasetFormat detect(Path file, String originalFilename) throws IOException {
        byte[] head = readHead(file, 8);
        String what = originalFilename == null || originalFilename.isBlank() ? "the file" : "'" + originalFilename + "'";
        if (head.length == 0) {
            throw new InvalidInputException(what + " is empty; upload an .npz, an .npy or a .zip of images");
        }
        if (startsWith(head, NpyHeader.MAGIC)) {
            return NPY;
        }
        if (isZip(head)) {
            List<String> names = SafeZip.listFileNames(file);
            if (names.stream().anyMatch(n -> n.toLowerCase(Locale.ROOT).endsWith(".npy"))) {
                return NPZ;
            }
            if (names.stream().anyMatch(ImageFolderDataset::isImageName)) {
                return IMAGE_FOLDER;
            }
            throw new InvalidInputException(what + " is a zip archive but contains neither .npy arrays (npz) nor JPEG/PNG images"
                    + " (image_folder)" + (names.isEmpty() ? "; the archive is empty" : ""));
        }
        String hint = head.length >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B
                ? " (it looks like a gzip file; decompress it and save the arrays with numpy.savez or numpy.save)"
                : "";
        throw new InvalidInputException(what + " is not a recognized dataset: expected an .npz (zip of .npy arrays), an .npy"
                + " array or a .zip of images in class folders, but the file starts with bytes " + hex(head) + hint);
    }

    static boolean isZip(byte[] head) {
        // local file header, or end-of-central-directory of an empty archive
        return startsWith(head, new byte[] {'P', 'K', 3, 4}) || startsWith(head, new byte[] {'P', 'K', 5, 6});
    }

    static byte[] readHead(Path file, int n) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        }
    }

    static boolean startsWith(byte[] bytes, byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            sb.append(String.format("%02x ", b & 0xFF));
        }
        return sb.toString().trim();
    }
}
