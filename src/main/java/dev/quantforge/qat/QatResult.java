package dev.quantforge.qat;

import ai.onnx.proto.OnnxMl;
import dev.quantforge.quant.calib.TensorRange;

import java.util.List;
import java.util.Map;

/**
 * @param trainedFp32 the prepared FP32 model with the trained weights (feed it to {@code QdqWriter} with {@link #ranges})
 * @param ranges      the activation ranges (the calibrated ones: ranges are not learned)
 * @param epochs      the stats of every epoch trained, including those of a run this one resumed
 * @param steps       the training curve of the epochs this run trained (not of those a resumed run did before)
 */
public record QatResult(OnnxMl.ModelProto trainedFp32, Map<String, TensorRange> ranges, List<EpochStats> epochs, List<StepStats> steps) {

    public QatResult {
        ranges = Map.copyOf(ranges);
        epochs = List.copyOf(epochs);
        steps = List.copyOf(steps);
    }
}
