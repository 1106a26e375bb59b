/**
 * Quantization-aware training, plain Java on top of the {@code quant} engine.
 *
 * <ul>
 *   <li>{@link dev.quantforge.qat.QuantizationAwareTraining}: the front door — from a calibrated
 *       {@code quant.pipeline.QuantizationPipeline} (the PTQ start), train, export the same QDQ format and
 *       measure before and after with ONNX Runtime. {@link dev.quantforge.qat.QatSpec} is its typed config,
 *       with every default.</li>
 *   <li>{@link dev.quantforge.qat.QatEngine}: DJL 0.36 with the PyTorch 2.7.1 CPU engine, whose natives come
 *       from the {@code pytorch-native-cpu:linux-x86_64} jar on the class path (no download; {@code ai.djl.offline=true})
 *       and are extracted on the first {@link dev.quantforge.qat.QatEngine#start} into the directory given
 *       (the service passes {@code <dataDir>/djl}). A process that never starts QAT never extracts them.</li>
 *   <li>{@link dev.quantforge.qat.TrainableGraph}: an ONNX graph (prepared to opset 13, BatchNormalization not
 *       folded) evaluated with DJL NDArray ops, so autograd trains its float initializers. Its one kernel map
 *       (op type → attribute checks + evaluation) is the list of what QAT can train;
 *       {@link dev.quantforge.qat.TrainableGraph#unsupportedOps} names the ops it cannot.</li>
 *   <li>{@link dev.quantforge.qat.QatTrainer}: fake quantization at the QDQ writer's places, the recipe, SGD,
 *       checkpoints.</li>
 * </ul>
 * Tested against the ONNX backend node tests of Debian's {@code libonnx-testdata} (OnnxNodeConformanceTest)
 * and against ONNX Runtime on the shared models (TrainableGraphModelsTest).
 */
package dev.quantforge.qat;
