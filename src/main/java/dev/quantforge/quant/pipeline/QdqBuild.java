package dev.quantforge.quant.pipeline;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.qdq.QdqModel;
import dev.quantforge.quant.qdq.QdqPlan;

/**
 * One configuration written as a quantized ONNX model: which nodes stay float, the mode and (static) the
 * calibrator it was built with, its plan, the range of every quantized tensor (static), the model and the file.
 *
 * @param method null for the calibration-free modes
 */
public record QdqBuild(Set<String> floatNodes, CalibrationMethod method, QuantizationSpec.Mode mode, QdqPlan plan,
                       Map<String, CalibrationResult> ranges, QdqModel qdq, Path file) {

    public QdqBuild {
        floatNodes = Set.copyOf(floatNodes);
        ranges = Map.copyOf(ranges);
    }

    /** The calibrated range of the tensor an activation input of a planned node is quantized with (null when none). */
    public CalibrationResult rangeOf(String activationInput) {
        return ranges.get(plan.quantizedTensors().getOrDefault(activationInput, activationInput));
    }
}
