package dev.quantforge.compile;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * trtexec could not do what was asked. The message is for the user: what went wrong, what to change, and
 * the tail of trtexec's output.
 */
public class TrtexecFailedException extends RuntimeException {

    /** How many of trtexec's last lines the message quotes. */
    static final int TAIL_LINES = 25;

    public enum Kind {
        /** The ONNX parser has no importer (and no plugin) for an op; {@link #detail()} names it. */
        UNSUPPORTED_OPERATOR,
        /** No kernel fits in the workspace limit. */
        WORKSPACE_TOO_SMALL,
        /** The GPU ran out of memory. */
        OUT_OF_GPU_MEMORY,
        /** A dynamic input has no optimization profile; {@link #detail()} names it when trtexec does. */
        DYNAMIC_SHAPES_MISSING,
        /** A run asked for a shape outside the engine's optimization profile. */
        SHAPE_OUTSIDE_PROFILE,
        /** This TensorRT no longer has the weak-typing flags; {@link #detail()} is the refused flag. */
        WEAK_TYPING_REMOVED,
        /** The engine was built by another TensorRT version or for another GPU. */
        ENGINE_INCOMPATIBLE,
        /** No usable CUDA GPU. */
        NO_GPU,
        /** The ONNX parser refused the model for another reason. */
        ONNX_PARSE_FAILED,
        TIMEOUT,
        OTHER
    }

    private static final Pattern NO_IMPORTER = Pattern.compile("No importer registered for op: ([A-Za-z0-9_.:]+)");
    private static final Pattern PARSING_NODE = Pattern.compile("While parsing node number \\d+ \\[([A-Za-z0-9_.:]+)");
    private static final Pattern PLUGIN_NOT_FOUND = Pattern.compile("Plugin not found|could not find plugin", Pattern.CASE_INSENSITIVE);
    // "Could not find any implementation for node X." (TensorRT 8-10), "could not find any implementation for node X, try
    // increasing the workspace size" (TensorRT 7)
    private static final Pattern NO_IMPLEMENTATION = Pattern.compile(
            "could not find any implementation for node ([^\\n]+?)(?:[.,] ?try increasing|\\.\\)|\\.?$)",
            Pattern.CASE_INSENSITIVE | Pattern.MULTILINE);
    private static final Pattern OUT_OF_MEMORY = Pattern.compile("OutOfMemory|out of memory|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern NO_PROFILE = Pattern.compile("dynamic or shape inputs, but no optimization profile has been defined");
    private static final Pattern MISSING_IN_PROFILE = Pattern.compile("\\(?([^\\s():]+): dynamic input is missing dimensions in profile");
    private static final Pattern DYNAMIC_INPUT_WARNING = Pattern.compile("Dynamic dimensions required for input: ([^,\\s]+)");
    private static final Pattern OUTSIDE_PROFILE = Pattern.compile("exceed min ~ max range|exceeds? the (?:min|max)|is out of the range of the optimization profile",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern UNKNOWN_WEAK_FLAG = Pattern.compile("Unknown option: (--(?:int8|fp16|best|bf16|fp8|int4))\\b");
    private static final Pattern INCOMPATIBLE_ENGINE = Pattern.compile("engine plan file is not compatible|engine plan file is generated on an "
            + "incompatible device|Version tag does not match|Serialization assertion", Pattern.CASE_INSENSITIVE);
    private static final Pattern NO_GPU_PATTERN = Pattern.compile("no CUDA-capable device|CUDA initialization failure|CUDA driver version is "
            + "insufficient|cudaErrorNoDevice|Cuda failure: .*(no CUDA|driver)", Pattern.CASE_INSENSITIVE);
    private static final Pattern PARSE_FAILED = Pattern.compile("Failed to parse onnx file|Failed to parse ONNX model|could not parse",
            Pattern.CASE_INSENSITIVE);

    private final Kind kind;
    private final String detail;
    private final List<String> outputTail;

    public TrtexecFailedException(Kind kind, String detail, String message, List<String> outputTail) {
        super(message);
        this.kind = kind;
        this.detail = detail;
        this.outputTail = List.copyOf(outputTail);
    }

    public Kind kind() {
        return kind;
    }

    /** The op, input or flag the failure is about; null when there is none. */
    public String detail() {
        return detail;
    }

    public List<String> outputTail() {
        return outputTail;
    }

    /**
     * Reads why trtexec failed from its output and says what to change.
     *
     * @param what         "building the engine", "running the engine on batch 3"
     * @param exitCode     trtexec's exit status
     * @param output       everything it printed
     * @param workspaceMiB the workspace limit it ran with, null for TensorRT's default
     */
    static TrtexecFailedException classify(String what, int exitCode, List<String> output, Integer workspaceMiB) {
        String text = String.join("\n", output);
        List<String> tail = tail(output);
        String head = "trtexec failed (exit code " + exitCode + ") " + what + ": ";
        Matcher m;
        if ((m = UNKNOWN_WEAK_FLAG.matcher(text)).find()) {
            return new TrtexecFailedException(Kind.WEAK_TYPING_REMOVED, m.group(1), head + "this TensorRT no longer accepts "
                    + m.group(1) + " (TensorRT 11 removed --int8/--fp16/--best: precision comes from the model's types). "
                    + "Use precision strongly_typed with a QDQ model (a ptq, qat or auto_quantize artifact)" + quote(tail), tail);
        }
        if ((m = NO_IMPORTER.matcher(text)).find() || (PLUGIN_NOT_FOUND.matcher(text).find() && (m = PARSING_NODE.matcher(text)).find())) {
            String op = m.group(1);
            return new TrtexecFailedException(Kind.UNSUPPORTED_OPERATOR, op, head + "TensorRT's ONNX parser cannot import op '"
                    + op + "' and no plugin provides it. Replace that op in the model (export it decomposed into supported "
                    + "ops, or with another opset), or use a TensorRT version or plugin that supports it" + quote(tail), tail);
        }
        Matcher missing = MISSING_IN_PROFILE.matcher(text);
        boolean namedMissing = missing.find();
        if (namedMissing || NO_PROFILE.matcher(text).find()) {
            String input = namedMissing ? missing.group(1) : dynamicInput(text);
            return new TrtexecFailedException(Kind.DYNAMIC_SHAPES_MISSING, input, head + (input == null
                    ? "the model has dynamic inputs but no optimization profile. Give shapes {min, opt, max} for every "
                    + "input with a dynamic dimension"
                    : "input '" + input + "' has dynamic dimensions but no optimization profile. Give shapes." + input
                    + " {min, opt, max}") + quote(tail), tail);
        }
        if (OUTSIDE_PROFILE.matcher(text).find()) {
            return new TrtexecFailedException(Kind.SHAPE_OUTSIDE_PROFILE, null, head + "a shape lies outside the engine's "
                    + "optimization profile. Use shapes within {min, max} (a smaller evaluation batch), or rebuild with a "
                    + "larger max shape" + quote(tail), tail);
        }
        if ((m = NO_IMPLEMENTATION.matcher(text)).find()) {
            return new TrtexecFailedException(Kind.WORKSPACE_TOO_SMALL, m.group(1).strip(), head + "TensorRT found no "
                    + "implementation for layer " + m.group(1).strip() + " within the workspace limit ("
                    + (workspaceMiB == null ? "TensorRT's default" : workspaceMiB + " MiB") + "). Raise workspaceMiB; if "
                    + "that does not help, the layer has no kernel for these types and shapes" + quote(tail), tail);
        }
        if (OUT_OF_MEMORY.matcher(text).find()) {
            return new TrtexecFailedException(Kind.OUT_OF_GPU_MEMORY, null, head + "the GPU ran out of memory. Lower "
                    + "workspaceMiB or the max shapes, or run on a GPU with more memory (is another process using it?)"
                    + quote(tail), tail);
        }
        if (INCOMPATIBLE_ENGINE.matcher(text).find()) {
            return new TrtexecFailedException(Kind.ENGINE_INCOMPATIBLE, null, head + "the engine was built by another "
                    + "TensorRT version or for another GPU; engines are specific to both. Rebuild it on this worker"
                    + quote(tail), tail);
        }
        if (NO_GPU_PATTERN.matcher(text).find()) {
            return new TrtexecFailedException(Kind.NO_GPU, null, head + "no usable CUDA GPU (check the NVIDIA driver and "
                    + "that the container runs with GPU access, e.g. docker --gpus all or an nvidia.com/gpu limit)"
                    + quote(tail), tail);
        }
        if (PARSE_FAILED.matcher(text).find()) {
            return new TrtexecFailedException(Kind.ONNX_PARSE_FAILED, null, head + "TensorRT's ONNX parser refused the "
                    + "model; the error lines below say which node" + quote(tail), tail);
        }
        return new TrtexecFailedException(Kind.OTHER, null, head + "see trtexec's output" + quote(tail), tail);
    }

    static TrtexecFailedException timedOut(String what, long seconds, List<String> output, String advice) {
        List<String> tail = tail(output);
        return new TrtexecFailedException(Kind.TIMEOUT, null, "trtexec did not finish " + what + " within " + seconds
                + " s and was stopped. " + advice + quote(tail), tail);
    }

    private static String dynamicInput(String text) {
        Matcher w = DYNAMIC_INPUT_WARNING.matcher(text);
        return w.find() ? w.group(1) : null;
    }

    static List<String> tail(List<String> output) {
        return new ArrayList<>(output.subList(Math.max(0, output.size() - TAIL_LINES), output.size()));
    }

    private static String quote(List<String> tail) {
        return tail.isEmpty() ? "." : ".\nLast lines of trtexec's output:\n" + String.join("\n", tail);
    }
}
