package dev.quantforge.quant.qdq;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.eval.EvaluationResult;
import dev.quantforge.quant.eval.Evaluator;
import dev.quantforge.quant.inspect.ModelInspector;
import dev.quantforge.quant.onnx.NodeNames;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal graph preparation, a max calibrator over ORT extra outputs, and evaluation — for the QDQ tests only. */
final class QdqTestSupport {

    private QdqTestSupport() {
    }

    /**
     * The models used here have identical semantics at opset 13: set the default opset to 13, IR to 7,
     * name unnamed nodes, then the QDQ constant folding.
     */
    static OnnxMl.ModelProto prepare(Path path) {
        OnnxMl.ModelProto model = Graphs.parse(path);
        OnnxMl.ModelProto.Builder b = model.toBuilder().clearOpsetImport()
                .setIrVersion(Math.max(7, model.getIrVersion()));
        for (OnnxMl.OperatorSetIdProto o : model.getOpsetImportList()) {
            b.addOpsetImport(o.getDomain().isEmpty() ? o.toBuilder().setVersion(Math.max(13, o.getVersion())).build() : o);
        }
        List<String> names = NodeNames.of(model.getGraph());
        OnnxMl.GraphProto.Builder g = b.getGraphBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            g.getNodeBuilder(i).setName(names.get(i));
        }
        return QdqPreparation.apply(b.build());
    }

    static Path save(OnnxMl.ModelProto model, String prefix) {
        try {
            Path p = Files.createTempFile(prefix, ".onnx");
            Files.write(p, model.toByteArray());
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Max calibrator: min/max of every float tensor the nodes produce, plus the graph inputs. */
    static Map<String, TensorRange> calibrate(OnnxMl.ModelProto model, SampleSource data, int batchSize, long samples) throws IOException {
        OnnxMl.GraphProto.Builder g = model.getGraph().toBuilder();
        Set<String> existing = new HashSet<>();
        g.getOutputList().forEach(o -> existing.add(o.getName()));
        Set<String> wanted = new HashSet<>(existing);
        for (OnnxMl.NodeProto n : model.getGraph().getNodeList()) {
            for (String out : n.getOutputList()) {
                if (existing.add(out)) {
                    g.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(out).setType(OnnxMl.TypeProto.newBuilder()
                            .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1))));
                    wanted.add(out);
                }
            }
        }
        Map<String, double[]> mm = new HashMap<>();
        Path path = save(model.toBuilder().setGraph(g).build(), "qf-calib");
        try (OrtModel ort = OrtModel.load(path, 1, OrtSession.SessionOptions.OptLevel.BASIC_OPT);
             SampleSource.BatchIterator it = data.batches(batchSize, samples)) {
            Map<String, String> binding = InputBinding.bind(ort.inputs(), data.tensors());
            while (it.hasNext()) {
                Batch batch = it.next();
                Map<String, OnnxTensor> feeds = ort.createFeeds(batch, binding, 0, batch.size());
                try (OrtSession.Result r = ort.session().run(feeds, wanted)) {
                    for (Map.Entry<String, OnnxValue> e : r) {
                        accumulate(mm, e.getKey(), e.getValue());
                    }
                    for (Map.Entry<String, OnnxTensor> e : feeds.entrySet()) {
                        accumulate(mm, e.getKey(), e.getValue());
                    }
                } catch (OrtException e) {
                    throw new IllegalStateException(e);
                } finally {
                    OnnxValue.close(feeds);
                }
            }
        }
        Map<String, TensorRange> ranges = new HashMap<>();
        mm.forEach((k, v) -> ranges.put(k, new TensorRange(v[0], v[1])));
        return ranges;
    }

    private static void accumulate(Map<String, double[]> mm, String name, OnnxValue value) {
        if (!(value instanceof OnnxTensor t) || t.getInfo().type != ai.onnxruntime.OnnxJavaType.FLOAT) {
            return;
        }
        FloatBuffer fb = t.getFloatBuffer();
        double[] r = mm.computeIfAbsent(name, k -> new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY});
        while (fb.hasRemaining()) {
            float v = fb.get();
            r[0] = Math.min(r[0], v);
            r[1] = Math.max(r[1], v);
        }
    }

    /** Top-1 of {@code model} on the data, with agreement against {@code reference}. */
    static EvaluationResult evaluate(OnnxMl.ModelProto model, OnnxMl.ModelProto reference, SampleSource data, int batchSize) {
        try (OrtModel m = OrtModel.load(save(model, "qf-eval"), 1, OrtSession.SessionOptions.OptLevel.ALL_OPT);
             OrtModel ref = OrtModel.load(save(reference, "qf-ref"), 1, OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
            return new Evaluator().evaluateTop1(m, ref, data, InputBinding.bind(m.inputs(), data.tensors()), batchSize,
                    Long.MAX_VALUE, Progress.NONE);
        }
    }
}
