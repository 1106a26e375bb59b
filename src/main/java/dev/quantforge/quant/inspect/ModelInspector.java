package dev.quantforge.quant.inspect;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.onnx.Graphs;
import dev.quantforge.quant.onnx.NodeNames;
import dev.quantforge.quant.ops.OpRegistry;
import dev.quantforge.quant.ops.OpRule;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads an ONNX file, checks that the service can use it and summarises it ({@link ModelSummary}).
 * A model is accepted when it parses as a ModelProto with a graph, keeps all tensor data inside
 * the one file, and loads in ONNX Runtime. Every refusal is a {@link InvalidInputException} whose
 * message tells the user what is wrong.
 */
public final class ModelInspector {

    public ModelSummary inspect(Path onnxFile) {
        OnnxMl.ModelProto model = Graphs.parse(onnxFile);
        if (!model.hasGraph()) {
            if (model.getIrVersion() == 0 && model.getOpsetImportCount() == 0) {
                throw new InvalidInputException("not an ONNX model: the file holds no ir_version, opset or graph");
            }
            throw new InvalidInputException("the ONNX model has no graph");
        }
        OnnxMl.GraphProto graph = model.getGraph();
        // Before ONNX Runtime sees the file: it would read the external files we are refusing.
        checkNoExternalData(graph);
        validateWithOnnxRuntime(onnxFile);
        return summarize(model);
    }

    /**
     * Refuses tensor data stored outside the model file. A location that is absolute or climbs out
     * of the model's directory would make the loader read arbitrary server files, so it gets its
     * own message; any other external file is refused because the service stores only the single
     * uploaded file.
     */
    static void checkNoExternalData(OnnxMl.GraphProto graph) {
        for (OnnxMl.TensorProto tensor : graph.getInitializerList()) {
            checkTensor(tensor);
        }
        for (OnnxMl.SparseTensorProto sparse : graph.getSparseInitializerList()) {
            checkTensor(sparse.getValues());
            checkTensor(sparse.getIndices());
        }
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            for (OnnxMl.AttributeProto attribute : node.getAttributeList()) {
                if (attribute.hasT()) {
                    checkTensor(attribute.getT());
                }
                attribute.getTensorsList().forEach(ModelInspector::checkTensor);
                if (attribute.hasG()) {
                    checkNoExternalData(attribute.getG());
                }
                attribute.getGraphsList().forEach(ModelInspector::checkNoExternalData);
            }
        }
    }

    private static void checkTensor(OnnxMl.TensorProto tensor) {
        boolean external = tensor.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL
                || tensor.getExternalDataCount() > 0;
        if (!external) {
            return;
        }
        String location = tensor.getExternalDataList().stream()
                .filter(entry -> entry.getKey().equals("location"))
                .map(OnnxMl.StringStringEntryProto::getValue)
                .findFirst().orElse("");
        if (escapesModelDirectory(location)) {
            throw new InvalidInputException("external data path '" + location + "' points outside the model; "
                    + "tensor '" + tensor.getName() + "' must be stored inside the .onnx file");
        }
        throw new InvalidInputException("tensor '" + tensor.getName() + "' keeps its data in an external file '"
                + location + "'; upload the model as one self-contained .onnx file with all weights inside "
                + "(models over 2 GB, which need external data, are not supported yet)");
    }

    static boolean escapesModelDirectory(String location) {
        if (location.startsWith("/") || location.startsWith("\\") || location.matches("^[A-Za-z]:.*")) {
            return true;
        }
        Path base = Path.of("model-dir");
        Path resolved;
        try {
            resolved = base.resolve(location.replace('\\', '/')).normalize();
        } catch (RuntimeException invalidPath) {
            return true;
        }
        return resolved.isAbsolute() || !resolved.startsWith(base);
    }

    private static void validateWithOnnxRuntime(Path onnxFile) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession ignored = env.createSession(onnxFile.toString(), options)) {
                // loading is the check
            }
        } catch (OrtException e) {
            throw new InvalidInputException("ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }

    /** Every node of the main graph with its API name ({@link NodeNames}) and op type, in graph order. */
    public static List<ModelSummary.NodeRef> nodes(OnnxMl.ModelProto model) {
        List<String> names = NodeNames.of(model.getGraph());
        List<ModelSummary.NodeRef> out = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            out.add(new ModelSummary.NodeRef(names.get(i), model.getGraph().getNode(i).getOpType()));
        }
        return out;
    }

    public static ModelSummary summarize(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto graph = model.getGraph();

        Map<String, Long> opsetImports = new LinkedHashMap<>();
        for (OnnxMl.OperatorSetIdProto opset : model.getOpsetImportList()) {
            String domain = opset.getDomain().equals("ai.onnx") ? "" : opset.getDomain();
            opsetImports.merge(domain, opset.getVersion(), Math::max);
        }
        Long defaultOpset = opsetImports.get("");

        String producer = (model.getProducerName() + " " + model.getProducerVersion()).trim();

        Set<String> initializerNames = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializerNames.add(t.getName()));
        graph.getSparseInitializerList().forEach(t -> initializerNames.add(t.getValues().getName()));
        List<ModelSummary.IoInfo> inputs = new ArrayList<>();
        for (OnnxMl.ValueInfoProto input : graph.getInputList()) {
            if (!initializerNames.contains(input.getName())) {
                inputs.add(ioInfo(input));
            }
        }
        List<ModelSummary.IoInfo> outputs = graph.getOutputList().stream().map(ModelInspector::ioInfo).toList();

        Map<String, Integer> counts = new TreeMap<>();
        graph.getNodeList().forEach(node -> counts.merge(node.getOpType(), 1, Integer::sum));
        Map<String, Integer> opTypes = new LinkedHashMap<>();
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder())
                        .thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> opTypes.put(e.getKey(), e.getValue()));

        List<String> names = NodeNames.of(graph);
        List<ModelSummary.NodeRef> quantizable = new ArrayList<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            OnnxMl.NodeProto node = graph.getNode(i);
            if (OpRegistry.hasRole(node, OpRule.Role.WEIGHTED)) {
                quantizable.add(new ModelSummary.NodeRef(names.get(i), node.getOpType()));
            }
        }

        return new ModelSummary(model.getIrVersion(), defaultOpset == null ? null : Math.toIntExact(defaultOpset),
                opsetImports, producer.isEmpty() ? null : producer, inputs, outputs, graph.getNodeCount(),
                opTypes, quantizable);
    }

    private static ModelSummary.IoInfo ioInfo(OnnxMl.ValueInfoProto value) {
        OnnxMl.TypeProto type = value.getType();
        List<Object> shape = null;
        if (type.hasTensorType() && type.getTensorType().hasShape()) {
            shape = new ArrayList<>();
            for (OnnxMl.TensorShapeProto.Dimension dim : type.getTensorType().getShape().getDimList()) {
                if (dim.hasDimValue()) {
                    shape.add(dim.getDimValue());
                } else if (dim.hasDimParam() && !dim.getDimParam().isEmpty()) {
                    shape.add(dim.getDimParam());
                } else {
                    shape.add(null);
                }
            }
        }
        return new ModelSummary.IoInfo(value.getName(), typeName(type), shape);
    }

    /** "float32" for tensors, a type expression ("sequence<map<int64,float32>>") for other values. */
    static String typeName(OnnxMl.TypeProto type) {
        if (type.hasTensorType()) {
            return Graphs.elementTypeName(type.getTensorType().getElemType());
        }
        if (type.hasSequenceType()) {
            return "sequence<" + typeName(type.getSequenceType().getElemType()) + ">";
        }
        if (type.hasMapType()) {
            return "map<" + Graphs.elementTypeName(type.getMapType().getKeyType()) + ","
                    + typeName(type.getMapType().getValueType()) + ">";
        }
        if (type.hasOptionalType()) {
            return "optional<" + typeName(type.getOptionalType().getElemType()) + ">";
        }
        if (type.hasSparseTensorType()) {
            return "sparse_tensor<" + Graphs.elementTypeName(type.getSparseTensorType().getElemType()) + ">";
        }
        if (type.hasOpaqueType()) {
            return "opaque";
        }
        return "unknown";
    }

}
