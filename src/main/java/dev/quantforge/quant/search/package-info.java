/**
 * Searches over layer configurations, on a {@code QuantizationPipeline}:
 * {@link dev.quantforge.quant.search.SensitivityAnalysis} (which layers hurt) and
 * {@link dev.quantforge.quant.search.AccuracyBudgetSearch} (the fastest configuration within an accuracy budget).
 * Each stores every measurement through a callback the caller provides, keyed by a typed configuration whose
 * canonical JSON identifies it, so a stopped search resumes without measuring anything twice.
 */
package dev.quantforge.quant.search;
