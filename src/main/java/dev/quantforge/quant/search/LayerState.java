package dev.quantforge.quant.search;

/** Whether one quantizable node is quantized in a configuration (the per-node entry of a configuration's identity). */
public record LayerState(boolean quantized) {
}
