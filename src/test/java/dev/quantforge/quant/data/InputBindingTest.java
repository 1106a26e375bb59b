package dev.quantforge.quant.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class InputBindingTest {

    private static TensorInfo t(String name, ElementType type, Object... dims) {
        return new TensorInfo(name, type, Arrays.asList(dims));
    }

    private static final TensorInfo MNIST_INPUT = t("Input3", ElementType.FLOAT32, 1L, 1L, 28L, 28L);

    @Test
    void bindsByName() {
        List<TensorInfo> model = List.of(t("input_ids", ElementType.INT64, "batch", "sequence"),
                t("attention_mask", ElementType.INT64, "batch", "sequence"));
        List<TensorInfo> data = List.of(t("attention_mask", ElementType.INT32, 10L, 16L),
                t("input_ids", ElementType.INT64, 10L, 16L), t("extra", ElementType.FLOAT32, 10L));
        assertEquals(Map.of("input_ids", "input_ids", "attention_mask", "attention_mask"), InputBinding.bind(model, data));
    }

    @Test
    void bindsSingleInputToSingleTensorWhateverTheNames() {
        Map<String, String> binding = InputBinding.bind(List.of(t("input_image", ElementType.FLOAT32, "batch", 1L, 28L, 28L)),
                List.of(t("Input3", ElementType.FLOAT32, 2000L, 1L, 28L, 28L)));
        assertEquals(Map.of("input_image", "Input3"), binding);
    }

    @Test
    void acceptsFixedBatchOneAndConvertibleTypes() {
        assertEquals(Map.of("Input3", "x"), InputBinding.bind(List.of(MNIST_INPUT),
                List.of(t("x", ElementType.UINT8, 500L, 1L, 28L, 28L))));
        assertEquals(Map.of("Input3", "x"), InputBinding.bind(List.of(MNIST_INPUT),
                List.of(t("x", ElementType.FLOAT64, 500L, 1L, 28L, 28L))));
        // unknown model dims accept anything
        assertEquals(Map.of("float_input", "x"), InputBinding.bind(List.of(t("float_input", ElementType.FLOAT32, null, 784L)),
                List.of(t("x", ElementType.FLOAT32, 3L, 784L))));
    }

    @Test
    void dimensionMismatchNamesBothSides() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> InputBinding.bind(List.of(MNIST_INPUT),
                List.of(t("x", ElementType.FLOAT32, 100L, 3L, 32L, 32L))));
        assertEquals("model input 'Input3' float32 [1,1,28,28] does not fit dataset tensor 'x' float32 [N,3,32,32]: "
                + "dimension 1 is 1 in the model but 3 in the dataset", e.getMessage());
    }

    @Test
    void rankMismatch() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> InputBinding.bind(List.of(MNIST_INPUT),
                List.of(t("Input3", ElementType.FLOAT32, 100L, 784L))));
        assertEquals("model input 'Input3' float32 [1,1,28,28] does not fit dataset tensor 'Input3' float32 [N,784]: "
                + "the model input has rank 4 but the dataset tensor has rank 2", e.getMessage());
    }

    @Test
    void floatDataCannotFeedIntegerInput() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> InputBinding.bind(
                List.of(t("input_ids", ElementType.INT64, "batch", "sequence")),
                List.of(t("ids", ElementType.FLOAT32, 10L, 16L))));
        assertEquals("model input 'input_ids' int64 [batch,sequence] does not fit dataset tensor 'ids' float32 [N,16]: "
                + "floating-point data cannot feed an integer input", e.getMessage());
    }

    @Test
    void missingInputsAreNamedWithTheDatasetTensors() {
        List<TensorInfo> model = List.of(t("input_ids", ElementType.INT64, "batch", "sequence"),
                t("attention_mask", ElementType.INT64, "batch", "sequence"),
                t("token_type_ids", ElementType.INT64, "batch", "sequence"));
        List<TensorInfo> data = List.of(t("input_ids", ElementType.INT64, 10L, 16L), t("mask", ElementType.INT64, 10L, 16L));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> InputBinding.bind(model, data));
        assertEquals("the dataset has no tensor for model inputs 'attention_mask', 'token_type_ids'; the dataset's "
                + "tensors are 'input_ids' int64 [N,16], 'mask' int64 [N,16] (name the arrays after the model inputs)",
                e.getMessage());
    }
}
