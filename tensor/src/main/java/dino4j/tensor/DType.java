package dino4j.tensor;

/**
 * Element types. Compute happens in F32 (fast kernels) and F64 (the scalar references, used for
 * gradient checks); BF16/F16 are storage types (checkpoints) converted on read; I64/BOOL hold indices
 * and masks. Names are the safetensors dtype strings.
 */
public enum DType {
    F32(4), F64(8), BF16(2), F16(2), I64(8), I32(4), U8(1), BOOL(1);

    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public boolean isFloating() { return this == F32 || this == F64 || this == BF16 || this == F16; }

    /** Parses a safetensors dtype string ("F32", "BF16", ...); the message names the offending value. */
    public static DType fromSafetensors(String s) {
        return switch (s) {
            case "F32" -> F32; case "F64" -> F64; case "BF16" -> BF16; case "F16" -> F16;
            case "I64" -> I64; case "I32" -> I32; case "U8" -> U8; case "BOOL" -> BOOL;
            default -> throw new IllegalArgumentException("unsupported safetensors dtype '" + s
                    + "' (supported: F32, F64, BF16, F16, I64, I32, U8, BOOL)");
        };
    }
}
