package dino4j.runtime;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Map;

/**
 * The one CUDA context this process owns (the device's primary context), its compute stream, the caching
 * allocator, pinned staging buffers for transfers, and loaded modules with kernel handles cached by name.
 * All work goes to one stream, so stream order alone makes buffer reuse safe. Every public entry point
 * makes the context current on the calling thread first.
 */
public final class CudaContext {
    private final CUdevice device;
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final String name;
    private final int ccMajor, ccMinor, smCount, maxSmemOptin, driverVersion;
    private final long totalMemory;
    private final CachingAllocator allocator;
    private final PinnedStaging staging;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CudaKernel> kernels = new HashMap<>();

    CudaContext(CUdevice device) {
        this.device = device;
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        byte[] nm = new byte[256];
        JCudaDriver.cuDeviceGetName(nm, nm.length, device);
        int len = 0;
        while (len < nm.length && nm[len] != 0) len++;
        name = new String(nm, 0, len);
        ccMajor = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ccMinor = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        smCount = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        maxSmemOptin = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        long[] mem = new long[1];
        JCudaDriver.cuDeviceTotalMem(mem, device);
        totalMemory = mem[0];
        int[] v = new int[1];
        JCudaDriver.cuDriverGetVersion(v);
        driverVersion = v[0];
        allocator = new CachingAllocator(this, totalMemory);
        staging = new PinnedStaging(this);
    }

    private int attr(int a) {
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, a, device);
        return v[0];
    }

    public void makeCurrent() { JCudaDriver.cuCtxSetCurrent(context); }

    public String name() { return name; }
    public int computeCapability() { return ccMajor * 10 + ccMinor; }
    public int multiprocessors() { return smCount; }
    public int maxSharedMemoryPerBlockOptin() { return maxSmemOptin; }
    public long totalMemory() { return totalMemory; }
    /** CUDA version the driver supports, e.g. 13000 for 13.0. */
    public int driverVersion() { return driverVersion; }
    public CUstream stream() { return stream; }
    public CachingAllocator allocator() { return allocator; }
    public PinnedStaging staging() { return staging; }

    public String describe() {
        return String.format("%s, sm_%d%d, %d SMs, %.1f GiB, driver CUDA %d.%d", name, ccMajor, ccMinor, smCount,
                totalMemory / (1024.0 * 1024 * 1024), driverVersion / 1000, (driverVersion % 1000) / 10);
    }

    /** A device buffer of at least {@code bytes} bytes (uninitialised), from the caching allocator. */
    public DeviceBuffer alloc(long bytes) {
        makeCurrent();
        return allocator.alloc(bytes);
    }

    /** The named kernel of a family's module, loaded on first use and cached. */
    public synchronized CudaKernel kernel(String family, String function) {
        String key = family + "/" + function;
        CudaKernel k = kernels.get(key);
        if (k != null) return k;
        makeCurrent();
        CUmodule m = modules.get(family);
        if (m == null) {
            m = new CUmodule();
            JCudaDriver.cuModuleLoadData(m, CudaModules.fatbin(family));
            modules.put(family, m);
        }
        CUfunction f = new CUfunction();
        try {
            JCudaDriver.cuModuleGetFunction(f, m, function);
        } catch (RuntimeException e) {
            throw new IllegalStateException("kernel " + function + " not found in CUDA module " + family
                    + " (extern \"C\" missing, or a typo?): " + e.getMessage(), e);
        }
        k = new CudaKernel(this, key, f);
        kernels.put(key, k);
        return k;
    }

    /** Blocks until all work queued on the compute stream is done (and surfaces asynchronous errors). */
    public void synchronize() {
        makeCurrent();
        JCudaDriver.cuStreamSynchronize(stream);
    }

    /** Asynchronous device-to-device copy on the compute stream. */
    public void copy(CUdeviceptr dst, CUdeviceptr src, long bytes) {
        if (bytes == 0) return;
        makeCurrent();
        JCudaDriver.cuMemcpyDtoDAsync(dst, src, bytes, stream);
    }

    /** Asynchronous byte fill (e.g. 0 for zeros, 0xFF to poison outputs in tests). */
    public void memset(CUdeviceptr dst, int byteValue, long bytes) {
        if (bytes == 0) return;
        makeCurrent();
        JCudaDriver.cuMemsetD8Async(dst, (byte) byteValue, bytes, stream);
    }

    /** Milliseconds the given work takes on the stream, timed with events (the work must enqueue only). */
    public float time(Runnable work) {
        makeCurrent();
        CUevent a = new CUevent(), b = new CUevent();
        JCudaDriver.cuEventCreate(a, 0);
        JCudaDriver.cuEventCreate(b, 0);
        try {
            JCudaDriver.cuEventRecord(a, stream);
            work.run();
            JCudaDriver.cuEventRecord(b, stream);
            JCudaDriver.cuEventSynchronize(b);
            float[] ms = new float[1];
            JCudaDriver.cuEventElapsedTime(ms, a, b);
            return ms[0];
        } finally {
            JCudaDriver.cuEventDestroy(a);
            JCudaDriver.cuEventDestroy(b);
        }
    }

    /** Raw host pointer helper for callers that pass small host structs. */
    static Pointer host(int[] v) { return Pointer.to(v); }
}
