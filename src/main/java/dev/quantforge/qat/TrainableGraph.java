package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.onnx.Graphs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * An ONNX graph (default-domain opset ≥ 13, as {@code GraphPreparer} leaves it — prepare it with
 * {@code new PrepareOptions(false)} so that BatchNormalization stays trainable) evaluated node by node
 * with DJL NDArray operations, so that PyTorch autograd can differentiate it.
 *
 * <ul>
 *   <li>Every float initializer is a trainable parameter (gradient attached), except the running
 *       mean/variance of BatchNormalization (buffers, updated in training mode unless
 *       {@link #setBatchNormFrozen frozen}) and Clip bounds (constants).</li>
 *   <li>Other initializers (int64 shapes, axes) are constants.</li>
 *   <li>{@link #export()} writes parameters and buffers back into the initializers (FP32).</li>
 * </ul>
 * Arrays created by {@link #forward} are attached to the manager of the first graph input given;
 * run each step in a sub-manager and close it. Not thread-safe.
 */
public final class TrainableGraph implements AutoCloseable {

    /**
     * One ONNX op as a differentiable computation: the attribute checks it needs (refusing what it cannot
     * compute, naming the node) and its evaluation. The one list of what QAT can train.
     */
    private record Kernel(Check check, Evaluation evaluation) {
    }

    @FunctionalInterface
    private interface Check {
        void of(OnnxMl.NodeProto node, String where);
    }

    @FunctionalInterface
    private interface Evaluation {
        NDArray of(TrainableGraph graph, OnnxMl.NodeProto node, NDArray[] in, boolean training, NDManager scope);
    }

    private static final Check NONE = (node, where) -> { };

    private static Kernel kernel(Evaluation e) {
        return new Kernel(NONE, e);
    }

    /** Op type (default ONNX domain) → kernel. */
    private static final Map<String, Kernel> KERNELS = Map.ofEntries(
            Map.entry("Conv", new Kernel(TrainableGraph::checkConv, (g, node, in, training, scope) -> conv(node, in))),
            Map.entry("Gemm", kernel((g, node, in, training, scope) -> gemm(node, in))),
            Map.entry("MatMul", kernel((g, node, in, training, scope) -> in[0].matMul(in[1]))),
            Map.entry("Add", kernel((g, node, in, training, scope) -> in[0].add(in[1]))),
            Map.entry("Sub", kernel((g, node, in, training, scope) -> in[0].sub(in[1]))),
            Map.entry("Mul", kernel((g, node, in, training, scope) -> in[0].mul(in[1]))),
            Map.entry("Div", kernel((g, node, in, training, scope) -> in[0].div(in[1]))),
            Map.entry("Relu", kernel((g, node, in, training, scope) -> in[0].getNDArrayInternal().relu())),
            Map.entry("Sigmoid", kernel((g, node, in, training, scope) -> in[0].getNDArrayInternal().sigmoid())),
            Map.entry("Clip", kernel((g, node, in, training, scope) -> clip(in))),
            Map.entry("BatchNormalization", new Kernel(TrainableGraph::checkBatchNorm,
                    (g, node, in, training, scope) -> g.batchNorm(node, in, training && !g.batchNormFrozen))),
            Map.entry("MaxPool", new Kernel(TrainableGraph::checkMaxPool, (g, node, in, training, scope) -> pool(node, in[0], true))),
            Map.entry("AveragePool", new Kernel(TrainableGraph::checkAveragePool, (g, node, in, training, scope) -> pool(node, in[0], false))),
            Map.entry("GlobalAveragePool", kernel((g, node, in, training, scope) -> globalAveragePool(in[0]))),
            Map.entry("Flatten", kernel((g, node, in, training, scope) -> flatten(node, in[0]))),
            Map.entry("Reshape", new Kernel(TrainableGraph::checkReshape,
                    (g, node, in, training, scope) -> reshape(in[0], QatTensors.longs(in[1])))),
            Map.entry("Squeeze", kernel((g, node, in, training, scope) -> squeeze(in))),
            Map.entry("Unsqueeze", kernel((g, node, in, training, scope) -> unsqueeze(in[0], QatTensors.longs(in[1])))),
            Map.entry("Concat", kernel((g, node, in, training, scope) -> concat(node, in))),
            Map.entry("Softmax", kernel((g, node, in, training, scope) -> in[0].softmax(axis(intAttr(node, "axis", -1), in[0])))),
            Map.entry("LogSoftmax", kernel((g, node, in, training, scope) -> in[0].logSoftmax(axis(intAttr(node, "axis", -1), in[0])))),
            Map.entry("Constant", new Kernel(TrainableGraph::checkConstant, (g, node, in, training, scope) -> constant(node, scope))),
            Map.entry("Identity", kernel((g, node, in, training, scope) -> in[0])),
            // shape arithmetic of exported flattens (Shape → Gather → Unsqueeze → Concat → Reshape)
            Map.entry("Shape", kernel((g, node, in, training, scope) -> shape(node, in[0], scope))),
            Map.entry("Gather", kernel((g, node, in, training, scope) -> gather(in[0], in[1], (int) intAttr(node, "axis", 0)))));

    /** The ops this graph can evaluate (default ONNX domain), sorted. */
    public static final Set<String> SUPPORTED_OPS = Collections.unmodifiableSet(new TreeSet<>(KERNELS.keySet()));

    private static final int MIN_OPSET = 13;

    private final OnnxMl.ModelProto model;
    private final NDManager manager;
    private final List<OnnxMl.NodeProto> nodes;
    private final List<String> inputNames;
    private final List<String> outputNames;
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private final Map<String, NDArray> constants = new HashMap<>();
    private boolean batchNormFrozen;

    private TrainableGraph(OnnxMl.ModelProto model, NDManager manager) {
        this.model = model;
        this.manager = manager;
        OnnxMl.GraphProto graph = model.getGraph();
        this.nodes = graph.getNodeList();
        Map<String, OnnxMl.TensorProto> initializers = Graphs.initializers(graph);
        List<String> inputs = new ArrayList<>();
        for (OnnxMl.ValueInfoProto input : graph.getInputList()) {
            if (!initializers.containsKey(input.getName())) {
                inputs.add(input.getName());
            }
        }
        this.inputNames = List.copyOf(inputs);
        this.outputNames = graph.getOutputList().stream().map(OnnxMl.ValueInfoProto::getName).toList();

        Set<String> buffersNames = new HashSet<>();
        Set<String> constantFloats = new HashSet<>();
        Set<String> trainableUse = new HashSet<>();
        for (OnnxMl.NodeProto node : nodes) {
            for (int i = 0; i < node.getInputCount(); i++) {
                String in = node.getInput(i);
                if (node.getOpType().equals("BatchNormalization") && (i == 3 || i == 4)) {
                    buffersNames.add(in);
                } else if (node.getOpType().equals("Clip") && i > 0) {
                    constantFloats.add(in);
                } else {
                    trainableUse.add(in);
                }
            }
        }
        for (OnnxMl.TensorProto init : graph.getInitializerList()) {
            String name = init.getName();
            NDArray array = QatTensors.toNDArray(manager, init);
            array.setName(name);
            boolean isFloat = init.getDataType() == OnnxMl.TensorProto.DataType.FLOAT_VALUE;
            if (isFloat && trainableUse.contains(name)) {
                array.setRequiresGradient(true);
                parameters.put(name, array);
            } else if (isFloat && buffersNames.contains(name)) {
                buffers.put(name, array);
            } else {
                constants.put(name, array);
            }
        }
    }

    /**
     * Builds the graph. Throws {@link UnsupportedModelException} naming the unsupported ops,
     * attributes or opset.
     */
    public static TrainableGraph of(OnnxMl.ModelProto model, NDManager manager) {
        Long opset = Graphs.defaultOpset(model);
        if (opset == null || opset < MIN_OPSET) {
            throw new UnsupportedModelException("the model has default-domain opset " + opset
                    + "; prepare it to opset " + MIN_OPSET + " first (GraphPreparer)");
        }
        Set<String> unsupported = unsupportedOps(model);
        if (!unsupported.isEmpty()) {
            throw new UnsupportedModelException("unsupported ops for QAT: " + String.join(", ", unsupported));
        }
        for (OnnxMl.NodeProto node : model.getGraph().getNodeList()) {
            checkAttributes(node);
        }
        for (OnnxMl.TensorProto init : model.getGraph().getInitializerList()) {
            if (!QatTensors.supported(init.getDataType())) {
                throw new UnsupportedModelException("initializer '" + init.getName() + "' has element type "
                        + OnnxMl.TensorProto.DataType.forNumber(init.getDataType()));
            }
        }
        return new TrainableGraph(model, manager);
    }

    /** The op types of the model that {@link TrainableGraph} does not support (other domains as "domain:op"). */
    public static Set<String> unsupportedOps(OnnxMl.ModelProto model) {
        Set<String> result = new TreeSet<>();
        for (OnnxMl.NodeProto node : model.getGraph().getNodeList()) {
            String domain = node.getDomain();
            boolean defaultDomain = domain.isEmpty() || domain.equals("ai.onnx");
            if (!defaultDomain) {
                result.add(domain + ":" + node.getOpType());
            } else if (!SUPPORTED_OPS.contains(node.getOpType())) {
                result.add(node.getOpType());
            }
        }
        return result;
    }

    private static void checkAttributes(OnnxMl.NodeProto node) {
        KERNELS.get(node.getOpType()).check().of(node, node.getOpType() + " node '" + node.getName() + "'");
    }

    private static void checkConv(OnnxMl.NodeProto node, String where) {
        if (node.getInputCount() < 2) {
            throw new UnsupportedModelException(where + " has no weight");
        }
        checkAutoPad(node, where);
    }

    private static void checkMaxPool(OnnxMl.NodeProto node, String where) {
        if (node.getOutputCount() > 1 && !node.getOutput(1).isEmpty()) {
            throw new UnsupportedModelException(where + ": the Indices output is not supported");
        }
        checkNoDilation(node, where);
        checkAutoPad(node, where);
    }

    private static void checkAveragePool(OnnxMl.NodeProto node, String where) {
        if (intAttr(node, "ceil_mode", 0) != 0) {
            throw new UnsupportedModelException(where + ": ceil_mode=1 is not supported");
        }
        checkNoDilation(node, where);
        checkAutoPad(node, where);
    }

    private static void checkNoDilation(OnnxMl.NodeProto node, String where) {
        long[] dil = ints(node, "dilations", null);
        if (dil != null && Arrays.stream(dil).anyMatch(d -> d != 1)) {
            throw new UnsupportedModelException(where + ": dilations are not supported");
        }
    }

    private static void checkBatchNorm(OnnxMl.NodeProto node, String where) {
        if (intAttr(node, "training_mode", 0) != 0 || node.getOutputCount() > 1) {
            throw new UnsupportedModelException(where + ": training_mode / extra outputs are not supported"
                    + " (training is chosen per forward call)");
        }
    }

    private static void checkConstant(OnnxMl.NodeProto node, String where) {
        if (Graphs.attribute(node, "sparse_value").isPresent()
                || Graphs.attribute(node, "value_string").isPresent()
                || Graphs.attribute(node, "value_strings").isPresent()) {
            throw new UnsupportedModelException(where + ": only dense numeric constants are supported");
        }
        Optional<OnnxMl.AttributeProto> v = Graphs.attribute(node, "value");
        if (v.isPresent() && !QatTensors.supported(v.get().getT().getDataType())) {
            throw new UnsupportedModelException(where + ": element type "
                    + OnnxMl.TensorProto.DataType.forNumber(v.get().getT().getDataType()));
        }
    }

    private static void checkReshape(OnnxMl.NodeProto node, String where) {
        if (intAttr(node, "allowzero", 0) != 0) {
            throw new UnsupportedModelException(where + ": allowzero=1 is not supported");
        }
    }

    private static void checkAutoPad(OnnxMl.NodeProto node, String where) {
        String autoPad = stringAttr(node, "auto_pad", "NOTSET");
        if (!Set.of("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER").contains(autoPad)) {
            throw new UnsupportedModelException(where + ": auto_pad " + autoPad);
        }
    }

    // ---------------------------------------------------------------- API

    public List<String> inputNames() {
        return inputNames;
    }

    public List<String> outputNames() {
        return outputNames;
    }

    /** The trainable parameters (float initializers), by initializer name, in graph order. */
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /**
     * Sets the accumulated gradients of the parameters to zero. PyTorch accumulates gradients over
     * {@code backward} calls and DJL's {@code GradientCollector} does not reset them: call this
     * before (or after) each optimizer step.
     */
    public void zeroGradients() {
        for (NDArray p : parameters.values()) {
            NDArray grad;
            try {
                grad = p.getGradient();
            } catch (IllegalStateException noGradientYet) {
                continue;
            }
            try (grad) {
                grad.subi(grad);
            }
        }
    }

    /** BatchNormalization running means and variances, by initializer name. */
    public Map<String, NDArray> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    /** When frozen, BatchNormalization uses (and keeps) its running statistics in training mode too. */
    public void setBatchNormFrozen(boolean frozen) {
        this.batchNormFrozen = frozen;
    }

    public boolean batchNormFrozen() {
        return batchNormFrozen;
    }

    /**
     * Evaluates the graph. In training mode BatchNormalization normalizes with the batch statistics
     * and updates its running statistics (unless frozen). Run inside a
     * {@code GradientCollector} to record gradients.
     *
     * @return the graph outputs in graph order
     */
    public NDList forward(Map<String, NDArray> inputs, boolean training) {
        return forward(inputs, training, null);
    }

    /**
     * A transform of the value a node reads at one input position (fake quantization hooks in here).
     * It sees activations, parameters and constants alike; return {@code value} to leave it unchanged.
     */
    @FunctionalInterface
    public interface InputTransform {
        /**
         * @param node     the node
         * @param position the input position
         * @param tensor   the tensor name the node reads
         * @param value    its value
         */
        NDArray apply(OnnxMl.NodeProto node, int position, String tensor, NDArray value);
    }

    /**
     * Like {@link #forward(Map, boolean)}, with every node input passed through {@code transform}
     * (null: none) before the node reads it. Graph outputs are returned untransformed.
     */
    public NDList forward(Map<String, NDArray> inputs, boolean training, InputTransform transform) {
        Map<String, NDArray> values = new HashMap<>();
        NDManager scope = null;
        for (String name : inputNames) {
            NDArray in = inputs.get(name);
            if (in == null) {
                throw new IllegalArgumentException("no value for graph input '" + name + "'");
            }
            if (scope == null) {
                scope = in.getManager();
            }
            values.put(name, in);
        }
        if (scope == null) {
            scope = manager;
        }
        Map<NDArray, Boolean> owned = new IdentityHashMap<>();
        parameters.values().forEach(a -> owned.put(a, true));
        buffers.values().forEach(a -> owned.put(a, true));
        constants.values().forEach(a -> owned.put(a, true));
        values.values().forEach(a -> owned.put(a, true));
        for (int n = 0; n < nodes.size(); n++) {
            OnnxMl.NodeProto node = nodes.get(n);
            NDArray[] in = new NDArray[node.getInputCount()];
            for (int i = 0; i < in.length; i++) {
                String name = node.getInput(i);
                in[i] = name.isEmpty() ? null : lookup(name, values);
                if (transform != null && in[i] != null) {
                    NDArray t = transform.apply(node, i, name, in[i]);
                    if (t != in[i] && !owned.containsKey(t) && t.getManager() != scope) {
                        t.attach(scope);
                    }
                    in[i] = t;
                }
            }
            NDArray out;
            try {
                out = evaluate(node, in, training, scope);
            } catch (UnsupportedModelException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new IllegalStateException(node.getOpType() + " node '" + node.getName() + "' failed: "
                        + e.getMessage(), e);
            }
            if (!owned.containsKey(out) && out.getManager() != scope) {
                out.attach(scope);
            }
            values.put(node.getOutput(0), out);
        }
        NDList result = new NDList();
        for (String name : outputNames) {
            result.add(lookup(name, values));
        }
        return result;
    }

    private NDArray lookup(String name, Map<String, NDArray> values) {
        NDArray a = values.get(name);
        if (a == null) {
            a = parameters.get(name);
        }
        if (a == null) {
            a = constants.get(name);
        }
        if (a == null) {
            a = buffers.get(name);
        }
        if (a == null) {
            throw new IllegalStateException("no value for tensor '" + name + "'");
        }
        return a;
    }

    /** The model with the current parameter and running-statistics values as FP32 initializers. */
    public OnnxMl.ModelProto export() {
        OnnxMl.ModelProto.Builder builder = model.toBuilder();
        writeBack(builder);
        return builder.build();
    }

    /** Replaces the initializers of {@code model} that this graph trains with their current values (FP32). */
    public void writeBack(OnnxMl.ModelProto.Builder model) {
        OnnxMl.GraphProto.Builder graph = model.getGraphBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            OnnxMl.TensorProto old = graph.getInitializer(i);
            NDArray value = parameters.get(old.getName());
            if (value == null) {
                value = buffers.get(old.getName());
            }
            if (value != null) {
                long[] dims = old.getDimsList().stream().mapToLong(Long::longValue).toArray();
                graph.setInitializer(i, Graphs.floatTensor(old.getName(), dims, value.toFloatArray()));
            }
        }
    }

    @Override
    public void close() {
        parameters.values().forEach(NDArray::close);
        buffers.values().forEach(NDArray::close);
        constants.values().forEach(NDArray::close);
    }

    // ---------------------------------------------------------------- ops

    private NDArray evaluate(OnnxMl.NodeProto node, NDArray[] in, boolean training, NDManager scope) {
        Kernel k = KERNELS.get(node.getOpType());
        if (k == null) {
            throw new UnsupportedModelException("unsupported op " + node.getOpType());
        }
        return k.evaluation().of(this, node, in, training, scope);
    }

    private static NDArray conv(OnnxMl.NodeProto node, NDArray[] in) {
        NDArray x = in[0];
        NDArray w = in[1];
        NDArray b = in.length > 2 ? in[2] : null;
        int spatial = (int) w.getShape().dimension() - 2;
        long[] kernel = Arrays.copyOfRange(w.getShape().getShape(), 2, 2 + spatial);
        long[] strides = ints(node, "strides", filled(spatial, 1));
        long[] dilations = ints(node, "dilations", filled(spatial, 1));
        long[] pads = pads(node, x, kernel, strides, dilations);
        int group = (int) intAttr(node, "group", 1);
        PaddedInput p = padInput(x, pads, spatial, 0.0);
        return p.input.getNDArrayInternal().convolution(p.input, w, b, new Shape(strides), new Shape(p.symmetric),
                new Shape(dilations), group).singletonOrThrow();
    }

    private static NDArray pool(OnnxMl.NodeProto node, NDArray x, boolean max) {
        long[] kernel = ints(node, "kernel_shape", null);
        if (kernel == null) {
            throw new UnsupportedModelException(node.getOpType() + " without kernel_shape");
        }
        int spatial = kernel.length;
        long[] strides = ints(node, "strides", filled(spatial, 1));
        long[] pads = pads(node, x, kernel, strides, filled(spatial, 1));
        boolean ceil = intAttr(node, "ceil_mode", 0) != 0;
        Shape zero = new Shape(new long[spatial]);
        if (max) {
            boolean small = true;
            for (int i = 0; i < spatial; i++) {
                small &= pads[i] == pads[spatial + i] && pads[i] <= kernel[i] / 2;
            }
            if (small) {
                return x.getNDArrayInternal().maxPool(new Shape(kernel), new Shape(strides),
                        new Shape(Arrays.copyOf(pads, spatial)), ceil);
            }
            NDArray padded = padAll(x, pads, spatial, Double.NEGATIVE_INFINITY);
            return padded.getNDArrayInternal().maxPool(new Shape(kernel), new Shape(strides), zero, ceil);
        }
        // pads are applied explicitly (zeros); count_include_pad=0 divides by the pooled valid-element mask
        boolean countIncludePad = intAttr(node, "count_include_pad", 0) != 0;
        NDArray padded = padAll(x, pads, spatial, 0.0);
        NDArray sum = padded.getNDArrayInternal().avgPool(new Shape(kernel), new Shape(strides), zero, false, true);
        if (countIncludePad || Arrays.stream(pads).allMatch(v -> v == 0)) {
            return sum;
        }
        long[] maskShape = filled(x.getShape().dimension(), 1);
        for (int i = 0; i < spatial; i++) {
            maskShape[2 + i] = x.getShape().get(2 + i);
        }
        try (NDArray ones = x.getManager().ones(new Shape(maskShape), x.getDataType())) {
            NDArray mask = padAll(ones, pads, spatial, 0.0);
            NDArray counts = mask.getNDArrayInternal().avgPool(new Shape(kernel), new Shape(strides), zero, false, true);
            return sum.div(counts);
        }
    }

    private static NDArray padAll(NDArray x, long[] pads, int spatial, double value) {
        if (Arrays.stream(pads).allMatch(v -> v == 0)) {
            return x;
        }
        long[] torchPads = new long[2 * spatial];
        for (int i = 0; i < spatial; i++) {
            int slot = spatial - 1 - i;
            torchPads[2 * slot] = pads[i];
            torchPads[2 * slot + 1] = pads[spatial + i];
        }
        return x.pad(new Shape(torchPads), value);
    }

    /** ONNX pads [begin..., end...] from the attribute or auto_pad (needs the input shape). */
    private static long[] pads(OnnxMl.NodeProto node, NDArray x, long[] kernel, long[] strides, long[] dilations) {
        int spatial = kernel.length;
        String autoPad = stringAttr(node, "auto_pad", "NOTSET");
        if (autoPad.equals("NOTSET")) {
            return ints(node, "pads", new long[2 * spatial]);
        }
        long[] pads = new long[2 * spatial];
        if (autoPad.equals("VALID")) {
            return pads;
        }
        for (int i = 0; i < spatial; i++) {
            long size = x.getShape().get(2 + i);
            long out = (size + strides[i] - 1) / strides[i];
            long total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
            long small = total / 2;
            long big = total - small;
            boolean upper = autoPad.equals("SAME_UPPER");
            pads[i] = upper ? small : big;
            pads[spatial + i] = upper ? big : small;
        }
        return pads;
    }

    private record PaddedInput(NDArray input, long[] symmetric) {
    }

    /** Symmetric pads go to the op; the asymmetric remainder is padded explicitly with {@code value}. */
    private static PaddedInput padInput(NDArray x, long[] pads, int spatial, double value) {
        long[] symmetric = new long[spatial];
        long[] extra = new long[2 * spatial];
        boolean needExtra = false;
        for (int i = 0; i < spatial; i++) {
            long begin = pads[i];
            long end = pads[spatial + i];
            symmetric[i] = Math.min(begin, end);
            // torch pad order: last dim first, (begin, end) pairs
            int slot = spatial - 1 - i;
            extra[2 * slot] = begin - symmetric[i];
            extra[2 * slot + 1] = end - symmetric[i];
            needExtra |= begin != end;
        }
        if (!needExtra) {
            return new PaddedInput(x, symmetric);
        }
        return new PaddedInput(x.pad(new Shape(extra), value), symmetric);
    }

    private static NDArray gemm(OnnxMl.NodeProto node, NDArray[] in) {
        NDArray a = intAttr(node, "transA", 0) != 0 ? in[0].transpose() : in[0];
        NDArray b = intAttr(node, "transB", 0) != 0 ? in[1].transpose() : in[1];
        float alpha = floatAttr(node, "alpha", 1f);
        float beta = floatAttr(node, "beta", 1f);
        NDArray y = a.matMul(b);
        if (alpha != 1f) {
            y = y.mul(alpha);
        }
        if (in.length > 2 && in[2] != null) {
            y = y.add(beta == 1f ? in[2] : in[2].mul(beta));
        }
        return y;
    }

    private static NDArray clip(NDArray[] in) {
        Number min = in.length > 1 && in[1] != null ? scalar(in[1]) : null;
        Number max = in.length > 2 && in[2] != null ? scalar(in[2]) : null;
        boolean integer = in[0].getDataType().isInteger();
        if (min == null) {
            min = integer ? (Number) Long.MIN_VALUE : (Number) (-Float.MAX_VALUE);
        }
        if (max == null) {
            max = integer ? (Number) Long.MAX_VALUE : (Number) Float.MAX_VALUE;
        }
        return in[0].clip(min, max);
    }

    private static Number scalar(NDArray a) {
        if (a.getDataType().isInteger()) {
            return QatTensors.longs(a)[0];
        }
        return QatTensors.floats(a)[0];
    }

    private NDArray batchNorm(OnnxMl.NodeProto node, NDArray[] in, boolean updateStats) {
        NDArray x = in[0];
        int rank = x.getShape().dimension();
        long channels = x.getShape().get(1);
        long[] bshape = filled(rank, 1);
        bshape[1] = channels;
        Shape bs = new Shape(bshape);
        float eps = floatAttr(node, "epsilon", 1e-5f);
        NDArray scale = in[1].reshape(bs);
        NDArray bias = in[2].reshape(bs);
        NDArray mean;
        NDArray var;
        if (updateStats) {
            mean = channelMean(x, bs);
            NDArray centered = x.sub(mean);
            var = channelMean(centered.square(), bs);
            float momentum = floatAttr(node, "momentum", 0.9f);
            updateBuffer(node.getInput(3), mean, momentum);
            updateBuffer(node.getInput(4), var, momentum);
            return centered.div(var.add(eps).sqrt()).mul(scale).add(bias);
        }
        mean = in[3].reshape(bs);
        var = in[4].reshape(bs);
        return x.sub(mean).div(var.add(eps).sqrt()).mul(scale).add(bias);
    }

    /** running = running * momentum + batch * (1 - momentum), as ONNX BatchNormalization defines it. */
    private void updateBuffer(String name, NDArray batchStat, float momentum) {
        NDArray running = buffers.get(name);
        if (running == null) {
            return; // statistics given as a computed tensor, not an initializer: nothing to update
        }
        NDArray stat = batchStat.stopGradient().reshape(running.getShape());
        NDArray updated = running.mul(momentum).add(stat.mul(1 - momentum));
        updated.attach(manager);
        updated.setName(name);
        buffers.put(name, updated);
        running.close();
    }

    private static NDArray shape(OnnxMl.NodeProto node, NDArray x, NDManager scope) {
        long[] dims = x.getShape().getShape();
        int rank = dims.length;
        long start = intAttr(node, "start", 0);
        long end = intAttr(node, "end", rank);
        start = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
        end = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
        return scope.create(Arrays.copyOfRange(dims, (int) start, (int) Math.max(start, end)));
    }

    /** numpy take along {@code axis} (negative indices allowed), differentiable in {@code x}. */
    private static NDArray gather(NDArray x, NDArray indices, int axis) {
        long[] dims = x.getShape().getShape();
        int rank = dims.length;
        if (axis < 0) {
            axis += rank;
        }
        long size = dims[axis];
        NDArray idx = indices.toType(DataType.INT64, false);
        idx = idx.add(idx.lt(0).toType(DataType.INT64, false).mul(size));
        int[] perm = new int[rank];
        perm[0] = axis;
        for (int i = 0, j = 1; i < rank; i++) {
            if (i != axis) {
                perm[j++] = i;
            }
        }
        NDArray moved = rank == 1 ? x : x.transpose(perm);
        long rest = 1;
        for (int i = 0; i < rank; i++) {
            if (i != axis) {
                rest *= dims[i];
            }
        }
        NDArray linear = idx.reshape(-1, 1).mul(rest).add(x.getManager().arange(0, Math.toIntExact(rest), 1, DataType.INT64).reshape(1, -1));
        NDArray taken = moved.reshape(-1).take(linear.reshape(-1));
        long[] idxDims = indices.getShape().getShape();
        long[] takenShape = new long[idxDims.length + rank - 1];
        System.arraycopy(idxDims, 0, takenShape, 0, idxDims.length);
        for (int i = 0, j = idxDims.length; i < rank; i++) {
            if (i != axis) {
                takenShape[j++] = dims[i];
            }
        }
        taken = taken.reshape(new Shape(takenShape));
        // move the index dims back to position axis: [I..., d0..d(axis-1), d(axis+1)..] → [d0.., I..., ..]
        int k = idxDims.length;
        int outRank = takenShape.length;
        int[] back = new int[outRank];
        int p = 0;
        for (int i = 0; i < axis; i++) {
            back[p++] = k + i;
        }
        for (int i = 0; i < k; i++) {
            back[p++] = i;
        }
        for (int i = k + axis; i < outRank; i++) {
            back[p++] = i;
        }
        return outRank == 0 || axis == 0 ? taken : taken.transpose(back);
    }

    private static NDArray globalAveragePool(NDArray x) {
        long[] dims = x.getShape().getShape();
        long[] out = filled(dims.length, 1);
        out[0] = dims[0];
        out[1] = dims[1];
        return x.reshape(dims[0], dims[1], -1).mean(new int[]{2}).reshape(new Shape(out));
    }

    /** Mean over every axis but 1 (the channel axis), shaped [1, C, 1, ...] like x's rank. */
    private static NDArray channelMean(NDArray x, Shape broadcast) {
        return x.swapAxes(0, 1).reshape(x.getShape().get(1), -1).mean(new int[]{1}).reshape(broadcast);
    }

    private static NDArray flatten(OnnxMl.NodeProto node, NDArray x) {
        long[] dims = x.getShape().getShape();
        int axis = (int) intAttr(node, "axis", 1);
        if (axis < 0) {
            axis += dims.length;
        }
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= dims[i];
        }
        long inner = 1;
        for (int i = axis; i < dims.length; i++) {
            inner *= dims[i];
        }
        return x.reshape(outer, inner);
    }

    private static NDArray reshape(NDArray x, long[] shape) {
        long[] dims = x.getShape().getShape();
        long[] target = shape.clone();
        for (int i = 0; i < target.length; i++) {
            if (target[i] == 0) {
                target[i] = dims[i];
            }
        }
        return x.reshape(new Shape(target));
    }

    private static NDArray squeeze(NDArray[] in) {
        NDArray x = in[0];
        if (in.length < 2 || in[1] == null) {
            return x.squeeze();
        }
        long[] axes = QatTensors.longs(in[1]);
        int[] norm = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            norm[i] = (int) (axes[i] < 0 ? axes[i] + x.getShape().dimension() : axes[i]);
        }
        return x.squeeze(norm);
    }

    private static NDArray unsqueeze(NDArray x, long[] axes) {
        int outRank = x.getShape().dimension() + axes.length;
        long[] norm = new long[axes.length];
        for (int i = 0; i < axes.length; i++) {
            norm[i] = axes[i] < 0 ? axes[i] + outRank : axes[i];
        }
        Arrays.sort(norm);
        NDArray y = x;
        for (long a : norm) {
            y = y.expandDims((int) a);
        }
        return y;
    }

    private static NDArray concat(OnnxMl.NodeProto node, NDArray[] in) {
        int axis = (int) intAttr(node, "axis", 0);
        if (axis < 0) {
            axis += in[0].getShape().dimension();
        }
        NDList list = new NDList();
        for (NDArray a : in) {
            if (a != null) {
                list.add(a);
            }
        }
        return list.size() == 1 ? list.get(0) : NDArrays.concat(list, axis);
    }

    private static NDArray constant(OnnxMl.NodeProto node, NDManager scope) {
        for (OnnxMl.AttributeProto a : node.getAttributeList()) {
            switch (a.getName()) {
                case "value":
                    return QatTensors.toNDArray(scope, a.getT());
                case "value_float":
                    return scope.create(a.getF());
                case "value_floats": {
                    float[] v = new float[a.getFloatsCount()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = a.getFloats(i);
                    }
                    return scope.create(v);
                }
                case "value_int":
                    return scope.create(a.getI());
                case "value_ints":
                    return scope.create(a.getIntsList().stream().mapToLong(Long::longValue).toArray());
                default:
                    break;
            }
        }
        throw new UnsupportedModelException("Constant node '" + node.getName() + "' has no supported value");
    }

    // ---------------------------------------------------------------- attributes

    private static int axis(long axis, NDArray x) {
        return (int) (axis < 0 ? axis + x.getShape().dimension() : axis);
    }

    private static int[] range(int from, int to) {
        int[] r = new int[Math.max(0, to - from)];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    private static long[] filled(int n, long value) {
        long[] a = new long[n];
        Arrays.fill(a, value);
        return a;
    }

    static long intAttr(OnnxMl.NodeProto node, String name, long def) {
        return Graphs.attribute(node, name).map(OnnxMl.AttributeProto::getI).orElse(def);
    }

    static float floatAttr(OnnxMl.NodeProto node, String name, float def) {
        return Graphs.attribute(node, name).map(OnnxMl.AttributeProto::getF).orElse(def);
    }

    static String stringAttr(OnnxMl.NodeProto node, String name, String def) {
        return Graphs.attribute(node, name).map(a -> a.getS().toStringUtf8()).orElse(def);
    }

    static long[] ints(OnnxMl.NodeProto node, String name, long[] def) {
        return Graphs.attribute(node, name)
                .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray())
                .orElse(def);
    }

    /** The element type of an array as ONNX would name it (for messages). */
    static String typeName(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 ? "float32" : a.getDataType().toString();
    }
}
