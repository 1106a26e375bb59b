package dev.quantforge.quant.data;

import java.util.Locale;

/** Tensor element types the service reads and feeds to ONNX Runtime. API names are lower-case ("float32"). */
public enum ElementType {
    FLOAT32(4), FLOAT64(8), FLOAT16(2), INT8(1), UINT8(1), INT16(2), UINT16(2), INT32(4), UINT32(4), INT64(8), UINT64(8), BOOL(1), STRING(-1);

    private final int byteSize;

    ElementType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element; -1 for variable-size types (strings). */
    public int byteSize() {
        return byteSize;
    }

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isInteger() {
        return switch (this) {
            case INT8, UINT8, INT16, UINT16, INT32, UINT32, INT64, UINT64, BOOL -> true;
            default -> false;
        };
    }

    public boolean isFloatingPoint() {
        return this == FLOAT32 || this == FLOAT64 || this == FLOAT16;
    }

    public static ElementType fromApiName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
