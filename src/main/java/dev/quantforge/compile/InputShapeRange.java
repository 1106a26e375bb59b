package dev.quantforge.compile;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The optimization profile of one dynamic model input: the smallest, typical and largest shape the engine
 * accepts ({@code --minShapes/--optShapes/--maxShapes}).
 */
public record InputShapeRange(String input, List<Long> min, List<Long> opt, List<Long> max) {

    public InputShapeRange {
        if (input == null || input.isBlank()) {
            throw new IllegalArgumentException("a shape range needs the input's name");
        }
        min = List.copyOf(min);
        opt = List.copyOf(opt);
        max = List.copyOf(max);
        if (min.size() != opt.size() || opt.size() != max.size() || min.isEmpty()) {
            throw new IllegalArgumentException("shapes of input '" + input + "': min, opt and max must have the same "
                    + "rank, got " + min + ", " + opt + ", " + max);
        }
        for (int i = 0; i < min.size(); i++) {
            if (min.get(i) < 1 || min.get(i) > opt.get(i) || opt.get(i) > max.get(i)) {
                throw new IllegalArgumentException("shapes of input '" + input + "': dimension " + i
                        + " needs 1 <= min <= opt <= max, got " + min.get(i) + ", " + opt.get(i) + ", " + max.get(i));
            }
        }
    }

    /** trtexec's shape syntax for one input: {@code name:1x3x224x224}. */
    static String spec(String input, List<Long> dims) {
        return quotedName(input) + ":" + dims.stream().map(String::valueOf).collect(Collectors.joining("x"));
    }

    /** Input names with ':' or ',' must be wrapped in single quotes for trtexec's spec parser ('Input:0'). */
    static String quotedName(String input) {
        return input.contains(":") || input.contains(",") ? "'" + input + "'" : input;
    }
}
