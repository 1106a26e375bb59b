package dev.quantforge.compile;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What an engine build produced and measured.
 *
 * @param engineFile       the serialized engine (only runs on this GPU model with this TensorRT version)
 * @param engineName       a file name for it that says both: {@code <model>.<gpu>-sm<cc>.trt<version>.engine}
 * @param timingCacheFile  this build's copy of the timing cache (also written back to the shared one), null when
 *                         built without
 * @param layerInfoFile    {@code --exportLayerInfo} output
 * @param profileFile      {@code --exportProfile} output
 * @param buildLogFile     everything trtexec printed during the build
 * @param tensorrt         the trtexec used and the TensorRT version it reported
 * @param gpu              the GPU the engine was built on (nvidia-smi, else trtexec's device lines); null when
 *                         neither said
 * @param performance      trtexec's performance summary; null when it printed none
 * @param layers           the engine's layers mapped to ONNX nodes, with precision and time
 * @param plannedInt8Nodes nodes the QDQ plan meant to run in INT8
 * @param notInt8AsPlanned those the engine does not run as planned ({@link Int8PlanCheck})
 * @param warnings         what the reports could not match or measure, for the log and the report
 * @param accuracy         the engine's measured accuracy; null when no evaluation was asked for
 * @param buildCommand     the trtexec argv of the build
 */
public record CompileOutcome(Path engineFile, String engineName, Path timingCacheFile, Path layerInfoFile,
                             Path profileFile, Path buildLogFile, TensorRtInstallation tensorrt, GpuInfo gpu,
                             PerformanceSummary performance, List<EngineLayer> layers, List<String> plannedInt8Nodes,
                             List<NotInt8AsPlanned> notInt8AsPlanned, List<String> warnings, EngineAccuracy accuracy,
                             List<String> buildCommand, Duration buildTime) {

    public CompileOutcome {
        layers = List.copyOf(layers);
        plannedInt8Nodes = List.copyOf(plannedInt8Nodes);
        notInt8AsPlanned = List.copyOf(notInt8AsPlanned);
        warnings = List.copyOf(warnings);
        buildCommand = List.copyOf(buildCommand);
    }
}
