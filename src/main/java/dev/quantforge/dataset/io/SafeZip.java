package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * An uploaded zip opened for streaming reads, with the checks an untrusted archive needs: entry
 * paths that escape the archive are refused (nothing is ever extracted, but such archives are not
 * legitimate datasets), and decompression bombs are refused both by the sizes the archive declares
 * and by counting the bytes actually inflated, since headers can lie. Entry streams also verify
 * the CRC and declared size when read to the end, so corruption inside an entry is caught.
 * One instance = one pass; the inflated-bytes budget is shared by all entries it opens.
 */
final class SafeZip implements Closeable {

    private final ZipFile zip;
    private final ZipLimits limits;
    private final List<ZipEntry> files;
    private final List<String> directories;
    private long inflatedTotal;

    private SafeZip(ZipFile zip, ZipLimits limits, List<ZipEntry> files, List<String> directories) {
        this.zip = zip;
        this.limits = limits;
        this.files = files;
        this.directories = directories;
    }

    /** Opens {@code file} and checks every entry's path and the declared sizes against {@code limits}. */
    static SafeZip open(Path file, ZipLimits limits) throws IOException {
        ZipFile zip = openZipFile(file);
        try {
            List<ZipEntry> files = new ArrayList<>();
            List<String> directories = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            long declaredTotal = 0;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                checkPath(entry.getName());
                if (!seen.add(entry.getName())) {
                    throw new InvalidInputException("the zip archive contains the entry '" + entry.getName()
                            + "' twice; re-create the archive");
                }
                if (entry.isDirectory()) {
                    directories.add(entry.getName());
                    continue;
                }
                long size = entry.getSize();
                if (size > 0) {
                    declaredTotal += size;
                    if (declaredTotal > limits.maxUncompressedBytes()) {
                        throw totalLimitExceeded(limits, "declares");
                    }
                    checkRatio(entry, size, limits);
                }
                files.add(entry);
            }
            return new SafeZip(zip, limits, Collections.unmodifiableList(files), Collections.unmodifiableList(directories));
        } catch (RuntimeException ex) {
            zip.close();
            throw ex;
        }
    }

    /** Names of the archive's regular files (path-checked, not size-checked); for format detection. */
    static List<String> listFileNames(Path file) throws IOException {
        try (ZipFile zip = openZipFile(file)) {
            List<String> names = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                checkPath(entry.getName());
                if (!entry.isDirectory() && !isJunk(entry.getName())) {
                    names.add(entry.getName());
                }
            }
            return names;
        }
    }

    private static ZipFile openZipFile(Path file) throws IOException {
        try {
            return new ZipFile(file.toFile());
        } catch (ZipException | EOFException e) {
            // an end-of-central-directory record whose offsets point past the file ends in an EOFException, not a ZipException
            throw new InvalidInputException("the file is not a readable zip archive (" + (e.getMessage() == null
                    ? "its directory points past the end of the file" : e.getMessage()) + "); it is probably"
                    + " truncated or corrupt — upload the complete file again");
        }
    }

    /** Regular files of the archive in archive order (directories left out, junk included). */
    List<ZipEntry> files() {
        return files;
    }

    /** Names of the archive's explicit directory entries ("cat/"), path-checked; a folder may also exist only as a file's parent. */
    List<String> directories() {
        return directories;
    }

    ZipEntry entry(String name) {
        return zip.getEntry(name);
    }

    /** OS metadata that zip tools add (macOS resource forks, .DS_Store, hidden files): never data. */
    static boolean isJunk(String name) {
        if (name.startsWith("__MACOSX/")) {
            return true;
        }
        for (String part : name.split("/")) {
            if (part.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** Refuses absolute paths and {@code ..} segments (zip-slip). */
    static void checkPath(String name) {
        String normalized = name.replace('\\', '/');
        // a drive path is "C:/..." ("C:\\..."); "x:0.npy" is a tf2onnx tensor name (input "x:0"), not a path
        boolean absolute = normalized.startsWith("/") || normalized.matches("^[A-Za-z]:/.*");
        boolean escapes = false;
        for (String part : normalized.split("/")) {
            escapes |= part.equals("..");
        }
        if (absolute || escapes) {
            throw new InvalidInputException("zip entry '" + name + "' has an unsafe path ("
                    + (absolute ? "absolute path" : "'..' leads outside the archive")
                    + "); such archives are refused — re-create the zip with relative paths inside one folder");
        }
    }

    private static void checkRatio(ZipEntry entry, long inflated, ZipLimits limits) {
        long compressed = entry.getCompressedSize();
        if (inflated > limits.ratioCheckMinBytes()
                && (compressed <= 0 || inflated > limits.maxCompressionRatio() * compressed)) {
            String ratio = compressed <= 0 ? "unbounded" : String.format(Locale.ROOT, "%.0f:1", (double) inflated / compressed);
            throw new InvalidInputException(String.format(Locale.ROOT,
                    "zip entry '%s' inflates from %d compressed bytes to %d bytes or more, a compression ratio of %s (limit %.0f:1);"
                            + " it is refused as a likely decompression bomb", entry.getName(), compressed,
                    inflated, ratio, limits.maxCompressionRatio()));
        }
    }

    private static InvalidInputException totalLimitExceeded(ZipLimits limits, String how) {
        return new InvalidInputException("the zip archive " + how + " more than " + limits.maxUncompressedBytes()
                + " uncompressed bytes, the limit for datasets (maxUncompressedBytes); it is refused as a likely"
                + " decompression bomb — upload a smaller dataset or ask an administrator to raise the limit");
    }

    /** A stream of one entry's inflated bytes that enforces the limits on what it actually produces. */
    InputStream open(ZipEntry entry) throws IOException {
        return new GuardedEntryStream(entry, zip.getInputStream(entry));
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }

    private final class GuardedEntryStream extends FilterInputStream {
        private final ZipEntry entry;
        private final CRC32 crc = new CRC32();
        private long count;
        private boolean verified;

        GuardedEntryStream(ZipEntry entry, InputStream in) {
            super(in);
            this.entry = entry;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
                n = in.read(b, off, len);
            } catch (ZipException | EOFException e) {
                throw new InvalidInputException("zip entry '" + entry.getName() + "' is corrupt or truncated ("
                        + e.getMessage() + "); upload the complete file again");
            }
            if (n < 0) {
                verifyAtEnd();
                return n;
            }
            crc.update(b, off, n);
            count += n;
            inflatedTotal += n;
            if (inflatedTotal > limits.maxUncompressedBytes()) {
                throw totalLimitExceeded(limits, "inflates to");
            }
            checkRatio(entry, count, limits);
            if (entry.getSize() >= 0 && count > entry.getSize()) {
                throw new InvalidInputException("zip entry '" + entry.getName() + "' inflates to more bytes than the "
                        + entry.getSize() + " it declares; the archive is corrupt or forged");
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // read instead of skip so that every byte is counted and checksummed
            byte[] buf = new byte[(int) Math.min(n, 8192)];
            long skipped = 0;
            while (skipped < n) {
                int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
                if (r < 0) {
                    break;
                }
                skipped += r;
            }
            return skipped;
        }

        private void verifyAtEnd() {
            if (verified) {
                return;
            }
            verified = true;
            if (entry.getSize() >= 0 && count != entry.getSize()) {
                throw new InvalidInputException("zip entry '" + entry.getName() + "' is truncated: it inflates to " + count
                        + " bytes but declares " + entry.getSize() + "; upload the complete file again");
            }
            if (entry.getCrc() >= 0 && crc.getValue() != entry.getCrc()) {
                throw new InvalidInputException("zip entry '" + entry.getName() + "' is corrupt (CRC mismatch);"
                        + " upload the file again");
            }
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
