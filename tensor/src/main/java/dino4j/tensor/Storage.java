package dino4j.tensor;

import dino4j.runtime.Cuda;
import dino4j.runtime.DeviceBuffer;

/**
 * A flat buffer of one dtype that tensors view. Heap arrays (float[], double[], short[], long[], int[],
 * byte[]): the Vector API reads heap float[] at least as fast as off-heap segments here (measured in
 * bench/results/heap-vs-segment.md) and the GC frees them without a manual lifetime.
 *
 * <p>A storage may also have a copy in GPU memory. Its {@link #home()} says where ops on it should run;
 * the two copies are kept coherent lazily: each side is marked valid or stale, and data moves only when
 * the other side reads it (counted by {@link dino4j.runtime.Transfers}). Handing out the host array
 * ({@link #floats()} etc.) marks the device copy stale, because the caller may write it; read-only access
 * goes through {@link #get}, {@link #readArray()} and {@link #copyTo}. The device copy returns to the
 * caching allocator when the storage is garbage-collected.
 *
 * <p>{@link #version()} counts in-place writes; autograd records it when it saves a tensor for backward
 * and fails loudly if it changed by the time backward runs.
 */
public final class Storage {
    private final DType dtype;
    private final int length;
    private Object data;              // host array; null until first needed for device-born storages
    private int version;
    private Device home = Device.CPU;
    private DeviceBuffer device;      // null until first used on the GPU
    private boolean hostValid = true, deviceValid = false;
    private String releasedBy;        // set when a StepArena freed the only copy of the data
    private boolean recyclable;       // a step-born kernel output whose host array goes back to StepArena's pool

    private Storage(DType dtype, Object data, int length) {
        this.dtype = dtype;
        this.data = data;
        this.length = length;
    }

    private static Object newArray(DType dtype, int length) {
        return switch (dtype) {
            case F32 -> new float[length];
            case F64 -> new double[length];
            case BF16, F16 -> new short[length];
            case I64 -> new long[length];
            case I32 -> new int[length];
            case U8, BOOL -> new byte[length];
        };
    }

    public static Storage allocate(DType dtype, int length) {
        return new Storage(dtype, newArray(dtype, length), length);
    }

    /**
     * A float storage whose contents are NOT zeroed, for outputs a kernel overwrites in full: zeroing a fresh
     * 27 MB activation costs a memory pass as long as a fifth of the GEMM that then writes it. Uses the JDK's
     * {@code Unsafe.allocateUninitializedArray} where {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}
     * is given (the launcher, tests and benches do); otherwise a plain zeroed array.
     */
    static Storage allocateUninitialized(DType dtype, int length) {
        if (dtype != DType.F32 || length < UNINIT_MIN) return allocate(dtype, length);
        float[] a = StepArena.RECYCLE_HOST ? StepArena.take(length) : null;   // an earlier step's dead output
        if (a == null) a = freshUninitialized(length);
        Storage s = new Storage(dtype, a, length);
        if (StepArena.collectingHost()) {
            s.recyclable = true;
            StepArena.registerHost(s);
        }
        return s;
    }

    private static float[] freshUninitialized(int length) {
        if (UNINIT != null) {
            try {
                return (float[]) UNINIT.invoke(float.class, length);
            } catch (Throwable ignored) {
                // fall through to a zeroed array
            }
        }
        return new float[length];
    }

    private static final int UNINIT_MIN = 1 << 14;
    private static final java.lang.invoke.MethodHandle UNINIT = uninitializedAllocator();

    private static java.lang.invoke.MethodHandle uninitializedAllocator() {
        if (Boolean.getBoolean("dino4j.zeroedOutputs")) return null;
        try {
            Class<?> u = Class.forName("jdk.internal.misc.Unsafe");
            Object unsafe = u.getMethod("getUnsafe").invoke(null);
            var mh = java.lang.invoke.MethodHandles.lookup()
                    .findVirtual(u, "allocateUninitializedArray", java.lang.invoke.MethodType.methodType(Object.class, Class.class, int.class))
                    .bindTo(unsafe);
            mh.invoke(float.class, 1);   // fails here when the package is not exported
            return mh;
        } catch (Throwable e) {
            return null;
        }
    }

    /** A storage born on the GPU: uninitialised device memory, no host array until one is read. */
    public static Storage allocateOnDevice(DType dtype, int length) {
        Storage s = new Storage(dtype, null, length);
        s.home = Device.CUDA;
        s.hostValid = false;
        s.device = Cuda.context().alloc((long) length * dtype.bytes).bindTo(s);
        s.deviceValid = true;
        StepArena.register(s);
        return s;
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

    // ---------------------------------------------------------------- placement and coherence

    /** Where ops on this storage run (the data itself may be on either side, moved on demand). */
    public Device home() { return home; }

    /** Changes where ops on this storage run; data follows lazily. Returns this. */
    public synchronized Storage setHome(Device d) {
        if (d == Device.CUDA && !Cuda.available()) throw new IllegalStateException("cannot place a tensor on CUDA: " + Cuda.status());
        home = d;
        return this;
    }

    public synchronized boolean hostValid() { return hostValid; }
    public synchronized boolean deviceValid() { return deviceValid; }

    /**
     * Frees the device copy now (called by {@link StepArena}). When the host copy is current nothing is
     * lost; otherwise the data is gone and any later use throws, naming the arena.
     */
    synchronized void releaseDevice(String arena) {
        if (device == null) return;
        if (!hostValid) releasedBy = arena;
        device.release();
        device = null;
        deviceValid = false;
    }

    /**
     * Gives up the host array of a recyclable step-born output (called by {@link StepArena} at its close) and
     * returns it, or null when this storage is not one (or its data also lives on the GPU). Later use throws.
     */
    synchronized float[] releaseHost(String arena) {
        if (!recyclable || device != null || home != Device.CPU || !(data instanceof float[] a)) return null;
        data = null;
        hostValid = false;
        releasedBy = arena;
        return a;
    }

    private void checkLive() {
        if (releasedBy != null)
            throw new IllegalStateException("this tensor was made inside StepArena '" + releasedBy + "' and its only copy of the data was freed"
                    + " when the arena closed; read what you need (e.g. item(), toFloatArray()) inside the arena, or copy it out");
    }

    private Object host(boolean forWrite) {
        checkLive();
        if (!hostValid) {
            if (data == null) data = newArray(dtype, length);
            if (device != null && deviceValid) {
                Cuda.context().synchronize();
                Cuda.context().staging().download(device.ptr(), data, 0, length, dtype + "[" + length + "] read on the host");
            }
            hostValid = true;
        }
        if (forWrite) deviceValid = false;
        return data;
    }

    /** The host array for reading only (downloads when the device copy is newer; keeps it valid). */
    public synchronized Object readArray() { return host(false); }

    /** The device copy, made current (uploads when the host copy is newer), for kernels that READ it. */
    public synchronized DeviceBuffer deviceForRead() {
        checkLive();
        ensureDevice();
        if (!deviceValid) {
            Cuda.context().staging().upload(device.ptr(), host(false), 0, length, dtype + "[" + length + "] used on the GPU");
            deviceValid = true;
        }
        return device;
    }

    /** The device copy for kernels that WRITE it (and possibly read it first): the host copy becomes stale. */
    public synchronized DeviceBuffer deviceForWrite(boolean alsoRead) {
        if (alsoRead) deviceForRead();
        else {
            ensureDevice();
            releasedBy = null;    // fully overwritten: live again
        }
        deviceValid = true;
        hostValid = false;
        return device;
    }

    private void ensureDevice() {
        if (device == null) device = Cuda.context().alloc((long) Math.max(1, length) * dtype.bytes).bindTo(this);
    }

    // ---------------------------------------------------------------- host arrays (may be written)

    public synchronized float[] floats() { check(DType.F32); return (float[]) host(true); }
    public synchronized double[] doubles() { check(DType.F64); return (double[]) host(true); }
    public synchronized short[] halves() {
        if (dtype != DType.BF16 && dtype != DType.F16) throw new IllegalStateException("storage is " + dtype + ", not BF16/F16");
        return (short[]) host(true);
    }
    public synchronized long[] longs() { check(DType.I64); return (long[]) host(true); }
    public synchronized int[] ints() { check(DType.I32); return (int[]) host(true); }
    public synchronized byte[] bytes() {
        if (dtype != DType.BOOL && dtype != DType.U8) throw new IllegalStateException("storage is " + dtype + ", not BOOL/U8");
        return (byte[]) host(true);
    }

    /** Element i as a double, whatever the dtype (slow path for tests, printing and conversion). */
    public double get(int i) {
        Object d;
        synchronized (this) { d = host(false); }
        return switch (dtype) {
            case F32 -> ((float[]) d)[i];
            case F64 -> ((double[]) d)[i];
            case BF16 -> Float.intBitsToFloat((((short[]) d)[i] & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(((short[]) d)[i]);
            case I64 -> ((long[]) d)[i];
            case I32 -> ((int[]) d)[i];
            case U8 -> ((byte[]) d)[i] & 0xff;
            case BOOL -> ((byte[]) d)[i] != 0 ? 1 : 0;
        };
    }

    /** Sets element i from a double (rounds to the storage type; BF16 rounds to nearest even). */
    public void set(int i, double v) {
        Object d;
        synchronized (this) { d = host(true); }
        switch (dtype) {
            case F32 -> ((float[]) d)[i] = (float) v;
            case F64 -> ((double[]) d)[i] = v;
            case BF16 -> ((short[]) d)[i] = Half.f32ToBf16((float) v);
            case F16 -> ((short[]) d)[i] = Float.floatToFloat16((float) v);
            case I64 -> ((long[]) d)[i] = (long) v;
            case I32 -> ((int[]) d)[i] = (int) v;
            case U8 -> ((byte[]) d)[i] = (byte) (int) v;
            case BOOL -> ((byte[]) d)[i] = (byte) (v != 0 ? 1 : 0);
        }
    }

    private void check(DType want) {
        if (dtype != want) throw new IllegalStateException("storage is " + dtype + ", not " + want);
    }
}
