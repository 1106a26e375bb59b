package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqWriter;
import dev.quantforge.quant.qdq.QuantizationSettings;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fake quantization of a {@link TrainableGraph} exactly where {@link QdqWriter} puts Q/DQ pairs: the QDQ model
 * is written once (with the given ranges) and read back — which node input reads a dequantized activation
 * (scale, zero point, integer range from its QuantizeLinear) and which reads a dequantized weight (axis
 * from its DequantizeLinear). Keys are (node name, input position), so the same quantizer applies to the
 * graph with BatchNorm unfolded: folding keeps the Conv's name and gives it the BatchNorm's output, and
 * per-channel weight quantization along the output axis commutes with the per-channel BN scale.
 *
 * <ul>
 *   <li>Activations: {@code y = clip(x, lo, hi) + stopGradient(fq(x) − clip(x, lo, hi))} with
 *       {@code fq(x) = (clamp(round(x/s) + zp, qmin, qmax) − zp)·s} and {@code [lo, hi]} the representable range:
 *       the clipped straight-through estimator (gradient 1 inside the range, 0 where the value saturates).
 *       Scale and zero point stay fixed (learned LSQ scales were tried and left out: see the README).</li>
 *   <li>Weights: symmetric int8, per channel along the DequantizeLinear's axis (or per tensor), scale =
 *       max|w| / 127 (/ 64 with reduced-range weights) from the current weights every step (scale not
 *       differentiated); plain STE {@code y = w + stopGradient(fq(w) − w)} (nothing saturates).</li>
 *   <li>Biases (int32 in UINT8 mode) stay float: their rounding error (input scale × weight scale / 2) is
 *       negligible.</li>
 * </ul>
 */
final class FakeQuantizer {

    private record ActQ(String tensor, float scale, int zeroPoint, int qmin, int qmax) {
    }

    private record WeightQ(Integer axis, int qmax) {
    }

    // keyed by (node name, input position): the same keys hold in the graph with BatchNorm unfolded, since
    // folding keeps the Conv's name and gives it the BatchNorm's output name
    private final Map<String, ActQ> activations = new HashMap<>();
    private final Map<String, WeightQ> weights = new HashMap<>();

    FakeQuantizer(OnnxMl.ModelProto fp32, QdqPlan plan, Map<String, TensorRange> ranges, QuantizationSettings settings) {
        OnnxMl.ModelProto qdq = QdqWriter.write(fp32, plan, ranges, settings).model();
        List<OnnxMl.NodeProto> original = fp32.getGraph().getNodeList();
        Set<String> originalOutputs = new HashSet<>();
        for (OnnxMl.NodeProto n : original) {
            if (n.getOutputCount() > 0) {
                originalOutputs.add(n.getOutput(0));
            }
        }
        Map<String, OnnxMl.TensorProto> inits = Graphs.initializers(qdq.getGraph());
        Map<String, OnnxMl.NodeProto> producer = new HashMap<>();
        List<OnnxMl.NodeProto> matched = new java.util.ArrayList<>();
        for (OnnxMl.NodeProto n : qdq.getGraph().getNodeList()) {
            for (String o : n.getOutputList()) {
                producer.put(o, n);
            }
            if (n.getOutputCount() > 0 && originalOutputs.contains(n.getOutput(0))) {
                matched.add(n);
            }
        }
        if (matched.size() != original.size()) {
            throw new IllegalStateException("cannot match the QDQ model's nodes to the FP32 model's (" + matched.size()
                    + " vs " + original.size() + ")");
        }
        int weightMax = settings.reduceRangeWeights() ? 64 : 127;
        for (int i = 0; i < original.size(); i++) {
            OnnxMl.NodeProto before = original.get(i);
            OnnxMl.NodeProto after = matched.get(i);
            for (int pos = 0; pos < before.getInputCount(); pos++) {
                String read = after.getInput(pos);
                if (read.equals(before.getInput(pos))) {
                    continue;
                }
                OnnxMl.NodeProto dq = producer.get(read);
                if (dq == null || !dq.getOpType().equals("DequantizeLinear")) {
                    throw new IllegalStateException("node " + before.getName() + " input " + pos + " reads " + read
                            + ", not a DequantizeLinear output");
                }
                String x = dq.getInput(0);
                String key = key(before.getName(), pos);
                OnnxMl.TensorProto stored = inits.get(x);
                if (stored != null) {
                    if (stored.getDataType() == OnnxMl.TensorProto.DataType.INT8_VALUE) {
                        Integer axis = Graphs.attribute(dq, "axis").map(a -> (int) a.getI()).orElse(null);
                        weights.put(key, new WeightQ(axis, weightMax));
                    }
                    continue; // int32 bias: kept float
                }
                OnnxMl.NodeProto q = producer.get(x);
                if (q == null || !q.getOpType().equals("QuantizeLinear")) {
                    throw new IllegalStateException("DequantizeLinear " + dq.getName() + " does not read a QuantizeLinear");
                }
                float scale = Graphs.floats(inits.get(q.getInput(1)))[0];
                OnnxMl.TensorProto zpT = inits.get(q.getInput(2));
                boolean uint8 = zpT.getDataType() == OnnxMl.TensorProto.DataType.UINT8_VALUE;
                int zp = zeroPoint(zpT, uint8);
                activations.put(key, new ActQ(q.getInput(0), scale, zp, uint8 ? 0 : -128, uint8 ? 255 : 127));
            }
        }
    }

    private static String key(String node, int position) {
        return node + '\u0000' + position;
    }

    private static int zeroPoint(OnnxMl.TensorProto t, boolean uint8) {
        int v;
        if (!t.getRawData().isEmpty()) {
            v = t.getRawData().byteAt(0);
        } else if (t.getInt32DataCount() > 0) {
            v = t.getInt32Data(0);
        } else {
            return 0;
        }
        return uint8 ? v & 0xff : (byte) v;
    }

    int activationInputs() {
        return activations.size();
    }

    int weightInputs() {
        return weights.size();
    }

    /** A transform for one forward pass; intermediate arrays go to {@code scope}. */
    TrainableGraph.InputTransform pass(NDManager scope) {
        Map<String, NDArray> cache = new HashMap<>();
        return (node, position, tensor, value) -> {
            String key = key(node.getName(), position);
            ActQ a = activations.get(key);
            if (a != null) {
                return cache.computeIfAbsent(a.tensor, t -> fakeQuantActivation(value, a, scope));
            }
            WeightQ w = weights.get(key);
            if (w != null) {
                return cache.computeIfAbsent("\u0000w:" + tensor + ":" + w.axis, t -> fakeQuantWeight(value, w, scope));
            }
            return value;
        };
    }

    private static NDArray fakeQuantActivation(NDArray x, ActQ a, NDManager scope) {
        float lo = (a.qmin - a.zeroPoint) * a.scale;
        float hi = (a.qmax - a.zeroPoint) * a.scale;
        NDArray xd = x.stopGradient();
        xd.attach(scope);
        NDArray fq = xd.div(a.scale).round().add(a.zeroPoint).clip(a.qmin, a.qmax).sub(a.zeroPoint).mul(a.scale);
        NDArray clipped = x.clip(lo, hi);
        clipped.attach(scope);
        return fq.sub(clipped).stopGradient().add(clipped);
    }

    private static NDArray fakeQuantWeight(NDArray w, WeightQ q, NDManager scope) {
        NDArray wd = w.stopGradient();
        wd.attach(scope);
        int rank = (int) wd.getShape().dimension();
        NDArray amax;
        if (q.axis == null || rank == 0) {
            amax = wd.abs().max();
        } else {
            int axis = q.axis < 0 ? q.axis + rank : q.axis;
            long channels = wd.getShape().get(axis);
            long[] broadcast = new long[rank];
            java.util.Arrays.fill(broadcast, 1);
            broadcast[axis] = channels;
            NDArray moved = axis == 0 ? wd : wd.swapAxes(0, axis);
            amax = moved.abs().reshape(channels, -1).max(new int[]{1}).reshape(new ai.djl.ndarray.types.Shape(broadcast));
        }
        NDArray scale = amax.maximum(1e-30f).div(q.qmax);
        NDArray fq = wd.div(scale).round().clip(-q.qmax, q.qmax).mul(scale);
        return fq.sub(wd).stopGradient().add(w);
    }
}
