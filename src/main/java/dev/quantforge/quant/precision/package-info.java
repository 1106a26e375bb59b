/**
 * Mixed precision for what is not INT8: float nodes converted to FP16 where their observed values fit and the op
 * keeps its accuracy in FP16, FP32 elsewhere, with Casts at the boundaries (ModelOpt AutoCast's rules).
 */
package dev.quantforge.quant.precision;
