package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QuantizationSettings;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Quantization-aware training of a prepared FP32 model (opset 13, BatchNorm folded, {@code QdqPreparation}
 * applied) with fake quantization at exactly the PTQ engine's Q/DQ places ({@link FakeQuantizer}).
 *
 * <p>Optimizer: SGD with momentum, hand-written as PyTorch's {@code torch.optim.SGD}: {@code g = grad + wd·p},
 * {@code v = momentum·v + g}, {@code p -= lr·v} (weight decay on every parameter, biases included).
 * The LR is {@link QatRecipe#lrAt} at the fractional epoch of each step.
 *
 * <p>Checkpoint: {@code checkpointDir/qat-checkpoint.bin} after each epoch (parameters, momentum buffers, the
 * stats of the epochs so far), written to a temporary file and moved into place.
 */
public final class QatTrainer {

    private static final Logger LOG = Logger.getLogger(QatTrainer.class.getName());
    static final String CHECKPOINT = "qat-checkpoint.bin";
    private static final int MAGIC = 0x51415431; // "QAT1"
    public static final String PHASE = "train";

    private final QatEngine engine;

    public QatTrainer(QatEngine engine) {
        this.engine = engine;
    }

    /** The contents of a checkpoint. */
    record Checkpoint(int epoch, Map<String, float[]> parameters, Map<String, float[]> momentum, List<EpochStats> stats) {
    }

    public QatResult train(OnnxMl.ModelProto fp32, QdqPlan plan, Map<String, TensorRange> activationRanges,
                           QuantizationSettings settings, SampleSource train, Map<String, String> binding, QatOptions options,
                           Path checkpointDir, Progress progress) throws IOException {
        QatRecipe recipe = options.recipe();
        boolean crossEntropy = QatOptions.CROSS_ENTROPY.equals(options.loss());
        if (crossEntropy && !train.hasLabels()) {
            throw new IllegalArgumentException("the cross_entropy loss needs a training set with labels (use distillation)");
        }
        if (options.learnRanges()) {
            LOG.info("learnRanges: learnable (LSQ) ranges are not implemented yet; the calibrated ranges stay fixed");
        }
        Checkpoint resumed = checkpointDir == null ? null : readCheckpoint(checkpointDir.resolve(CHECKPOINT));
        List<EpochStats> stats = new ArrayList<>();
        OnnxMl.ModelProto start = fp32;
        if (resumed != null) {
            stats.addAll(resumed.stats());
            start = withValues(fp32, resumed.parameters());
            LOG.info("QAT resumes after epoch " + resumed.epoch() + " from " + checkpointDir);
        }
        int firstEpoch = resumed == null ? 1 : resumed.epoch() + 1;
        FakeQuantizer fq = new FakeQuantizer(fp32, plan, activationRanges, settings);
        long total = options.maxSamplesPerEpoch() > 0 ? Math.min(options.maxSamplesPerEpoch(), train.sampleCount()) : train.sampleCount();
        int stepsPerEpoch = (int) Math.max(1, (total + recipe.batchSize() - 1) / recipe.batchSize());

        try (NDManager manager = engine.newManager(); TrainableGraph graph = TrainableGraph.of(start, manager)) {
            String input0 = graph.inputNames().get(0);
            int fixedBatch = fixedBatch(fp32);
            Map<String, NDArray> velocity = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> p : graph.parameters().entrySet()) {
                float[] v = resumed == null ? null : resumed.momentum().get(p.getKey());
                NDArray buf = v == null ? manager.zeros(p.getValue().getShape()) : manager.create(v, p.getValue().getShape());
                velocity.put(p.getKey(), buf);
            }
            for (int epoch = firstEpoch; epoch <= recipe.epochs(); epoch++) {
                long t0 = System.nanoTime();
                double lossSum = 0;
                int lossSteps = 0;
                long correct = 0;
                long labelled = 0;
                long seen = 0;
                double lr = recipe.lrAt(epoch - 1);
                int step = 0;
                try (SampleSource.BatchIterator it = train.batches(recipe.batchSize(), total)) {
                    while (it.hasNext()) {
                        Batch batch = it.next();
                        step++;
                        lr = recipe.lrAt(epoch - 1 + (step - 1) / (double) stepsPerEpoch);
                        graph.zeroGradients();
                        double batchLoss = 0;
                        int chunk = fixedBatch > 0 ? fixedBatch : batch.size();
                        int used = 0;
                        for (int from = 0; from + chunk <= batch.size(); from += chunk) {
                            try (NDManager scope = manager.newSubManager()) {
                                Map<String, NDArray> inputs = new LinkedHashMap<>();
                                for (String name : graph.inputNames()) {
                                    String tensor = binding.getOrDefault(name, name);
                                    NdArray data = batch.tensors().get(tensor);
                                    if (data == null) {
                                        throw new IllegalArgumentException("no dataset tensor '" + tensor + "' for model input '" + name + "'");
                                    }
                                    inputs.put(name, slice(scope, data, batch.size(), from, chunk));
                                }
                                NDArray teacher = null;
                                if (!crossEntropy) {
                                    teacher = flat(graph.forward(inputs, false).get(0), chunk);
                                }
                                try (GradientCollector collector = engine.engine().newGradientCollector()) {
                                    NDArray out = flat(graph.forward(inputs, true, fq.pass(scope)).get(0), chunk);
                                    NDArray loss;
                                    if (crossEntropy) {
                                        long[] labels = java.util.Arrays.copyOfRange(batch.labels(), from, from + chunk);
                                        loss = crossEntropy(out, labels, scope);
                                    } else {
                                        loss = distillation(out, teacher);
                                    }
                                    batchLoss += loss.getFloat() * chunk;
                                    collector.backward(loss.mul((float) chunk / batch.size()));
                                    if (batch.hasLabels()) {
                                        long[] pred = out.argMax(1).toLongArray();
                                        for (int i = 0; i < chunk; i++) {
                                            correct += pred[i] == batch.labels()[from + i] ? 1 : 0;
                                        }
                                        labelled += chunk;
                                    }
                                }
                            }
                            used += chunk;
                        }
                        if (used == 0) {
                            continue; // a tail smaller than the model's fixed batch
                        }
                        sgdStep(graph, velocity, (float) lr, (float) recipe.momentum(), (float) recipe.weightDecay(), batch.size() / (float) used);
                        seen += used;
                        double meanLoss = batchLoss / used;
                        lossSum += meanLoss;
                        lossSteps++;
                        String acc = labelled > 0 ? String.format(" acc %.4f", correct / (double) labelled) : "";
                        double fraction = ((epoch - 1) + step / (double) stepsPerEpoch) / recipe.epochs();
                        progress.update(Math.min(1, fraction), PHASE, String.format("epoch %d/%d step %d/%d loss %.6g%s lr %.3g",
                                epoch, recipe.epochs(), step, stepsPerEpoch, meanLoss, acc, lr));
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                EpochStats es = new EpochStats(epoch, lossSteps == 0 ? Double.NaN : lossSum / lossSteps,
                        labelled > 0 ? correct / (double) labelled : null, lr, seen, seconds);
                stats.add(es);
                LOG.info(String.format("QAT epoch %d/%d: loss %.6f, %d samples in %.1f s (%.1f images/s)", epoch, recipe.epochs(),
                        es.meanLoss(), seen, seconds, es.imagesPerSecond()));
                if (checkpointDir != null) {
                    writeCheckpoint(checkpointDir, epoch, graph, velocity, stats);
                }
            }
            return new QatResult(graph.export(), activationRanges, stats);
        }
    }

    /** The batch size the model's first input fixes, or 0 when dynamic. */
    static int fixedBatch(OnnxMl.ModelProto model) {
        Map<String, OnnxMl.TensorProto> inits = Graphs.initializers(model.getGraph());
        for (OnnxMl.ValueInfoProto in : model.getGraph().getInputList()) {
            if (inits.containsKey(in.getName())) {
                continue;
            }
            List<OnnxMl.TensorShapeProto.Dimension> dims = in.getType().getTensorType().getShape().getDimList();
            if (!dims.isEmpty() && dims.get(0).hasDimValue() && dims.get(0).getDimValue() > 0) {
                return (int) dims.get(0).getDimValue();
            }
            return 0;
        }
        return 0;
    }

    private static NDArray slice(NDManager scope, NdArray data, int batchSize, int from, int count) {
        long[] shape = data.shape().clone();
        float[] all = data.toFloatArray();
        int per = all.length / batchSize;
        float[] part = new float[per * count];
        System.arraycopy(all, from * per, part, 0, part.length);
        shape[0] = count;
        return scope.create(part, new Shape(shape));
    }

    private static NDArray flat(NDArray out, int batch) {
        return out.reshape(batch, -1);
    }

    /** Mean over the batch of −log softmax(logits)[label]. */
    private static NDArray crossEntropy(NDArray logits, long[] labels, NDManager scope) {
        int classes = (int) logits.getShape().get(1);
        float[] oneHot = new float[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " outside the model's " + classes + " outputs");
            }
            oneHot[i * classes + (int) labels[i]] = 1;
        }
        NDArray target = scope.create(oneHot, new Shape(labels.length, classes));
        return logits.logSoftmax(1).mul(target).sum(new int[]{1}).mean().neg();
    }

    /** Mean over the batch of KL(softmax(teacher) ‖ softmax(student)). */
    private static NDArray distillation(NDArray student, NDArray teacher) {
        NDArray logP = teacher.logSoftmax(1).stopGradient();
        return logP.exp().mul(logP.sub(student.logSoftmax(1))).sum(new int[]{1}).mean();
    }

    private static void sgdStep(TrainableGraph graph, Map<String, NDArray> velocity, float lr, float momentum, float weightDecay,
                                float gradScale) {
        for (Map.Entry<String, NDArray> e : graph.parameters().entrySet()) {
            NDArray p = e.getValue();
            NDArray v = velocity.get(e.getKey());
            try (NDManager tmp = p.getManager().newSubManager()) {
                NDArray g = p.getGradient();
                g.attach(tmp);
                NDArray d = gradScale == 1f ? g : g.mul(gradScale);
                d.attach(tmp);
                if (weightDecay != 0) {
                    NDArray wd = p.stopGradient().mul(weightDecay);
                    wd.attach(tmp);
                    d = d.add(wd);
                }
                v.muli(momentum).addi(d);
                NDArray upd = v.mul(lr);
                upd.attach(tmp);
                p.subi(upd);
            }
        }
        graph.zeroGradients();
    }

    // ---------------------------------------------------------------- checkpoints

    static OnnxMl.ModelProto withValues(OnnxMl.ModelProto model, Map<String, float[]> values) {
        OnnxMl.ModelProto.Builder b = model.toBuilder();
        OnnxMl.GraphProto.Builder g = b.getGraphBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = g.getInitializer(i);
            float[] v = values.get(t.getName());
            if (v != null) {
                long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
                g.setInitializer(i, Graphs.floatTensor(t.getName(), dims, v));
            }
        }
        return b.build();
    }

    private static void writeCheckpoint(Path dir, int epoch, TrainableGraph graph, Map<String, NDArray> velocity,
                                        List<EpochStats> stats) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(CHECKPOINT + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeInt(MAGIC);
            out.writeInt(epoch);
            writeArrays(out, graph.parameters());
            writeArrays(out, velocity);
            out.writeInt(stats.size());
            for (EpochStats s : stats) {
                out.writeInt(s.epoch());
                out.writeDouble(s.meanLoss());
                out.writeDouble(s.runningTop1() == null ? Double.NaN : s.runningTop1());
                out.writeDouble(s.lr());
                out.writeLong(s.samples());
                out.writeDouble(s.seconds());
            }
        }
        Files.move(tmp, dir.resolve(CHECKPOINT), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void writeArrays(DataOutputStream out, Map<String, NDArray> arrays) throws IOException {
        out.writeInt(arrays.size());
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            float[] v = e.getValue().toFloatArray();
            out.writeUTF(e.getKey());
            out.writeInt(v.length);
            for (float f : v) {
                out.writeFloat(f);
            }
        }
    }

    /** The checkpoint in {@code file}, or null when there is none. */
    static Checkpoint readCheckpoint(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC) {
                throw new IOException("not a QAT checkpoint: " + file);
            }
            int epoch = in.readInt();
            Map<String, float[]> params = readArrays(in);
            Map<String, float[]> momentum = readArrays(in);
            int n = in.readInt();
            List<EpochStats> stats = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int e = in.readInt();
                double loss = in.readDouble();
                double top1 = in.readDouble();
                double lr = in.readDouble();
                long samples = in.readLong();
                double seconds = in.readDouble();
                stats.add(new EpochStats(e, loss, Double.isNaN(top1) ? null : top1, lr, samples, seconds));
            }
            return new Checkpoint(epoch, params, momentum, stats);
        }
    }

    private static Map<String, float[]> readArrays(DataInputStream in) throws IOException {
        int n = in.readInt();
        Map<String, float[]> result = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            int len = in.readInt();
            float[] v = new float[len];
            for (int j = 0; j < len; j++) {
                v[j] = in.readFloat();
            }
            result.put(name, v);
        }
        return result;
    }
}
