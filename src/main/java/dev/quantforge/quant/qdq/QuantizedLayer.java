package dev.quantforge.quant.qdq;

import dev.quantforge.quant.calib.TensorRange;

import java.util.List;

/**
 * One quantizable node in the written model, for the report.
 *
 * @param weightGranularity "per_channel", "per_tensor", or null when the node has no weight / is float
 * @param weightAmaxMax     the largest per-channel weight amax (the tensor amax when per tensor); null without weight
 * @param weightChannels    number of weight scales (1 when per tensor)
 * @param activations       the quantized activation inputs, with their scale, zero point and range
 */
public record QuantizedLayer(String node, String opType, boolean quantized, String reason, String weightGranularity,
                             Double weightAmaxMax, int weightChannels, List<ActivationQuant> activations) {

    public QuantizedLayer {
        activations = List.copyOf(activations);
    }

    /** Quantization parameters of one activation tensor. */
    public record ActivationQuant(String tensor, float scale, int zeroPoint, TensorRange range) {
    }
}
