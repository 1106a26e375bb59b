package dev.quantforge.dataset.io;

/**
 * Limits that protect the service from hostile or broken zip uploads (npz and image_folder).
 *
 * @param maxUncompressedBytes most bytes a whole archive may inflate to, declared or actual
 * @param maxCompressionRatio  largest inflated/compressed ratio allowed for a large entry
 * @param ratioCheckMinBytes   entries that inflate to at most this many bytes skip the ratio rule
 *                             (tiny entries of zeros compress extremely well and are harmless)
 * @param maxImagePixels       most pixels (width*height) one image may declare before it is decoded
 */
public record ZipLimits(long maxUncompressedBytes, double maxCompressionRatio, long ratioCheckMinBytes, long maxImagePixels) {

    public static final long DEFAULT_MAX_UNCOMPRESSED_BYTES = 8L << 30;

    public static final ZipLimits DEFAULT = new ZipLimits(DEFAULT_MAX_UNCOMPRESSED_BYTES, 200, 1L << 20, 64L << 20);

    public ZipLimits {
        if (maxUncompressedBytes <= 0 || maxCompressionRatio <= 1 || ratioCheckMinBytes < 0 || maxImagePixels <= 0) {
            throw new IllegalArgumentException("invalid zip limits");
        }
    }

    /** The default limits with another cap on the total uncompressed size. */
    public static ZipLimits withMaxUncompressedBytes(long maxUncompressedBytes) {
        return new ZipLimits(maxUncompressedBytes, DEFAULT.maxCompressionRatio, DEFAULT.ratioCheckMinBytes, DEFAULT.maxImagePixels);
    }
}
