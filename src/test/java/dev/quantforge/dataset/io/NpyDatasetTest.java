package dev.quantforge.dataset.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quantforge.quant.data.Batch;
import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.ElementType;
import dev.quantforge.quant.data.SampleSource;
import dev.quantforge.quant.data.TensorInfo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyDatasetTest {

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @TempDir
    Path tmp;

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name), bytes);
    }

    @Test
    void float64ArrayIsOneTensorNamedInput() throws IOException {
        Path file = write("a.npy", NpyWriter.npy("<f8", new long[] {5, 3}, NpyWriter.doubles(LE, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)));
        NpyDataset ds = new NpyDataset(file, Preprocessing.DEFAULT);
        assertThat(ds.tensors()).containsExactly(new TensorInfo("input", ElementType.FLOAT64, List.of(5L, 3L)));
        assertThat(ds.hasLabels()).isFalse();
        try (SampleSource.BatchIterator it = ds.batches(2, Long.MAX_VALUE)) {
            assertThat(it.next().tensors().get("input").toFloatArray()).containsExactly(0, 1, 2, 3, 4, 5);
            assertThat(it.next().tensors().get("input").toFloatArray()).containsExactly(6, 7, 8, 9, 10, 11);
            Batch last = it.next();
            assertThat(last.firstSample()).isEqualTo(4);
            assertThat(last.tensors().get("input").shape()).containsExactly(1, 3);
            assertThat(last.labels()).isNull();
            assertThat(it.hasNext()).isFalse();
        }
    }

    @Test
    void bigEndianInt32AndVersion2Header() throws IOException {
        Path file = write("b.npy", NpyWriter.npy(">i4", false, new long[] {3}, NpyWriter.ints(ByteOrder.BIG_ENDIAN, -5, 70000, 3), 2));
        NpyDataset ds = new NpyDataset(file, Preprocessing.DEFAULT);
        assertThat(ds.tensors().get(0).elementType()).isEqualTo(ElementType.INT32);
        try (SampleSource.BatchIterator it = ds.batches(10, Long.MAX_VALUE)) {
            assertThat(it.next().tensors().get("input").toLongArray()).containsExactly(-5, 70000, 3);
        }
    }

    @Test
    void uint8WithScaleBecomesFloat32() throws IOException {
        Path file = write("c.npy", NpyWriter.npy("|u1", new long[] {2, 2}, new byte[] {0, 51, (byte) 204, (byte) 255}));
        NpyDataset ds = new NpyDataset(file, new Preprocessing(null, 1 / 255.0, null, null, null, null, false));
        assertThat(ds.tensors().get(0).elementType()).isEqualTo(ElementType.FLOAT32);
        try (SampleSource.BatchIterator it = ds.batches(2, Long.MAX_VALUE)) {
            assertThat(it.next().tensors().get("input").toFloatArray()).containsExactly(0f, 0.2f, 0.8f, 1f);
        }
    }

    @Test
    void headerParsing() throws IOException {
        byte[] bytes = NpyWriter.npyWithHeader("{'descr': '<u2', 'fortran_order': False, 'shape': (4L, 2L), }", new byte[16], 1);
        NpyHeader h = NpyHeader.read(new ByteArrayInputStream(bytes), "x");
        assertThat(h.elementType()).isEqualTo(ElementType.UINT16);
        assertThat(h.shape()).containsExactly(4, 2);
        assertThat(h.dataOffset()).isEqualTo(128); // 10-byte prefix + 61-char dict, padded to 64
        assertThat(h.sampleBytes()).isEqualTo(4);
        NpyHeader bool = NpyHeader.read(new ByteArrayInputStream(NpyWriter.npy("|b1", false, new long[] {7}, new byte[7], 3)), "y");
        assertThat(bool.elementType()).isEqualTo(ElementType.BOOL);
        assertThat(bool.dataBytes()).isEqualTo(7);
    }

    @Test
    void badArraysAreRefusedWithAReason() throws IOException {
        Path fortran = write("f.npy", NpyWriter.npy("<f4", true, new long[] {2, 2}, new byte[16], 1));
        assertThatThrownBy(() -> new NpyDataset(fortran, Preprocessing.DEFAULT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("np.ascontiguousarray");

        Path object = write("o.npy", NpyWriter.npy("|O", new long[] {2}, new byte[16]));
        assertThatThrownBy(() -> new NpyDataset(object, Preprocessing.DEFAULT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("dtype '|O'").hasMessageContaining("Python objects");

        Path corrupt = write("h.npy", NpyWriter.npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2", new byte[16], 1));
        assertThatThrownBy(() -> new NpyDataset(corrupt, Preprocessing.DEFAULT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("not a valid .npy file").hasMessageContaining("malformed");

        byte[] full = NpyWriter.npy("<f4", new long[] {100, 10}, new byte[4000]);
        Path truncated = write("t.npy", Arrays.copyOf(full, full.length - 100));
        assertThatThrownBy(() -> new NpyDataset(truncated, Preprocessing.DEFAULT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("truncated");

        Path scalar = write("s.npy", NpyWriter.npy("<f4", new long[] {}, new byte[4]));
        assertThatThrownBy(() -> new NpyDataset(scalar, Preprocessing.DEFAULT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("scalar");

        Path badVersion = write("v.npy", NpyWriter.npy("<f4", false, new long[] {1}, new byte[4], 9));
        assertThatThrownBy(() -> new NpyDataset(badVersion, Preprocessing.DEFAULT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("version 9.0");
    }
}
