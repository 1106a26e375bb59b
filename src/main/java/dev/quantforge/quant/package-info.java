/**
 * The quantization engine: plain Java (no Spring, Jakarta or Jackson), usable and testable without the
 * service. Its front door is {@link dev.quantforge.quant.pipeline}; everything else serves it.
 *
 * <ul>
 *   <li>{@code pipeline}: {@code QuantizationSpec} (the typed config, every default), {@code QuantizationPipeline}
 *       (prepare once, calibrate once, build and measure any configuration), {@code PostTrainingQuantization}.</li>
 *   <li>{@code search}: sensitivity analysis and the accuracy-budget search, driven through the pipeline; they
 *       hand each measurement to a store the caller provides, so a restarted search resumes.</li>
 *   <li>{@code ops}: the op registry — per op type, how it is quantized (planner, writer, inspector, submission checks).</li>
 *   <li>{@code qdq}: Q/DQ placement and the QDQ writer; {@code calib}: histograms and calibrators;
 *       {@code eval}: accuracy, agreement, SQNR; {@code bench}: interleaved latency; {@code runtime}: ONNX Runtime
 *       sessions; {@code onnx}: the ONNX toolkit (graph index, tensors, preparation); {@code inspect}: accepting
 *       and summarising an uploaded model; {@code data}: samples and their binding to model inputs;
 *       {@code progress}: progress, cancellation and log callbacks.</li>
 * </ul>
 * {@link dev.quantforge.quant.InvalidInputException} is the engine's one "this input cannot be used as given"
 * signal: the service answers it with a 400, and a job that hits it fails without a retry.
 */
package dev.quantforge.quant;
