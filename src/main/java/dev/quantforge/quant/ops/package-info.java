/**
 * The op registry: one {@link dev.quantforge.quant.ops.OpRule} per ONNX op type the engine quantizes or lets
 * scales pass through. The Q/DQ planner, the QDQ writer, the model inspector and submission-time checks read
 * it; adding an op is one entry plus its conformance case.
 */
package dev.quantforge.quant.ops;
