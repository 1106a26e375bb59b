package dev.quantforge.quant.qdq;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.inspect.ModelInspector;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What ONNX Runtime (CPU, optimization level ALL) makes of a model: the op histogram of its optimized
 * graph, read back from {@code SessionOptions.setOptimizedModelFilePath}. Ops outside the default domain
 * (com.microsoft QGemm, QLinearAdd, MatMulIntegerToFloat, ...) are counted under their plain op type.
 */
public final class OrtFusionCheck {

    /** Integer kernels ONNX Runtime runs a QDQ group as (default and com.microsoft domains). */
    public static final Set<String> FUSED_INT8_OPS = Set.of("QLinearConv", "QLinearMatMul", "MatMulInteger",
            "MatMulIntegerToFloat", "ConvInteger", "QGemm", "QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool",
            "QLinearAveragePool", "QLinearConcat", "QLinearLeakyRelu", "QLinearSigmoid", "QLinearSoftmax",
            "QLinearConvTranspose", "QLinearReduceMean", "QLinearWhere", "DynamicQuantizeMatMul", "QAttention");

    private OrtFusionCheck() {
    }

    public static Map<String, Integer> fusedOps(OnnxMl.ModelProto model) {
        try {
            Path tmp = Files.createTempFile("qf-fusion-in", ".onnx");
            try {
                Files.write(tmp, model.toByteArray());
                return fusedOps(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, Integer> fusedOps(Path model) {
        Path optimized = null;
        try {
            optimized = Files.createTempFile("qf-fusion-out", ".onnx");
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                options.setIntraOpNumThreads(1);
                options.setOptimizedModelFilePath(optimized.toString());
                try (OrtSession ignored = env.createSession(model.toString(), options)) {
                    // the optimized graph is written while the session is created
                }
            }
            Map<String, Integer> histogram = new TreeMap<>();
            for (OnnxMl.NodeProto n : Graphs.parse(optimized).getGraph().getNodeList()) {
                histogram.merge(n.getOpType(), 1, Integer::sum);
            }
            return histogram;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load the model: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (optimized != null) {
                try {
                    Files.deleteIfExists(optimized);
                } catch (IOException ignored) {
                    // temp file
                }
            }
        }
    }

    /** How many nodes of a histogram are fused integer kernels. */
    public static int fusedInt8Count(Map<String, Integer> histogram) {
        return histogram.entrySet().stream().filter(e -> FUSED_INT8_OPS.contains(e.getKey())).mapToInt(Map.Entry::getValue).sum();
    }
}
