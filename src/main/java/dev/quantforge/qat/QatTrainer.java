package dev.quantforge.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.calib.TensorRange;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.onnx.GraphPreparer;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.PrepareOptions;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.qdq.QdqPlan;
import dev.quantforge.quant.qdq.QdqPreparation;
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
    /** At most this many training-curve samples per epoch ({@link StepStats}): a window of steps each. */
    public static final int STEP_SAMPLES_PER_EPOCH = 100;

    private final QatEngine engine;

    public QatTrainer(QatEngine engine) {
        this.engine = engine;
    }

    /** The contents of a checkpoint. */
    record Checkpoint(int epoch, Map<String, float[]> parameters, Map<String, float[]> momentum, List<EpochStats> stats) {
    }

    /** Trains {@code fp32} itself (no BatchNorm kept apart): see {@link #train(OnnxMl.ModelProto, OnnxMl.ModelProto, QdqPlan, Map,
     * QuantizationSettings, SampleSource, Map, QatOptions, Path, Progress)}. */
    public QatResult train(OnnxMl.ModelProto fp32, QdqPlan plan, Map<String, TensorRange> activationRanges,
                           QuantizationSettings settings, SampleSource train, Map<String, String> binding, QatOptions options,
                           Path checkpointDir, Progress progress) throws IOException {
        return train(fp32, fp32, plan, activationRanges, settings, train, binding, options, checkpointDir, progress);
    }

    /**
     * @param trainable the prepared FP32 model that is trained. It may keep its BatchNormalization nodes
     *                  (PrepareOptions(false)): with folded BN, each Conv channel's weights are scaled by γ/σ, which
     *                  rescales that channel's effective learning rate by (σ/γ)²; the original parametrization trains
     *                  better (CIFAR net, 2 epochs from max PTQ: folded 0.768 → 0.765, kept apart → 0.797; QatCifarBenchmark)
     * @param folded    the model the plan and ranges belong to: {@code trainable} with BatchNorm folded and
     *                  {@code QdqPreparation} applied (the node names must be the same — {@code GraphPreparer} names
     *                  nodes before folding); the same object as {@code trainable} when nothing is folded
     * @return the trained model in {@code folded}'s form, ready for {@code QdqWriter} with the result's ranges
     */
    public QatResult train(OnnxMl.ModelProto trainable, OnnxMl.ModelProto folded, QdqPlan plan,
                           Map<String, TensorRange> activationRanges, QuantizationSettings settings, SampleSource train,
                           Map<String, String> binding, QatOptions options, Path checkpointDir, Progress progress) throws IOException {
        QatRecipe recipe = options.recipe();
        boolean crossEntropy = QatOptions.CROSS_ENTROPY.equals(options.loss());
        if (crossEntropy && !train.hasLabels()) {
            throw new IllegalArgumentException("the cross_entropy loss needs a training set with labels (use distillation)");
        }
        if (trainable != folded && !settings.weightsPerChannel()) {
            throw new IllegalArgumentException("training with BatchNorm kept apart needs per-channel weights (per-tensor weight "
                    + "quantization does not commute with the per-channel BatchNorm scale); train the folded model instead");
        }
        Checkpoint resumed = checkpointDir == null ? null : readCheckpoint(checkpointDir.resolve(CHECKPOINT));
        List<EpochStats> stats = new ArrayList<>();
        List<StepStats> curve = new ArrayList<>();
        OnnxMl.ModelProto start = trainable;
        if (resumed != null) {
            stats.addAll(resumed.stats());
            start = withValues(trainable, resumed.parameters());
            LOG.info("QAT resumes after epoch " + resumed.epoch() + " from " + checkpointDir);
        }
        int firstEpoch = resumed == null ? 1 : resumed.epoch() + 1;
        FakeQuantizer fq = new FakeQuantizer(folded, plan, activationRanges, settings);
        List<String> modelInputs = inputNames(trainable);
        List<String> tensorsRead = new ArrayList<>();
        for (String in : modelInputs) {
            tensorsRead.add(binding.getOrDefault(in, in));
        }
        TrainingSet data = TrainingSet.load(train, tensorsRead, options.maxSamples(), maxTrainingBytes(), progress.scaled(0, 0.01));
        long total = options.maxSamplesPerEpoch() > 0 ? Math.min(options.maxSamplesPerEpoch(), data.size()) : data.size();
        int stepsPerEpoch = (int) Math.max(1, (total + recipe.batchSize() - 1) / recipe.batchSize());
        Progress trainProgress = progress.scaled(0.01, 1);

        try (NDManager manager = engine.newManager(); TrainableGraph graph = TrainableGraph.of(start, manager);
             TrainableGraph teacher = crossEntropy ? null : TrainableGraph.of(trainable, manager)) {
            graph.setBatchNormFrozen(options.batchNormFrozen());
            double temperature = 0;
            int fixedBatch = fixedBatch(trainable);
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
                int[] order = data.order(options.seed(), epoch);
                int sampleEvery = Math.max(1, (stepsPerEpoch + STEP_SAMPLES_PER_EPOCH - 1) / STEP_SAMPLES_PER_EPOCH);
                double windowLoss = 0;
                int windowSteps = 0;
                for (int step = 1; step <= stepsPerEpoch; step++) {
                    int batchFrom = (step - 1) * recipe.batchSize();
                    int batchSize = (int) Math.min(recipe.batchSize(), total - batchFrom);
                    lr = recipe.lrAt(epoch - 1 + (step - 1) / (double) stepsPerEpoch);
                    graph.zeroGradients();
                    double batchLoss = 0;
                    // a model with a fixed batch dimension (mnist-8: 1) runs the batch in chunks, gradients accumulate
                    int chunk = fixedBatch > 0 ? fixedBatch : batchSize;
                    int used = 0;
                    for (int from = batchFrom; from + chunk <= batchFrom + batchSize; from += chunk) {
                        try (NDManager scope = manager.newSubManager()) {
                            Map<String, NDArray> inputs = new LinkedHashMap<>();
                            for (int i = 0; i < modelInputs.size(); i++) {
                                inputs.put(modelInputs.get(i), data.gather(scope, tensorsRead.get(i), order, from, chunk));
                            }
                            NDArray target = null;
                            if (!crossEntropy) {
                                target = flat(teacher.forward(inputs, false).get(0), chunk).stopGradient();
                                target.attach(scope);
                            }
                            long[] labels = data.hasLabels() ? data.labels(order, from, chunk) : null;
                            try (GradientCollector collector = engine.engine().newGradientCollector()) {
                                NDArray out = flat(graph.forward(inputs, true, fq.pass(scope)).get(0), chunk);
                                if (!crossEntropy && temperature == 0) {
                                    temperature = options.temperature() > 0 ? options.temperature() : autoTemperature(target);
                                    LOG.info(String.format("distillation temperature %.4g", temperature));
                                }
                                NDArray loss = crossEntropy ? crossEntropy(out, labels, scope) : distillation(out, target, temperature);
                                batchLoss += loss.getFloat() * chunk;
                                collector.backward(loss.mul((float) chunk / batchSize));
                                if (labels != null) {
                                    long[] pred = out.argMax(1).toLongArray();
                                    for (int i = 0; i < chunk; i++) {
                                        correct += pred[i] == labels[i] ? 1 : 0;
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
                    sgdStep(graph, velocity, (float) lr, (float) recipe.momentum(), (float) recipe.weightDecay(),
                            batchSize / (float) used);
                    seen += used;
                    double meanLoss = batchLoss / used;
                    if (!Double.isFinite(meanLoss)) {
                        throw new DivergedException(String.format("QAT diverged: the loss is %s at epoch %d step %d (lr %.3g);"
                                + " lower the recipe's lr (baseRecipe.lr or recipeModification.lrDecayFactor)", meanLoss, epoch, step, lr));
                    }
                    lossSum += meanLoss;
                    lossSteps++;
                    windowLoss += meanLoss;
                    windowSteps++;
                    if (step % sampleEvery == 0 || step == stepsPerEpoch) {
                        curve.add(new StepStats(epoch, step, stepsPerEpoch, windowLoss / windowSteps,
                                labelled > 0 ? correct / (double) labelled : null, lr));
                        windowLoss = 0;
                        windowSteps = 0;
                    }
                    String acc = labelled > 0 ? String.format(" acc %.4f", correct / (double) labelled) : "";
                    double fraction = ((epoch - 1) + step / (double) stepsPerEpoch) / recipe.epochs();
                    trainProgress.update(Math.min(1, fraction), PHASE, String.format("epoch %d/%d step %d/%d loss %.6g%s lr %.3g",
                            epoch, recipe.epochs(), step, stepsPerEpoch, meanLoss, acc, lr));
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                EpochStats es = new EpochStats(epoch, lossSteps == 0 ? Double.NaN : lossSum / lossSteps,
                        labelled > 0 ? correct / (double) labelled : null, lr, seen, seconds);
                stats.add(es);
                LOG.info(String.format("QAT epoch %d/%d: loss %.6f, %d samples in %.1f s (%.1f images/s)", epoch, recipe.epochs(),
                        es.meanLoss(), seen, seconds, es.imagesPerSecond()));
                if (checkpointDir != null) {
                    Map<String, NDArray> state = new LinkedHashMap<>(graph.parameters());
                    state.putAll(graph.buffers()); // BatchNorm running statistics, when they train
                    writeCheckpoint(checkpointDir, epoch, state, velocity, stats);
                }
            }
            OnnxMl.ModelProto trained = graph.export();
            return new QatResult(trainable == folded ? trained : fold(trained, folded), activationRanges, stats, curve);
        }
    }

    /** Thrown when the loss stops being finite: the LR is too high for this model. */
    public static final class DivergedException extends IllegalStateException {
        public DivergedException(String message) {
            super(message);
        }
    }

    /** The trained unfolded model in {@code like}'s form: BatchNorm folded, QdqPreparation applied, same node names. */
    static OnnxMl.ModelProto fold(OnnxMl.ModelProto trained, OnnxMl.ModelProto like) {
        OnnxMl.ModelProto out = QdqPreparation.apply(new GraphPreparer().prepare(trained, new PrepareOptions(true)).model());
        List<String> got = out.getGraph().getNodeList().stream().map(OnnxMl.NodeProto::getName).toList();
        List<String> want = like.getGraph().getNodeList().stream().map(OnnxMl.NodeProto::getName).toList();
        if (!got.equals(want)) {
            throw new IllegalStateException("the trained model folds to other nodes than the quantized model: " + got + " vs " + want);
        }
        return out;
    }


    /** At most a third of the heap, and 2 GiB, for the decoded training set. */
    static long maxTrainingBytes() {
        return Math.min(2L << 30, Runtime.getRuntime().maxMemory() / 3);
    }

    private static List<String> inputNames(OnnxMl.ModelProto model) {
        Map<String, OnnxMl.TensorProto> inits = Graphs.initializers(model.getGraph());
        List<String> out = new ArrayList<>();
        for (OnnxMl.ValueInfoProto in : model.getGraph().getInputList()) {
            if (!inits.containsKey(in.getName())) {
                out.add(in.getName());
            }
        }
        return out;
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

    /**
     * Distillation loss: mean over the batch of {@code KL(softmax(teacher/T) ‖ softmax(student/T))}. Not scaled by
     * Hinton's T² (which keeps the gradient's size when soft targets are mixed with a hard-label loss): here the loss
     * is the only term, and T² × a spread of hundreds diverged on the Tribuo CNN.
     */
    private static NDArray distillation(NDArray student, NDArray teacher, double temperature) {
        float t = (float) temperature;
        NDArray logP = teacher.div(t).logSoftmax(1).stopGradient();
        return logP.exp().mul(logP.sub(student.div(t).logSoftmax(1))).sum(new int[]{1}).mean();
    }

    /**
     * The mean per-sample standard deviation of the teacher's outputs (at least 1): softmax(teacher/T) is then soft.
     * At T = 1 a net whose logits are spread over hundreds (the Tribuo CNN: ~1,000) gives one-hot targets, a KL of
     * exactly 0 on almost every sample and huge spikes on the rest — training on it made the model worse.
     */
    static double autoTemperature(NDArray teacher) {
        float[] v = teacher.toFloatArray();
        int n = (int) teacher.getShape().get(0);
        int c = v.length / n;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double mean = 0;
            for (int j = 0; j < c; j++) {
                mean += v[i * c + j];
            }
            mean /= c;
            double var = 0;
            for (int j = 0; j < c; j++) {
                double d = v[i * c + j] - mean;
                var += d * d;
            }
            sum += Math.sqrt(var / c);
        }
        return Math.max(1, sum / n);
    }

    private static void sgdStep(TrainableGraph graph, Map<String, NDArray> velocity, float lr,
                                float momentum, float weightDecay, float gradScale) {
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
                // in place through a detached view (same storage): PyTorch refuses in-place ops on a leaf that
                // requires grad while grad mode is on, and grad mode is on by default in a new (worker) thread
                NDArray view = p.stopGradient();
                view.attach(tmp);
                view.subi(upd);
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

    private static void writeCheckpoint(Path dir, int epoch, Map<String, NDArray> state, Map<String, NDArray> velocity,
                                        List<EpochStats> stats) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(CHECKPOINT + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeInt(MAGIC);
            out.writeInt(epoch);
            writeArrays(out, state);
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
