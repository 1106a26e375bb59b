/**
 * The engine's front door. A {@link dev.quantforge.quant.pipeline.QuantizationPipeline} is opened per model and
 * {@link dev.quantforge.quant.pipeline.QuantizationSpec}; it prepares the graph once, calibrates once (or reuses
 * stored histograms), and builds and measures any configuration from the same ranges.
 * {@link dev.quantforge.quant.pipeline.PostTrainingQuantization} is the ptq flow on top of it.
 */
package dev.quantforge.quant.pipeline;
