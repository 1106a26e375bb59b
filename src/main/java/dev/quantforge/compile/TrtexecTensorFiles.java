package dev.quantforge.compile;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.NdArray;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensor files trtexec reads and writes.
 * <ul>
 *   <li>{@code --loadInputs=name:file}: the tensor's raw elements in C order, in the engine input's type, in
 *       the host's byte order (little endian on every CUDA host), with no header: what numpy's
 *       {@code array.astype(np.float32).tofile(file)} writes, as trtexec's README shows.</li>
 *   <li>{@code --exportOutput=file}: a JSON array with one {@code {"name": ..., "dimensions": "2x10",
 *       "values": [...]}} object per output binding.</li>
 * </ul>
 */
final class TrtexecTensorFiles {

    /**
     * An exported output tensor.
     *
     * @param dimensions as trtexec printed them ("2x10" → [2, 10])
     */
    record OutputTensor(String name, List<Long> dimensions, float[] values) {
    }

    private TrtexecTensorFiles() {
    }

    /**
     * Writes rows {@code [from, from + count)} of {@code array} (first axis = sample) as {@code type},
     * then repeats the last of them until {@code rows} rows are written: engines with a fixed batch (or a
     * minimum batch) need full batches, and the padding rows' outputs are dropped by the caller.
     *
     * @return the shape written
     */
    static List<Long> writeInput(NdArray array, int from, int count, int rows, ElementType type, Path file) {
        long[] shape = array.shape();
        if (shape.length == 0) {
            throw new InvalidInputException("a dataset tensor has no sample axis");
        }
        int perSample = 1;
        for (int i = 1; i < shape.length; i++) {
            perSample = Math.multiplyExact(perSample, Math.toIntExact(shape[i]));
        }
        int size = type.byteSize();
        if (size < 1) {
            throw new InvalidInputException("string inputs cannot be written for trtexec");
        }
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(rows, perSample), size))
                .order(ByteOrder.LITTLE_ENDIAN);
        if (type.isFloatingPoint()) {
            float[] values = array.toFloatArray();
            for (int r = 0; r < rows; r++) {
                int base = (from + Math.min(r, count - 1)) * perSample;
                for (int k = 0; k < perSample; k++) {
                    putFloat(out, type, values[base + k]);
                }
            }
        } else {
            long[] values = array.toLongArray();
            for (int r = 0; r < rows; r++) {
                int base = (from + Math.min(r, count - 1)) * perSample;
                for (int k = 0; k < perSample; k++) {
                    putInteger(out, type, values[base + k]);
                }
            }
        }
        try (OutputStream os = Files.newOutputStream(file)) {
            os.write(out.array());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write trtexec input " + file, e);
        }
        List<Long> written = new ArrayList<>();
        written.add((long) rows);
        for (int i = 1; i < shape.length; i++) {
            written.add(shape[i]);
        }
        return written;
    }

    private static void putFloat(ByteBuffer out, ElementType type, float v) {
        switch (type) {
            case FLOAT32 -> out.putFloat(v);
            case FLOAT64 -> out.putDouble(v);
            default -> throw new InvalidInputException("engine inputs of type " + type.apiName() + " cannot be written yet");
        }
    }

    private static void putInteger(ByteBuffer out, ElementType type, long v) {
        switch (type) {
            case INT64 -> out.putLong(v);
            case INT32 -> out.putInt((int) v);
            case INT8, UINT8 -> out.put((byte) v);
            case BOOL -> out.put((byte) (v != 0 ? 1 : 0));
            default -> throw new InvalidInputException("engine inputs of type " + type.apiName() + " cannot be written yet");
        }
    }

    static Map<String, OutputTensor> readOutputs(Path file) {
        JsonNode root = Json.read(file, "trtexec's exported outputs");
        if (!root.isArray()) {
            throw new EngineReportException("trtexec's exported outputs " + file.getFileName() + " are not a JSON array");
        }
        Map<String, OutputTensor> outputs = new LinkedHashMap<>();
        for (JsonNode binding : root) {
            String name = binding.path("name").asString();
            List<Long> dims = dimensions(binding.path("dimensions"));
            JsonNode values = binding.path("values");
            float[] floats = new float[values.size()];
            for (int i = 0; i < floats.length; i++) {
                floats[i] = (float) values.get(i).asDouble();
            }
            outputs.put(name, new OutputTensor(name, dims, floats));
        }
        return outputs;
    }

    private static List<Long> dimensions(JsonNode node) {
        List<Long> dims = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(d -> dims.add(d.asLong()));
        } else if (!node.asString().isBlank()) {
            for (String d : node.asString().split("x")) {
                dims.add(Long.parseLong(d.strip()));
            }
        }
        return dims;
    }
}
