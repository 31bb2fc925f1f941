package dino4j.runtime;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

/**
 * A kernel handle. {@link #launch} takes the kernel's arguments in order as Java values: a
 * {@link CUdeviceptr} or {@link DeviceBuffer} for pointers, Integer, Long, Float or Double for scalars
 * (they must match the C parameter types exactly), and an int[] or float[] for a by-value struct of that
 * many ints or floats (e.g. {@code struct Dims { int d[8]; }}: pass exactly 8 ints). With {@code -Ddino4j.cuda.sync=true} every launch is
 * followed by a synchronise, so an asynchronous fault is reported at the kernel that caused it.
 */
public final class CudaKernel {
    private static final boolean SYNC = Boolean.getBoolean("dino4j.cuda.sync");
    private final CudaContext ctx;
    private final String name;
    private final CUfunction fn;
    private int dynamicSmemLimit = 48 * 1024;

    CudaKernel(CudaContext ctx, String name, CUfunction fn) {
        this.ctx = ctx;
        this.name = name;
        this.fn = fn;
    }

    public String name() { return name; }

    public int attribute(int a) {
        int[] v = new int[1];
        JCudaDriver.cuFuncGetAttribute(v, a, fn);
        return v[0];
    }

    public int registers() { return attribute(CUfunction_attribute.CU_FUNC_ATTRIBUTE_NUM_REGS); }

    /** Raises the dynamic shared-memory limit (needed above 48 KiB). */
    public synchronized CudaKernel dynamicSharedMemory(int bytes) {
        if (bytes > dynamicSmemLimit) {
            ctx.makeCurrent();
            JCudaDriver.cuFuncSetAttribute(fn, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
            dynamicSmemLimit = bytes;
        }
        return this;
    }

    /** 1-D launch covering {@code n} threads with blocks of {@code block}. */
    public void launch1d(long n, int block, Object... args) {
        long grid = Math.max(1, (n + block - 1) / block);
        if (grid > Integer.MAX_VALUE) throw new IllegalArgumentException(name + ": grid too large for " + n + " threads");
        launch((int) grid, 1, 1, block, 1, 1, 0, args);
    }

    public void launch(int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, Object... args) {
        if (sharedBytes > 48 * 1024) dynamicSharedMemory(sharedBytes);
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) ps[i] = pointerTo(args[i], i);
        ctx.makeCurrent();
        try {
            JCudaDriver.cuLaunchKernel(fn, gx, gy, gz, bx, by, bz, sharedBytes, ctx.stream(), Pointer.to(ps), null);
            if (SYNC) JCudaDriver.cuStreamSynchronize(ctx.stream());
        } catch (RuntimeException e) {
            throw new IllegalStateException("CUDA kernel " + name + " <<<(" + gx + "," + gy + "," + gz + "),(" + bx + "," + by + "," + bz
                    + ")," + sharedBytes + ">>> failed: " + e.getMessage(), e);
        }
    }

    private Pointer pointerTo(Object a, int i) {
        return switch (a) {
            case CUdeviceptr p -> Pointer.to(p);
            case DeviceBuffer b -> Pointer.to(b.ptr());
            case Integer v -> Pointer.to(new int[]{v});
            case Long v -> Pointer.to(new long[]{v});
            case Float v -> Pointer.to(new float[]{v});
            case Double v -> Pointer.to(new double[]{v});
            case int[] v -> Pointer.to(v);      // a by-value struct of ints, e.g. struct { int n[8]; }
            case float[] v -> Pointer.to(v);    // a by-value struct of floats
            case NativePointerObject p -> Pointer.to(p);
            case null -> throw new IllegalArgumentException(name + ": argument " + i + " is null (pass a zero CUdeviceptr for an absent pointer)");
            default -> throw new IllegalArgumentException(name + ": argument " + i + " has unsupported type " + a.getClass().getSimpleName());
        };
    }
}
