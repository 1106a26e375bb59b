package dev.quantforge.compile;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A TensorRT release, as trtexec reports it in its banner or its "TensorRT version:" line. */
public record TensorRtVersion(int major, int minor, int patch) implements Comparable<TensorRtVersion> {

    /** {@code &&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec ...}: 10.3.0; TensorRT 8 wrote v8601 (8.6.1). */
    private static final Pattern BANNER = Pattern.compile("\\[TensorRT v(\\d+)]");
    /** {@code [I] TensorRT version: 10.3.0}. */
    private static final Pattern VERSION_LINE = Pattern.compile("TensorRT version: (\\d+)\\.(\\d+)\\.(\\d+)");

    /** The first TensorRT release whose trtexec builds strongly typed networks ({@code --stronglyTyped}). */
    public static final TensorRtVersion FIRST_STRONGLY_TYPED = new TensorRtVersion(10, 0, 0);
    /** The release that removed the weak-typing flags {@code --int8/--fp16/--best}. */
    public static final TensorRtVersion WITHOUT_WEAK_TYPING = new TensorRtVersion(11, 0, 0);

    /** "10.9.0" (or "10.9", "10": missing parts are 0), as a worker advertises it; empty when it is not one. */
    public static Optional<TensorRtVersion> parse(String text) {
        if (text == null || !text.strip().matches("\\d{1,4}(\\.\\d{1,4}){0,2}")) {
            return Optional.empty();
        }
        String[] p = text.strip().split("\\.");
        return Optional.of(new TensorRtVersion(Integer.parseInt(p[0]), p.length > 1 ? Integer.parseInt(p[1]) : 0,
                p.length > 2 ? Integer.parseInt(p[2]) : 0));
    }

    public static Optional<TensorRtVersion> fromOutput(List<String> lines) {
        for (String line : lines) {
            Matcher v = VERSION_LINE.matcher(line);
            if (v.find()) {
                return Optional.of(new TensorRtVersion(Integer.parseInt(v.group(1)), Integer.parseInt(v.group(2)),
                        Integer.parseInt(v.group(3))));
            }
            Matcher b = BANNER.matcher(line);
            if (b.find()) {
                return Optional.of(fromBannerNumber(Integer.parseInt(b.group(1))));
            }
        }
        return Optional.empty();
    }

    /** NV_TENSORRT_VERSION: major·10000 + minor·100 + patch since TensorRT 10, major·1000 + minor·100 + patch before. */
    static TensorRtVersion fromBannerNumber(int number) {
        if (number >= 10000) {
            return new TensorRtVersion(number / 10000, number / 100 % 100, number % 100);
        }
        return new TensorRtVersion(number / 1000, number / 100 % 10, number % 100);
    }

    public boolean hasWeakTypingFlags() {
        return compareTo(WITHOUT_WEAK_TYPING) < 0;
    }

    public boolean buildsStronglyTyped() {
        return compareTo(FIRST_STRONGLY_TYPED) >= 0;
    }

    @Override
    public int compareTo(TensorRtVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
