package dev.quantforge.worker;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.compile.GpuInfo;
import dev.quantforge.compile.GpuProbe;
import dev.quantforge.compile.TensorRtInstallation;
import dev.quantforge.compile.TensorRtProbe;

/** What this JVM can run: CPU, ONNX Runtime and its execution providers, QAT, and TensorRT (a real trtexec) with its GPU. */
public final class LocalCapabilities {

    private static final Logger log = LoggerFactory.getLogger(LocalCapabilities.class);

    private LocalCapabilities() {
    }

    /** What this JVM can run; TensorRT from QF_TRTEXEC (environment) or trtexec on PATH. */
    public static ObjectNode detect() {
        return detect(null, null);
    }

    /**
     * What this JVM can run, with {@code tensorrt: {version, trtexec}} and {@code gpu: {name, computeCapability,
     * memoryMiB, driver, cuda}} (and every GPU under {@code gpus}) when a real trtexec is found: the
     * {@code qf.trtexec} setting ({@code QF_TRTEXEC}) when given, else {@code trtexec} on PATH.
     *
     * @param trtexec   the qf.trtexec setting, null or blank to look on PATH
     * @param nvidiaSmi the nvidia-smi to list GPUs with (qf.nvidia-smi), null for the one on PATH
     */
    public static ObjectNode detect(String trtexec, String nvidiaSmi) {
        ObjectNode caps = detectRuntime();
        tensorRt(caps, trtexec, nvidiaSmi);
        return caps;
    }

    private static ObjectNode detectRuntime() {
        ObjectNode caps = JsonNodeFactory.instance.objectNode();
        caps.put("cpu", true);
        caps.put("cpuCores", Runtime.getRuntime().availableProcessors());
        caps.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        ObjectNode ort = caps.putObject("onnxruntime");
        ort.put("version", OrtEnvironment.getEnvironment().getVersion());
        ArrayNode providers = ort.putArray("providers");
        for (OrtProvider p : OrtEnvironment.getAvailableProviders()) {
            providers.add(p.getName());
            if (p == OrtProvider.CUDA) {
                caps.put("cuda", true);
            }
            // ONNX Runtime's TensorRT provider is listed above; the "tensorrt" capability means a trtexec (tensorRt below)
        }
        if (qatAvailable()) {
            // the PyTorch CPU natives on the classpath are linux-x86_64 only; they are extracted on first use
            caps.putObject("qat").put("engine", "pytorch").put("device", "cpu");
        }
        caps.put("host", hostName());
        return caps;
    }

    private static void tensorRt(ObjectNode caps, String trtexec, String nvidiaSmi) {
        Optional<TensorRtInstallation> trt;
        try {
            trt = TensorRtProbe.probe(System.getenv(), trtexec == null || trtexec.isBlank() ? null : trtexec, log::info);
        } catch (IllegalStateException misconfigured) {
            // QF_TRTEXEC names no executable: said loudly, and this worker takes no TensorRT jobs
            log.error("TensorRT disabled on this worker: {}", misconfigured.getMessage());
            return;
        }
        if (trt.isEmpty()) {
            return;
        }
        caps.putObject("tensorrt").put("version", trt.get().version().toString()).put("trtexec", trt.get().trtexec().toString());
        List<GpuInfo> gpus = GpuProbe.probe(nvidiaSmi == null || nvidiaSmi.isBlank() ? "nvidia-smi" : nvidiaSmi, log::info);
        if (!gpus.isEmpty()) {
            caps.set("gpu", gpu(gpus.get(0))); // device 0: the one trtexec builds on
            ArrayNode all = caps.putArray("gpus");
            gpus.forEach(g -> all.add(gpu(g)));
            caps.put("cuda", true);
        }
        log.info("TensorRT {} ({}) on {}", trt.get().version(), trt.get().trtexec(),
                gpus.isEmpty() ? "no GPU listed by nvidia-smi" : gpus.get(0).name());
    }

    private static ObjectNode gpu(GpuInfo g) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("name", g.name());
        o.put("computeCapability", g.computeCapability());
        o.put("memoryMiB", g.memoryMiB());
        if (g.driverVersion() != null) {
            o.put("driver", g.driverVersion());
        }
        if (g.cudaVersion() != null) {
            o.put("cuda", g.cudaVersion());
        }
        return o;
    }

    static boolean qatAvailable() {
        String arch = System.getProperty("os.arch", "");
        return System.getProperty("os.name", "").toLowerCase().contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))
                && LocalCapabilities.class.getClassLoader().getResource("ai/djl/pytorch/engine/PtEngine.class") != null;
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
