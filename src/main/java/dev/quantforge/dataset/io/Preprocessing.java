package dev.quantforge.dataset.io;

import dev.quantforge.quant.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How dataset values become model inputs: {@code x = (pixel*scale - mean[c]) / std[c]}.
 * Images use every field; npz/npy arrays use only {@code scale} (multiplied into the values).
 *
 * @param resize       [h, w] to resize images to (bilinear), or null to keep their size
 * @param scale        multiplier applied first (for 8-bit images usually 1/255)
 * @param mean         per-channel mean subtracted after scaling, or null (0)
 * @param std          per-channel divisor after the mean, or null (1)
 * @param layout       "nchw" or "nhwc"
 * @param channelOrder "rgb" or "bgr"
 * @param grayscale    one luma channel instead of three colour channels
 */
public record Preprocessing(int[] resize, double scale, double[] mean, double[] std, String layout, String channelOrder,
                            boolean grayscale) {

    public static final String NCHW = "nchw";
    public static final String NHWC = "nhwc";
    public static final String RGB = "rgb";
    public static final String BGR = "bgr";
    public static final int MAX_RESIZE = 4096;

    public static final Preprocessing DEFAULT = new Preprocessing(null, 1.0, null, null, NCHW, RGB, false);

    private static final List<String> KEYS = List.of("resize", "scale", "mean", "std", "layout", "channelOrder", "grayscale");

    public Preprocessing {
        layout = layout == null ? NCHW : layout.toLowerCase(Locale.ROOT);
        channelOrder = channelOrder == null ? RGB : channelOrder.toLowerCase(Locale.ROOT);
        resize = resize == null ? null : resize.clone();
        mean = mean == null ? null : mean.clone();
        std = std == null ? null : std.clone();
    }

    public int channels() {
        return grayscale ? 1 : 3;
    }

    public boolean nhwc() {
        return NHWC.equals(layout);
    }

    public boolean bgr() {
        return BGR.equals(channelOrder);
    }

    /** Checks every field; the message names the field and the allowed values. */
    public Preprocessing validate() {
        if (!Double.isFinite(scale) || scale == 0) {
            throw invalid("'scale' must be a finite non-zero number, got " + scale);
        }
        if (resize != null) {
            if (resize.length != 2) {
                throw invalid("'resize' must be [height, width], got " + resize.length + " values");
            }
            for (int d : resize) {
                if (d < 1 || d > MAX_RESIZE) {
                    throw invalid("'resize' entries must be between 1 and " + MAX_RESIZE + ", got " + Arrays.toString(resize));
                }
            }
        }
        checkPerChannel("mean", mean, false);
        checkPerChannel("std", std, true);
        if (!NCHW.equals(layout) && !NHWC.equals(layout)) {
            throw invalid("'layout' must be \"nchw\" or \"nhwc\", got \"" + layout + "\"");
        }
        if (!RGB.equals(channelOrder) && !BGR.equals(channelOrder)) {
            throw invalid("'channelOrder' must be \"rgb\" or \"bgr\", got \"" + channelOrder + "\"");
        }
        return this;
    }

    /** For npz/npy: only {@code scale} has a meaning; image options set to non-defaults are refused, not ignored. */
    public Preprocessing validateForArrays() {
        validate();
        List<String> imageOnly = new ArrayList<>();
        if (resize != null) {
            imageOnly.add("resize");
        }
        if (mean != null) {
            imageOnly.add("mean");
        }
        if (std != null) {
            imageOnly.add("std");
        }
        if (nhwc()) {
            imageOnly.add("layout");
        }
        if (bgr()) {
            imageOnly.add("channelOrder");
        }
        if (grayscale) {
            imageOnly.add("grayscale");
        }
        if (!imageOnly.isEmpty()) {
            throw invalid(String.join(", ", imageOnly) + " only apply to image_folder datasets; for npz/npy arrays only"
                    + " 'scale' is used — prepare the arrays in numpy instead");
        }
        return this;
    }

    private void checkPerChannel(String name, double[] values, boolean positive) {
        if (values == null) {
            return;
        }
        if (values.length != channels()) {
            throw invalid("'" + name + "' must have " + channels() + " value" + (channels() == 1 ? "" : "s") + ", one per channel"
                    + (grayscale ? " (grayscale images have 1 channel)" : " (R, G, B)") + ", got " + values.length);
        }
        for (double v : values) {
            if (!Double.isFinite(v) || (positive && v <= 0)) {
                throw invalid("'" + name + "' entries must be " + (positive ? "finite and > 0" : "finite") + ", got "
                        + Arrays.toString(values));
            }
        }
    }

    private static InvalidInputException invalid(String message) {
        return new InvalidInputException("invalid preprocessing: " + message);
    }

    /** Parses the JSON object of the API (already parsed into maps, lists, numbers); null means defaults. */
    public static Preprocessing fromMap(Map<String, Object> map) {
        if (map == null) {
            return DEFAULT;
        }
        for (String key : map.keySet()) {
            if (!KEYS.contains(key)) {
                throw invalid("unknown key '" + key + "'; allowed are " + String.join(", ", KEYS));
            }
        }
        int[] resize = null;
        Object r = map.get("resize");
        if (r != null) {
            double[] values = numbers("resize", r);
            resize = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                if (values[i] != Math.rint(values[i])) {
                    throw invalid("'resize' entries must be integers, got " + values[i]);
                }
                resize[i] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, values[i]));
            }
        }
        Object s = map.get("scale");
        double scale = 1.0;
        if (s != null) {
            if (!(s instanceof Number n)) {
                throw invalid("'scale' must be a number, got " + describe(s));
            }
            scale = n.doubleValue();
        }
        double[] mean = map.get("mean") == null ? null : numbers("mean", map.get("mean"));
        double[] std = map.get("std") == null ? null : numbers("std", map.get("std"));
        String layout = string("layout", map.get("layout"));
        String channelOrder = string("channelOrder", map.get("channelOrder"));
        Object g = map.get("grayscale");
        if (g != null && !(g instanceof Boolean)) {
            throw invalid("'grayscale' must be true or false, got " + describe(g));
        }
        return new Preprocessing(resize, scale, mean, std, layout, channelOrder, Boolean.TRUE.equals(g)).validate();
    }

    /** The JSON object form; unset optional fields are left out. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        if (resize != null) {
            map.put("resize", List.of(resize[0], resize[1]));
        }
        map.put("scale", scale);
        if (mean != null) {
            map.put("mean", Arrays.stream(mean).boxed().toList());
        }
        if (std != null) {
            map.put("std", Arrays.stream(std).boxed().toList());
        }
        map.put("layout", layout);
        map.put("channelOrder", channelOrder);
        map.put("grayscale", grayscale);
        return map;
    }

    private static double[] numbers(String key, Object value) {
        if (!(value instanceof List<?> list)) {
            throw invalid("'" + key + "' must be a list of numbers, got " + describe(value));
        }
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Number n)) {
                throw invalid("'" + key + "' must be a list of numbers, entry " + i + " is " + describe(list.get(i)));
            }
            out[i] = n.doubleValue();
        }
        return out;
    }

    private static String string(String key, Object value) {
        if (value != null && !(value instanceof String)) {
            throw invalid("'" + key + "' must be a string, got " + describe(value));
        }
        return (String) value;
    }

    private static String describe(Object value) {
        return value instanceof String str ? "\"" + str + "\"" : String.valueOf(value);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocessing p && Arrays.equals(p.resize, resize) && Double.compare(p.scale, scale) == 0
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std) && p.layout.equals(layout)
                && p.channelOrder.equals(channelOrder) && p.grayscale == grayscale;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(resize) * 31 + Double.hashCode(scale) + layout.hashCode() + channelOrder.hashCode()
                + Arrays.hashCode(mean) + 7 * Arrays.hashCode(std) + (grayscale ? 1 : 0);
    }

    @Override
    public String toString() {
        return "Preprocessing" + toMap();
    }
}
