package dev.quantforge.quant.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Decides which dataset tensor feeds which model input, and checks that it fits.
 *
 * <p>Inputs are matched by name; a model with exactly one input and a dataset with exactly one
 * tensor are bound whatever their names (an npy file has no tensor names). A pair fits when
 * <ul>
 *   <li>the element types are compatible: float → float (converted), integer → float (cast),
 *       integer → integer; float → integer is refused, it would silently truncate;</li>
 *   <li>the ranks are equal;</li>
 *   <li>every fixed model dimension after the first equals the dataset's per-sample dimension.
 *       The model's first (batch) dimension may be symbolic, fixed 1 or fixed N: the runtime
 *       runs sample by sample or in batches accordingly.</li>
 * </ul>
 */
public final class InputBinding {

    private InputBinding() {
    }

    /** @return model input name → dataset tensor name, in model input order */
    public static Map<String, String> bind(List<TensorInfo> modelInputs, List<TensorInfo> datasetTensors) {
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        datasetTensors.forEach(t -> byName.put(t.name(), t));

        Map<String, String> binding = new LinkedHashMap<>();
        if (modelInputs.size() == 1 && datasetTensors.size() == 1) {
            TensorInfo input = modelInputs.get(0);
            TensorInfo tensor = datasetTensors.get(0);
            checkFits(input, tensor);
            binding.put(input.name(), tensor.name());
            return binding;
        }

        List<String> missing = new ArrayList<>();
        for (TensorInfo input : modelInputs) {
            TensorInfo tensor = byName.get(input.name());
            if (tensor == null) {
                missing.add(input.name());
                continue;
            }
            checkFits(input, tensor);
            binding.put(input.name(), tensor.name());
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException("the dataset has no tensor for model input"
                    + (missing.size() > 1 ? "s " : " ") + quoted(missing) + "; the dataset's tensors are "
                    + (datasetTensors.isEmpty() ? "(none)" : datasetTensors.stream().map(InputBinding::describe)
                    .collect(Collectors.joining(", ")))
                    + " (name the arrays after the model inputs)");
        }
        return binding;
    }

    /** Throws when {@code tensor} (a dataset array, first axis = sample) cannot feed model input {@code input}. */
    public static void checkFits(TensorInfo input, TensorInfo tensor) {
        ElementType modelType = input.elementType();
        ElementType dataType = tensor.elementType();
        if (dataType == ElementType.STRING || modelType == ElementType.STRING) {
            if (dataType != modelType) {
                throw mismatch(input, tensor, "string and numeric tensors cannot be converted into each other");
            }
        } else if (dataType.isFloatingPoint() && modelType.isInteger()) {
            throw mismatch(input, tensor, "floating-point data cannot feed an integer input");
        }
        if (input.shape().size() != tensor.shape().size()) {
            throw mismatch(input, tensor, "the model input has rank " + input.shape().size()
                    + " but the dataset tensor has rank " + tensor.shape().size());
        }
        for (int axis = 1; axis < input.shape().size(); axis++) {
            Object modelDim = input.shape().get(axis);
            Object dataDim = tensor.shape().get(axis);
            if (modelDim instanceof Long fixed && dataDim instanceof Long data && !fixed.equals(data)) {
                throw mismatch(input, tensor, "dimension " + axis + " is " + fixed + " in the model but "
                        + data + " in the dataset");
            }
        }
    }

    private static InvalidInputException mismatch(TensorInfo input, TensorInfo tensor, String reason) {
        return new InvalidInputException("model input '" + input.name() + "' " + input.elementType().apiName() + " "
                + shapeText(input.shape(), false) + " does not fit dataset tensor '" + tensor.name() + "' "
                + tensor.elementType().apiName() + " " + shapeText(tensor.shape(), true) + ": " + reason);
    }

    private static String describe(TensorInfo tensor) {
        return "'" + tensor.name() + "' " + tensor.elementType().apiName() + " " + shapeText(tensor.shape(), true);
    }

    /** "[1,1,28,28]"; a dataset's first axis is shown as N since it is the sample count, not a batch. */
    static String shapeText(List<Object> shape, boolean dataset) {
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < shape.size(); i++) {
            if (i > 0) {
                text.append(',');
            }
            Object dim = shape.get(i);
            text.append(dataset && i == 0 ? "N" : dim == null ? "?" : dim.toString());
        }
        return text.append(']').toString();
    }

    private static String quoted(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
    }
}
