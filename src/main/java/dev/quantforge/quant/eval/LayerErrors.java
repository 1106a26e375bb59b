package dev.quantforge.quant.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import dev.quantforge.quant.calib.ActivationCollector;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.runtime.OrtModel;

/**
 * Per-layer error of a QDQ model: for each quantized tensor, the SQNR of what the INT8 model
 * computes there (the DequantizeLinear output that replaced it) against the FP32 model's tensor
 * of the same name, over the first few samples. It shows where in the network accuracy is lost.
 */
public final class LayerErrors {

    private LayerErrors() {
    }

    /**
     * @param tensors FP32 tensor names that the QDQ model quantized
     * @return tensor → SQNR in dB (only tensors found in both models)
     */
    public static Map<String, Double> sqnrPerTensor(OnnxMl.ModelProto fp32, OnnxMl.ModelProto qdq, Collection<String> tensors,
                                                    SampleSource data, Map<String, String> binding, int samples) {
        Map<String, String> twin = dequantizedTwins(qdq, tensors);
        if (twin.isEmpty()) {
            return Map.of();
        }
        Set<String> graphInputs = new java.util.HashSet<>();
        fp32.getGraph().getInputList().forEach(i -> graphInputs.add(i.getName()));
        Map<String, String> measured = new LinkedHashMap<>();
        twin.forEach((t, d) -> {
            if (!graphInputs.contains(t)) {
                measured.put(t, d);
            }
        });
        Map<String, double[]> sums = new HashMap<>();
        try (OrtModel f = OrtModel.load(ActivationCollector.withOutputs(fp32, new LinkedHashSet<>(measured.keySet())).toByteArray(), 0,
                OrtSession.SessionOptions.OptLevel.BASIC_OPT);
             OrtModel q = OrtModel.load(ActivationCollector.withOutputs(qdq, new LinkedHashSet<>(measured.values())).toByteArray(), 0,
                     OrtSession.SessionOptions.OptLevel.BASIC_OPT);
             SampleSource.BatchIterator batches = data.batches(1, samples)) {
            while (batches.hasNext()) {
                Batch b = batches.next();
                Map<String, float[]> fv = run(f, b, binding, measured.keySet());
                Map<String, float[]> qv = run(q, b, binding, measured.values());
                for (Map.Entry<String, String> e : measured.entrySet()) {
                    float[] a = fv.get(e.getKey());
                    float[] c = qv.get(e.getValue());
                    if (a == null || c == null || a.length != c.length) {
                        continue;
                    }
                    double[] s = sums.computeIfAbsent(e.getKey(), k -> new double[2]);
                    for (int i = 0; i < a.length; i++) {
                        s[0] += (double) a[i] * a[i];
                        s[1] += (double) (a[i] - c[i]) * (a[i] - c[i]);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((t, s) -> out.put(t, ModelComparison.sqnrDb(s[0], s[1])));
        return out;
    }

    private static Map<String, float[]> run(OrtModel model, Batch b, Map<String, String> binding, Collection<String> outputs) {
        Map<String, OnnxTensor> feeds = model.createFeeds(b, binding, 0, b.size());
        try (OrtSession.Result r = model.session().run(feeds, new LinkedHashSet<>(outputs))) {
            Map<String, float[]> out = new HashMap<>();
            for (String name : outputs) {
                OnnxValue v = r.get(name).orElse(null);
                if (v instanceof OnnxTensor t && t.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
                    java.nio.FloatBuffer fb = t.getFloatBuffer();
                    float[] arr = new float[fb.remaining()];
                    fb.get(arr);
                    out.put(name, arr);
                }
            }
            return out;
        } catch (OrtException e) {
            throw new InvalidInputException("ONNX Runtime failed while measuring per-layer error: " + e.getMessage(), e);
        } finally {
            OnnxValue.close(feeds);
        }
    }

    /** FP32 tensor → the output of the DequantizeLinear fed by QuantizeLinear(tensor) in the QDQ model. */
    static Map<String, String> dequantizedTwins(OnnxMl.ModelProto qdq, Collection<String> tensors) {
        Set<String> wanted = new LinkedHashSet<>(tensors);
        Map<String, String> quantizedOf = new HashMap<>();
        List<OnnxMl.NodeProto> dqs = new ArrayList<>();
        for (OnnxMl.NodeProto n : qdq.getGraph().getNodeList()) {
            if (n.getOpType().equals("QuantizeLinear") && wanted.contains(n.getInput(0))) {
                quantizedOf.put(n.getOutput(0), n.getInput(0));
            } else if (n.getOpType().equals("DequantizeLinear")) {
                dqs.add(n);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (OnnxMl.NodeProto dq : dqs) {
            String source = quantizedOf.get(dq.getInput(0));
            if (source != null) {
                out.putIfAbsent(source, dq.getOutput(0));
            }
        }
        return out;
    }
}
