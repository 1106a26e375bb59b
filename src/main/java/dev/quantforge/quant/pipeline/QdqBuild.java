package dev.quantforge.quant.pipeline;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.precision.Fp16Conversion;
import dev.quantforge.quant.qdq.QdqModel;
import dev.quantforge.quant.qdq.QdqPlan;

/**
 * One configuration written as a quantized ONNX model: which nodes stay float, the mode and (static) the
 * calibrator it was built with, its plan, the range of every quantized tensor (static), the model and the file.
 *
 * @param method     null for the calibration-free modes
 * @param precisions what each compute node runs in and why, when FP16 was asked for (else empty: INT8 and FP32 as planned)
 */
public record QdqBuild(Set<String> floatNodes, CalibrationMethod method, QuantizationSpec.Mode mode, QdqPlan plan,
                       Map<String, CalibrationResult> ranges, QdqModel qdq, Path file, List<Fp16Conversion.NodePrecision> precisions) {

    public QdqBuild {
        floatNodes = Set.copyOf(floatNodes);
        ranges = Map.copyOf(ranges);
        precisions = List.copyOf(precisions);
    }

    /** The FP16 nodes of a mixed-precision build. */
    public List<String> fp16Nodes() {
        return precisions.stream().filter(p -> p.precision() == Fp16Conversion.Precision.FP16).map(Fp16Conversion.NodePrecision::node).toList();
    }

    /** The calibrated range of the tensor an activation input of a planned node is quantized with (null when none). */
    public CalibrationResult rangeOf(String activationInput) {
        return ranges.get(plan.quantizedTensors().getOrDefault(activationInput, activationInput));
    }
}
