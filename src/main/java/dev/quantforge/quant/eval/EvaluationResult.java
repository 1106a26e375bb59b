package dev.quantforge.quant.eval;

/**
 * Result of a top-1 evaluation.
 *
 * @param top1      correct / samples (0 when there were no samples)
 * @param agreement fraction of samples where the model's argmax equals the reference model's;
 *                  null when no reference model was given
 */
public record EvaluationResult(double top1, long samples, long correct, Double agreement) {
}
