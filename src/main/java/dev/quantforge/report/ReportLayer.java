package dev.quantforge.report;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One row of a report's {@code layers}: a quantizable node in the measured configuration (docs/API.md
 * "Report"). Values that do not apply are absent, except {@code sensitivity}, which is always present
 * (null until a search or analysis measured it).
 *
 * @param reason      why the node stays float (absent when quantized)
 * @param weightAmax  the largest per-channel weight amax
 * @param amax        the calibrated range magnitude of its first activation input, from [rangeMin, rangeMax]
 * @param sqnrDb      SQNR of its quantized input against FP32
 */
public record ReportLayer(String node, String opType, boolean quantized, String reason, String weightGranularity, Double weightAmax,
                          String activationCalibrator, Double amax, Double rangeMin, Double rangeMax, Double scale, Integer zeroPoint,
                          Double sqnrDb, @JsonInclude(JsonInclude.Include.ALWAYS) Double sensitivity, String precision,
                          String precisionReason) {

    /** A node without measured quantization details (a search's view: quantized or float, and why). */
    public static ReportLayer decision(String node, String opType, boolean quantized, String reason, Double sensitivity) {
        return new ReportLayer(node, opType, quantized, reason, null, null, null, null, null, null, null, null, null, sensitivity, null, null);
    }
}
