package dev.quantforge.compile;

import java.nio.file.Path;

/** A usable trtexec and the TensorRT it belongs to: what a worker advertises as {@code tensorrt: {version, trtexec}}. */
public record TensorRtInstallation(Path trtexec, TensorRtVersion version) {
}
