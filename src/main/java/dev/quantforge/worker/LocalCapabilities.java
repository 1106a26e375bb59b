package dev.quantforge.worker;

import java.net.InetAddress;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** What this JVM can run: CPU, ONNX Runtime and its execution providers. */
public final class LocalCapabilities {

    private LocalCapabilities() {
    }

    public static ObjectNode detect() {
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
            if (p == OrtProvider.TENSOR_RT) {
                caps.put("tensorrt", true);
            }
        }
        if (qatAvailable()) {
            // the PyTorch CPU natives on the classpath are linux-x86_64 only; they are extracted on first use
            caps.putObject("qat").put("engine", "pytorch").put("device", "cpu");
        }
        caps.put("host", hostName());
        return caps;
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
