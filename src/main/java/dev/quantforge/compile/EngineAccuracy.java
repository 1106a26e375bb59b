package dev.quantforge.compile;

/**
 * The engine measured by running it, next to the QDQ model in ONNX Runtime on the same samples.
 *
 * @param engineTop1 top-1 of the engine's first output against the labels; null without labels
 * @param qdqTop1    top-1 of the QDQ model in ONNX Runtime (CPU) on the same samples; null without labels
 * @param agreement  fraction of samples where the engine's argmax equals the QDQ model's
 * @param sqnrDb     output SQNR of the engine against the QDQ model (capped at 200 dB when identical)
 * @param cosine     mean cosine similarity of the two output rows
 * @param trtexecRuns how many trtexec processes ran (one per batch)
 * @param batchSize  samples per engine run
 */
public record EngineAccuracy(long samples, Double engineTop1, Double qdqTop1, double agreement, double sqnrDb,
                             double cosine, int trtexecRuns, int batchSize) {
}
