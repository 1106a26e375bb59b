package dev.quantforge.compile;

/**
 * A node the QDQ model meant to run in INT8 that the engine does not run as planned.
 *
 * @param node            the ONNX node (service node name)
 * @param layer           the engine layer it ended up in
 * @param layerPrecision  the precision that layer computes in
 * @param outputPrecision the type the layer writes
 * @param reason          what TensorRT did and which part of the model made it do so, for the user
 */
public record NotInt8AsPlanned(String node, String opType, String layer, EnginePrecision layerPrecision,
                               EnginePrecision outputPrecision, String reason) {
}
