package dino4j.tensor;

/**
 * A flat buffer of one dtype that tensors view. Heap arrays (float[], double[], short[], long[], int[],
 * byte[]): the Vector API reads heap float[] at least as fast as off-heap segments here (measured in
 * bench/results/heap-vs-segment.md) and the GC frees them without a manual lifetime.
 *
 * <p>{@link #version()} counts in-place writes; autograd records it when it saves a tensor for backward
 * and fails loudly if it changed by the time backward runs.
 */
public final class Storage {
    private final DType dtype;
    private final Object data;
    private final int length;
    private int version;

    private Storage(DType dtype, Object data, int length) {
        this.dtype = dtype;
        this.data = data;
        this.length = length;
    }

    public static Storage allocate(DType dtype, int length) {
        Object data = switch (dtype) {
            case F32 -> new float[length];
            case F64 -> new double[length];
            case BF16, F16 -> new short[length];
            case I64 -> new long[length];
            case I32 -> new int[length];
            case U8, BOOL -> new byte[length];
        };
        return new Storage(dtype, data, length);
    }

    public static Storage wrap(float[] a) { return new Storage(DType.F32, a, a.length); }
    public static Storage wrap(double[] a) { return new Storage(DType.F64, a, a.length); }
    public static Storage wrap(long[] a) { return new Storage(DType.I64, a, a.length); }
    public static Storage wrap(int[] a) { return new Storage(DType.I32, a, a.length); }
    public static Storage wrapBool(byte[] a) { return new Storage(DType.BOOL, a, a.length); }
    public static Storage wrapU8(byte[] a) { return new Storage(DType.U8, a, a.length); }
    public static Storage wrapHalf(DType dtype, short[] a) {
        if (dtype != DType.BF16 && dtype != DType.F16) throw new IllegalArgumentException("half storage must be BF16 or F16, got " + dtype);
        return new Storage(dtype, a, a.length);
    }

    public DType dtype() { return dtype; }
    public int length() { return length; }
    public int version() { return version; }
    public void bumpVersion() { version++; }

    public float[] floats() { check(DType.F32); return (float[]) data; }
    public double[] doubles() { check(DType.F64); return (double[]) data; }
    public short[] halves() {
        if (dtype != DType.BF16 && dtype != DType.F16) throw new IllegalStateException("storage is " + dtype + ", not BF16/F16");
        return (short[]) data;
    }
    public long[] longs() { check(DType.I64); return (long[]) data; }
    public int[] ints() { check(DType.I32); return (int[]) data; }
    public byte[] bytes() {
        if (dtype != DType.BOOL && dtype != DType.U8) throw new IllegalStateException("storage is " + dtype + ", not BOOL/U8");
        return (byte[]) data;
    }

    /** Element i as a double, whatever the dtype (slow path for tests, printing and conversion). */
    public double get(int i) {
        return switch (dtype) {
            case F32 -> ((float[]) data)[i];
            case F64 -> ((double[]) data)[i];
            case BF16 -> Float.intBitsToFloat((((short[]) data)[i] & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(((short[]) data)[i]);
            case I64 -> ((long[]) data)[i];
            case I32 -> ((int[]) data)[i];
            case U8 -> ((byte[]) data)[i] & 0xff;
            case BOOL -> ((byte[]) data)[i] != 0 ? 1 : 0;
        };
    }

    /** Sets element i from a double (rounds to the storage type; BF16 rounds to nearest even). */
    public void set(int i, double v) {
        switch (dtype) {
            case F32 -> ((float[]) data)[i] = (float) v;
            case F64 -> ((double[]) data)[i] = v;
            case BF16 -> ((short[]) data)[i] = Half.f32ToBf16((float) v);
            case F16 -> ((short[]) data)[i] = Float.floatToFloat16((float) v);
            case I64 -> ((long[]) data)[i] = (long) v;
            case I32 -> ((int[]) data)[i] = (int) v;
            case U8 -> ((byte[]) data)[i] = (byte) (int) v;
            case BOOL -> ((byte[]) data)[i] = (byte) (v != 0 ? 1 : 0);
        }
    }

    private void check(DType want) {
        if (dtype != want) throw new IllegalStateException("storage is " + dtype + ", not " + want);
    }
}
