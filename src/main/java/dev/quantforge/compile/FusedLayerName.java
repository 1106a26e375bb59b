package dev.quantforge.compile;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a TensorRT layer's name says about the ONNX nodes it runs. TensorRT names a fused layer after the
 * ONNX nodes (and weight initializers) it absorbed, joined with {@code " + "}; the real engines in the test
 * fixtures show the decorations it adds:
 * <ul>
 *   <li>{@code PWN(Clip_13)}, {@code PWN(PWN(Sigmoid_1), Mul_2)}: pointwise fusions, unwrapped;</li>
 *   <li>{@code Reformatting CopyNode for Input Tensor 0 to GlobalAveragePool_747}: a layout/type conversion
 *       TensorRT inserted; it runs no ONNX node (the name only says whose input it prepares);</li>
 *   <li>{@code (Unnamed Layer* 802) [Shuffle]} and names built on one ({@code copied_squeeze_after_(Unnamed
 *       Layer* 803) [ElementWise]}): layers TensorRT made, dropped;</li>
 *   <li>{@code unsqueeze_node_after_classifier.1.bias}, weight initializer names: kept as parts here, dropped
 *       when joined with the model because no ONNX node has those names;</li>
 *   <li>{@code {ForeignNode[first...last]}}: a Myelin region, named by its first and last ONNX node;</li>
 *   <li>{@code [ONNX Layer: name]}: the {@code Metadata} field of TensorRT 8.6+ (entries separated by
 *       U+001E/U+001F), which lists every ONNX node exactly; when present it is used instead of the name.</li>
 * </ul>
 *
 * @param parts         candidate ONNX node names, in the order TensorRT lists them
 * @param regions       Myelin regions as (first, last) node names, expanded against the model's node order
 * @param tensorRtMade  the layer is a reformat TensorRT inserted, not an ONNX node
 * @param fromMetadata  the parts come from {@code [ONNX Layer: ...]} entries (exact), not from the name
 */
public record FusedLayerName(List<String> parts, List<Region> regions, boolean tensorRtMade, boolean fromMetadata) {

    /** A Myelin region: every ONNX node from {@code first} to {@code last} in graph order. */
    public record Region(String first, String last) {
    }

    private static final Pattern REFORMAT = Pattern.compile("^Reformatting CopyNode for (Input|Output) Tensor \\d+ to .+");
    private static final Pattern ONNX_LAYER = Pattern.compile("\\[ONNX Layer: ([^\\]\\u001e\\u001f]+)]");
    private static final Pattern FOREIGN_NODE = Pattern.compile("^\\{ForeignNode\\[(.+?)\\.\\.\\.(.+)]}$");
    private static final String TENSORRT_UNNAMED = "(Unnamed Layer*";

    public FusedLayerName {
        parts = List.copyOf(parts);
        regions = List.copyOf(regions);
    }

    public static FusedLayerName of(String layerName, String metadata) {
        List<String> fromMetadata = onnxLayerEntries(metadata);
        if (!fromMetadata.isEmpty()) {
            return new FusedLayerName(fromMetadata, List.of(), false, true);
        }
        List<String> inName = onnxLayerEntries(layerName);
        if (!inName.isEmpty()) {
            return new FusedLayerName(inName, List.of(), false, true);
        }
        if (REFORMAT.matcher(layerName).matches()) {
            return new FusedLayerName(List.of(), List.of(), true, false);
        }
        List<String> parts = new ArrayList<>();
        List<Region> regions = new ArrayList<>();
        for (String part : splitTopLevel(layerName, " + ")) {
            collect(part.strip(), parts, regions);
        }
        return new FusedLayerName(parts, regions, false, false);
    }

    private static void collect(String part, List<String> parts, List<Region> regions) {
        if (part.isEmpty() || part.contains(TENSORRT_UNNAMED)) {
            return;
        }
        if (part.startsWith("PWN(") && part.endsWith(")")) {
            String inner = part.substring(4, part.length() - 1);
            for (String p : splitTopLevel(inner, ", ")) {
                for (String q : splitTopLevel(p, " + ")) {
                    collect(q.strip(), parts, regions);
                }
            }
            return;
        }
        Matcher foreign = FOREIGN_NODE.matcher(part);
        if (foreign.matches()) {
            regions.add(new Region(foreign.group(1), foreign.group(2)));
            return;
        }
        parts.add(part);
    }

    private static List<String> onnxLayerEntries(String text) {
        List<String> names = new ArrayList<>();
        if (text == null) {
            return names;
        }
        Matcher m = ONNX_LAYER.matcher(text);
        while (m.find()) {
            names.add(m.group(1).strip());
        }
        return names;
    }

    /** Splits at {@code separator} outside parentheses and brackets ("PWN(a, b)" and "[Shuffle]" stay whole). */
    static List<String> splitTopLevel(String text, String separator) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0 && text.startsWith(separator, i)) {
                out.add(text.substring(start, i));
                start = i + separator.length();
                i = start - 1;
            }
        }
        out.add(text.substring(start));
        return out;
    }
}
