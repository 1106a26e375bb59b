package dev.quantforge.quant.runtime;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.data.NdArray;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import dev.quantforge.quant.testdata.TestNpz;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.quantforge.quant.testdata.Models.*;
import static org.junit.jupiter.api.Assertions.*;

class OrtModelTest {

    @Test
    void fixedBatchModelRunsSampleBySample() throws Exception {
        TestNpz data = TestNpz.read(MNIST8_EVAL);
        try (OrtModel model = OrtModel.load(MNIST8)) {
            assertFalse(model.hasDynamicBatch());
            assertEquals(1, model.fixedBatchSize().getAsLong());
            assertEquals(List.of(new TensorInfo("Input3", ElementType.FLOAT32, List.of(1L, 1L, 28L, 28L))), model.inputs());
            assertEquals(List.of("Plus214_Output_0"), model.outputNames());
            Map<String, String> binding = InputBinding.bind(model.inputs(), data.tensors());
            float[][] five;
            try (SampleSource.BatchIterator it = data.batches(5, 5)) {
                five = model.run(it.next(), binding);
            }
            assertEquals(5, five.length);
            try (SampleSource.BatchIterator it = data.batches(1, 5)) {
                for (int i = 0; i < 5; i++) {
                    float[][] one = model.run(it.next(), binding);
                    assertEquals(10, one[0].length);
                    assertArrayEquals(five[i], one[0]);
                }
            }
        }
    }

    @Test
    void dynamicBatchModel() {
        try (OrtModel model = OrtModel.load(TRIBUO_CNN)) {
            assertTrue(model.hasDynamicBatch());
            assertTrue(model.fixedBatchSize().isEmpty());
            assertEquals(Arrays.asList("batch", 1L, 28L, 28L), model.inputs().get(0).shape());
        }
    }

    @Test
    void int64InputsAreFedFromIntegerData() {
        try (OrtModel model = OrtModel.load(TINYBERT)) {
            assertTrue(model.hasDynamicBatch());
            Map<String, NdArray> tensors = new LinkedHashMap<>();
            Map<String, String> binding = new LinkedHashMap<>();
            for (TensorInfo input : model.inputs()) {
                assertEquals(ElementType.INT64, input.elementType());
                // int32 token data, converted to the model's int64
                ByteBuffer data = ByteBuffer.allocate(2 * 4 * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < 8; i++) {
                    data.putInt(input.name().equals("token_type_ids") ? 0 : 1 + i % 3);
                }
                tensors.put("d_" + input.name(), new NdArray(ElementType.INT32, new long[] {2, 4}, data.rewind()));
                binding.put(input.name(), "d_" + input.name());
            }
            float[][] out = model.run(new Batch(0, 2, tensors, null), binding);
            assertEquals(2, out.length);
            assertEquals(4 * 50, out[0].length); // output_0: [batch, sequence, 50]
        }
    }

    @Test
    void unloadableModelIsADataFormatException() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OrtModel.load(MNIST8_EVAL));
        assertTrue(e.getMessage().startsWith("ONNX Runtime cannot load the model: "), e.getMessage());
    }
}
