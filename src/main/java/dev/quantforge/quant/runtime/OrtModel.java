package dev.quantforge.quant.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.ValueInfo;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.TensorInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * An ONNX model loaded in ONNX Runtime (CPU), fed from dataset batches.
 *
 * <p>The batch dimension is <em>dynamic</em> when the first dimension of every input is symbolic
 * (or -1); otherwise the model has a fixed batch (the first fixed first dimension). Fixed-batch-1
 * models are run sample by sample, fixed-batch-N models in chunks of N.
 *
 * <p>Close it to free the native session. Every tensor and result created here is closed here,
 * except the feeds returned by {@link #createFeeds}, which belong to the caller.
 */
public final class OrtModel implements AutoCloseable {

    /** Thread count meaning "let ONNX Runtime decide" (one per physical core). */
    public static final int DEFAULT_THREADS = 0;

    private final OrtEnvironment env;
    private final OrtSession session;
    private final List<TensorInfo> inputs;
    private final List<String> outputNames;
    private final Long fixedBatch;
    private final int intraOpThreads;

    private OrtModel(OrtEnvironment env, OrtSession session, int intraOpThreads) throws OrtException {
        this.env = env;
        this.session = session;
        this.intraOpThreads = intraOpThreads;
        this.inputs = new ArrayList<>();
        for (NodeInfo node : session.getInputInfo().values()) {
            inputs.add(toTensorInfo(node));
        }
        this.outputNames = new ArrayList<>(session.getOutputInfo().keySet());
        this.fixedBatch = findFixedBatch(inputs);
    }

    /** Loads with ONNX Runtime's default thread count and all graph optimizations. */
    public static OrtModel load(Path onnxFile) {
        return load(onnxFile, DEFAULT_THREADS, OrtSession.SessionOptions.OptLevel.ALL_OPT);
    }

    /**
     * @param intraOpThreads threads for one operator; {@link #DEFAULT_THREADS} (0) lets ONNX Runtime decide
     */
    public static OrtModel load(Path onnxFile, int intraOpThreads, OrtSession.SessionOptions.OptLevel optLevel) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(optLevel);
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            OrtSession session = env.createSession(onnxFile.toString(), options);
            try {
                return new OrtModel(env, session, intraOpThreads);
            } catch (RuntimeException | OrtException e) {
                session.close();
                throw e;
            }
        } catch (OrtException e) {
            throw new InvalidInputException("ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }

    /**
     * Loads a serialized model held in memory (e.g. a model rewritten by the engine), so no
     * temporary file is needed.
     *
     * @param intraOpThreads threads for one operator; {@link #DEFAULT_THREADS} (0) lets ONNX Runtime decide
     */
    public static OrtModel load(byte[] modelBytes, int intraOpThreads, OrtSession.SessionOptions.OptLevel optLevel) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(optLevel);
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            OrtSession session = env.createSession(modelBytes, options);
            try {
                return new OrtModel(env, session, intraOpThreads);
            } catch (RuntimeException | OrtException e) {
                session.close();
                throw e;
            }
        } catch (OrtException e) {
            throw new InvalidInputException("ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }

    /** Model inputs as ONNX Runtime sees them (initializers excluded); symbolic dims by name, else null. */
    public List<TensorInfo> inputs() {
        return List.copyOf(inputs);
    }

    public List<String> outputNames() {
        return List.copyOf(outputNames);
    }

    public boolean hasDynamicBatch() {
        return fixedBatch == null;
    }

    /** The fixed batch size, empty when the batch dimension is dynamic. */
    public OptionalLong fixedBatchSize() {
        return fixedBatch == null ? OptionalLong.empty() : OptionalLong.of(fixedBatch);
    }

    /** Intra-op threads requested at load; 0 = ONNX Runtime's default. */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    public OrtEnvironment environment() {
        return env;
    }

    /** The underlying session, for callers that time or feed it directly (benchmark, calibration). */
    public OrtSession session() {
        return session;
    }

    /**
     * Runs the model on a batch and returns its first output as [sample][values in C order].
     *
     * @param binding model input name → dataset tensor name (see {@code InputBinding})
     */
    public float[][] run(Batch batch, Map<String, String> binding) {
        int chunk = batch.size();
        if (fixedBatch != null && fixedBatch != batch.size()) {
            if (fixedBatch <= 0 || batch.size() % fixedBatch != 0) {
                throw new InvalidInputException("the model has a fixed batch of " + fixedBatch
                        + "; a batch of " + batch.size() + " samples cannot be split into it");
            }
            chunk = Math.toIntExact(fixedBatch);
        }
        float[][] out = new float[batch.size()][];
        for (int from = 0; from < batch.size(); from += chunk) {
            Map<String, OnnxTensor> feeds = createFeeds(batch, binding, from, chunk);
            try (OrtSession.Result result = session.run(feeds, Set.of(outputNames.get(0)))) {
                float[][] rows = firstOutputRows(result.get(0), chunk);
                System.arraycopy(rows, 0, out, from, chunk);
            } catch (OrtException e) {
                throw new InvalidInputException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
            } finally {
                OnnxValue.close(feeds);
            }
        }
        return out;
    }

    /**
     * ONNX Runtime input tensors for samples [from, from + count) of {@code batch}, converted to
     * each input's element type. The caller must close them ({@link OnnxValue#close(Map)}).
     */
    public Map<String, OnnxTensor> createFeeds(Batch batch, Map<String, String> binding, int from, int count) {
        Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
        try {
            for (TensorInfo input : inputs) {
                String tensorName = binding.get(input.name());
                NdArray array = tensorName == null ? null : batch.tensors().get(tensorName);
                if (array == null) {
                    throw new InvalidInputException("no data bound to model input '" + input.name() + "'");
                }
                feeds.put(input.name(), createTensor(input, array, from, count));
            }
            return feeds;
        } catch (OrtException e) {
            OnnxValue.close(feeds);
            throw new InvalidInputException("cannot create the input tensors: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            OnnxValue.close(feeds);
            throw e;
        }
    }

    private OnnxTensor createTensor(TensorInfo input, NdArray array, int from, int count) throws OrtException {
        long[] shape = array.shape().clone();
        if (shape.length == 0) {
            throw new InvalidInputException("dataset tensor for model input '" + input.name() + "' has no sample axis");
        }
        shape[0] = count;
        long perSample = 1;
        for (int i = 1; i < shape.length; i++) {
            perSample *= shape[i];
        }
        int start = Math.toIntExact(from * perSample);
        int end = Math.toIntExact((from + (long) count) * perSample);
        // NdArray's converters work on the whole batch; slicing a per-sample chunk out of that copy is
        // cheap next to running the model.
        return switch (input.elementType()) {
            case FLOAT32 -> OnnxTensor.createTensor(env,
                    FloatBuffer.wrap(Arrays.copyOfRange(array.toFloatArray(), start, end)), shape);
            case FLOAT64 -> OnnxTensor.createTensor(env,
                    DoubleBuffer.wrap(Arrays.copyOfRange(toDoubleArray(array), start, end)), shape);
            case INT64 -> OnnxTensor.createTensor(env,
                    LongBuffer.wrap(Arrays.copyOfRange(array.toLongArray(), start, end)), shape);
            case INT32 -> {
                long[] values = array.toLongArray();
                int[] ints = new int[end - start];
                for (int i = 0; i < ints.length; i++) {
                    ints[i] = (int) values[start + i];
                }
                yield OnnxTensor.createTensor(env, IntBuffer.wrap(ints), shape);
            }
            case INT16 -> {
                long[] values = array.toLongArray();
                short[] shorts = new short[end - start];
                for (int i = 0; i < shorts.length; i++) {
                    shorts[i] = (short) values[start + i];
                }
                yield OnnxTensor.createTensor(env, ShortBuffer.wrap(shorts), shape, OnnxJavaType.INT16);
            }
            case INT8, UINT8, BOOL -> {
                long[] values = array.toLongArray();
                ByteBuffer bytes = ByteBuffer.allocateDirect(end - start).order(ByteOrder.nativeOrder());
                for (int i = start; i < end; i++) {
                    bytes.put((byte) (input.elementType() == ElementType.BOOL ? (values[i] != 0 ? 1 : 0) : values[i]));
                }
                bytes.rewind();
                OnnxJavaType type = switch (input.elementType()) {
                    case INT8 -> OnnxJavaType.INT8;
                    case UINT8 -> OnnxJavaType.UINT8;
                    default -> OnnxJavaType.BOOL;
                };
                yield OnnxTensor.createTensor(env, bytes, shape, type);
            }
            // The Java API has no unsigned 16/32/64-bit tensors; float16 and strings need other readers.
            case UINT16, UINT32, UINT64, FLOAT16, STRING -> throw new InvalidInputException("model input '" + input.name() + "' has element type "
                    + input.elementType().apiName() + ", which cannot be fed from a dataset yet");
        };
    }

    private static double[] toDoubleArray(NdArray array) {
        int n = Math.toIntExact(array.elementCount());
        double[] out = new double[n];
        if (array.elementType() == ElementType.FLOAT64) {
            ByteBuffer bytes = array.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            bytes.rewind();
            bytes.asDoubleBuffer().get(out);
        } else if (array.elementType().isInteger()) {
            long[] longs = array.toLongArray();
            for (int i = 0; i < n; i++) {
                out[i] = longs[i];
            }
        } else {
            float[] floats = array.toFloatArray();
            for (int i = 0; i < n; i++) {
                out[i] = floats[i];
            }
        }
        return out;
    }

    /** The first output as rows of {@code samples}; a model without a batch axis in its output still yields one row per sample. */
    private float[][] firstOutputRows(OnnxValue value, int samples) {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new InvalidInputException("the model's first output '" + outputNames.get(0) + "' is a "
                    + value.getType().name().toLowerCase() + ", not a tensor; it cannot be scored");
        }
        float[] flat = switch (tensor.getInfo().type) {
            case FLOAT -> copy(tensor.getFloatBuffer());
            case DOUBLE -> {
                DoubleBuffer b = tensor.getDoubleBuffer();
                float[] f = new float[b.remaining()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) b.get();
                }
                yield f;
            }
            case INT64 -> {
                LongBuffer b = tensor.getLongBuffer();
                float[] f = new float[b.remaining()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = b.get();
                }
                yield f;
            }
            case INT32 -> {
                IntBuffer b = tensor.getIntBuffer();
                float[] f = new float[b.remaining()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = b.get();
                }
                yield f;
            }
            default -> throw new InvalidInputException("the model's first output '" + outputNames.get(0)
                    + "' has element type " + tensor.getInfo().type + ", which cannot be scored");
        };
        if (flat.length % samples != 0) {
            throw new InvalidInputException("the model's first output '" + outputNames.get(0) + "' has "
                    + flat.length + " values, which cannot be split into " + samples + " samples");
        }
        int width = flat.length / samples;
        float[][] rows = new float[samples][];
        for (int s = 0; s < samples; s++) {
            rows[s] = Arrays.copyOfRange(flat, s * width, (s + 1) * width);
        }
        return rows;
    }

    private static float[] copy(FloatBuffer buffer) {
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        return values;
    }

    private static TensorInfo toTensorInfo(NodeInfo node) {
        ValueInfo info = node.getInfo();
        if (!(info instanceof ai.onnxruntime.TensorInfo tensor)) {
            throw new InvalidInputException("model input '" + node.getName() + "' is not a tensor (" + info
                    + "); only tensor inputs can be fed");
        }
        long[] dims = tensor.getShape();
        String[] dimNames = tensor.getDimensionNames();
        List<Object> shape = new ArrayList<>(dims.length);
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] >= 0) {
                shape.add(dims[i]);
            } else {
                String name = dimNames != null && i < dimNames.length ? dimNames[i] : null;
                shape.add(name == null || name.isEmpty() ? null : name);
            }
        }
        return new TensorInfo(node.getName(), elementType(node.getName(), tensor.onnxType), shape);
    }

    private static ElementType elementType(String inputName, ai.onnxruntime.TensorInfo.OnnxTensorType type) {
        return switch (type) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> ElementType.FLOAT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> ElementType.FLOAT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> ElementType.FLOAT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> ElementType.INT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> ElementType.UINT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> ElementType.INT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> ElementType.UINT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> ElementType.INT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> ElementType.UINT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> ElementType.INT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> ElementType.UINT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> ElementType.BOOL;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> ElementType.STRING;
            default -> throw new InvalidInputException("model input '" + inputName + "' has element type " + type
                    + ", which the service does not support");
        };
    }

    /** The batch size fixed by the inputs' first dimension, or null when every input's batch is dynamic. */
    private static Long findFixedBatch(List<TensorInfo> inputs) {
        for (TensorInfo input : inputs) {
            if (input.shape().isEmpty()) {
                return 1L; // a scalar input has no batch axis at all
            }
            if (input.shape().get(0) instanceof Long fixed) {
                return fixed;
            }
        }
        return null;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close ONNX Runtime session", e);
        }
    }
}
