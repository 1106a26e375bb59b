package dev.quantforge.compile;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.eval.ModelComparison;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Measures an engine's accuracy by running the engine: each batch of the evaluation set is written as
 * trtexec {@code --loadInputs} files, one {@code trtexec --loadEngine ... --exportOutput} process runs it, and
 * the exported first output is scored against the labels and against the QDQ model run by ONNX Runtime on
 * the same batch. This is the number that catches a QDQ model accurate in ONNX Runtime and broken after
 * TensorRT.
 */
final class EngineEvaluator {

    private static final String PHASE = "evaluate_engine";

    private EngineEvaluator() {
    }

    /**
     * @param shapes the engine's optimization profiles (empty for a static engine)
     * @param workDirectory where the per-batch input and output files go (created)
     */
    static EngineAccuracy evaluate(Path trtexec, Path engine, Path qdqModel, List<InputShapeRange> shapes,
                                   EngineEvaluationRequest request, Path workDirectory, Consumer<String> log,
                                   Progress progress) {
        try {
            Files.createDirectories(workDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + workDirectory, e);
        }
        Map<String, InputShapeRange> ranges = shapes.stream().collect(Collectors.toMap(InputShapeRange::input, r -> r));
        try (OrtModel qdq = OrtModel.load(qdqModel)) {
            List<TensorInfo> inputs = qdq.inputs();
            String outputName = qdq.outputNames().get(0);
            int[] batchRange = batchRange(qdq, inputs, ranges);
            int batch = Math.max(batchRange[0], Math.min(request.batchSize(), batchRange[1]));
            SampleSource data = request.data();
            long total = Math.min(request.maxSamples(), data.sampleCount());
            ModelComparison.Tally scores = new ModelComparison.Tally();
            int runs = 0;
            try (SampleSource.BatchIterator batches = data.batches(batch, total)) {
                while (batches.hasNext()) {
                    Batch b = batches.next();
                    int rows = Math.max(b.size(), batchRange[0]);
                    Map<String, String> files = new LinkedHashMap<>();
                    Map<String, List<Long>> runShapes = new LinkedHashMap<>();
                    for (int k = 0; k < inputs.size(); k++) {
                        TensorInfo input = inputs.get(k);
                        NdArray array = bound(b, request.binding(), input);
                        String file = "input-" + k + ".bin";
                        List<Long> written = TrtexecTensorFiles.writeInput(array, 0, b.size(), rows, input.elementType(),
                                workDirectory.resolve(file));
                        files.put(input.name(), file);
                        if (isDynamic(input)) {
                            runShapes.put(input.name(), written);
                        }
                    }
                    Path outputFile = workDirectory.resolve("output.json");
                    Files.deleteIfExists(outputFile);
                    runs++;
                    double done = total == 0 ? 0 : (double) scores.samples() / total;
                    // while trtexec runs, the bar stays where the finished batches put it
                    Progress duringRun = (fraction, phase, message) -> progress.update(done, phase, message);
                    TrtexecRunner.run(TrtexecCommand.runEngine(trtexec, engine, files, runShapes, outputFile.getFileName().toString()),
                            workDirectory, request.timeoutPerRun(), log, duringRun, PHASE,
                            "running the engine on samples " + b.firstSample() + ".." + (b.firstSample() + b.size() - 1),
                            null, "Raise the evaluation's timeoutPerRun or lower its batchSize");
                    float[][] engineRows = engineRows(TrtexecTensorFiles.readOutputs(outputFile), outputName, rows, b.size());
                    float[][] qdqRows = qdq.run(b, request.binding());
                    scores.add(b, qdqRows, engineRows); // reference: the QDQ model; candidate: the engine
                    progress.update(total == 0 ? 1.0 : (double) scores.samples() / total, PHASE,
                            scores.samples() + "/" + total + " samples through the engine");
                }
            }
            ModelComparison.Result r = scores.result(data.hasLabels());
            return new EngineAccuracy(r.samples(), r.top1Candidate(), r.top1Reference(), r.agreement(), r.sqnrDb(), r.cosine(),
                    runs, batch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the evaluation dataset or write trtexec's input files", e);
        }
    }

    /** [smallest, largest] batch the engine takes: its fixed batch, or the intersection of the inputs' profiles. */
    private static int[] batchRange(OrtModel qdq, List<TensorInfo> inputs, Map<String, InputShapeRange> ranges) {
        if (!qdq.hasDynamicBatch()) {
            int fixed = Math.toIntExact(qdq.fixedBatchSize().orElse(1));
            return new int[]{fixed, fixed};
        }
        int min = 1;
        int max = Integer.MAX_VALUE;
        for (TensorInfo input : inputs) {
            if (input.shape().isEmpty() || input.shape().get(0) instanceof Long) {
                continue;
            }
            InputShapeRange range = ranges.get(input.name());
            if (range == null) {
                throw new IllegalArgumentException("input '" + input.name() + "' has a dynamic batch but the engine was "
                        + "built without shapes for it");
            }
            min = Math.max(min, Math.toIntExact(range.min().get(0)));
            max = Math.min(max, Math.toIntExact(range.max().get(0)));
        }
        if (min > max) {
            throw new IllegalArgumentException("the inputs' batch ranges do not overlap (" + min + " > " + max + ")");
        }
        return new int[]{min, max};
    }

    private static boolean isDynamic(TensorInfo input) {
        return input.shape().stream().anyMatch(d -> !(d instanceof Long));
    }

    private static NdArray bound(Batch b, Map<String, String> binding, TensorInfo input) {
        String tensor = binding.get(input.name());
        NdArray array = tensor == null ? null : b.tensors().get(tensor);
        if (array == null) {
            throw new InvalidInputException("no data bound to model input '" + input.name() + "'");
        }
        return array;
    }

    /** The first {@code keep} rows of the exported output named like the model's first output. */
    private static float[][] engineRows(Map<String, TrtexecTensorFiles.OutputTensor> outputs, String name, int rows, int keep) {
        TrtexecTensorFiles.OutputTensor out = outputs.get(name);
        if (out == null) {
            throw new EngineReportException("trtexec exported outputs " + outputs.keySet() + " but not '" + name
                    + "', the QDQ model's first output");
        }
        if (out.values().length % rows != 0) {
            throw new EngineReportException("the engine's output '" + name + "' has " + out.values().length
                    + " values, which do not split into " + rows + " rows");
        }
        int width = out.values().length / rows;
        float[][] result = new float[keep][];
        for (int r = 0; r < keep; r++) {
            result[r] = Arrays.copyOfRange(out.values(), r * width, (r + 1) * width);
        }
        return result;
    }
}
