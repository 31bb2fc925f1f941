package dino4j.kernels;

import dino4j.runtime.Cuda;
import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import org.junit.jupiter.api.Assumptions;

/**
 * Helpers of the GPU conformance tests (tagged {@code gpu}): they skip themselves, saying why, where no
 * CUDA device or no compiled kernels exist. Outputs are poisoned (all bits set = NaN) before each launch,
 * so an element the kernel forgot to write fails the comparison.
 */
final class CudaTestSupport {
    private CudaTestSupport() {}

    static CudaContext gpu() {
        Assumptions.assumeTrue(Cuda.available(), Cuda.status());
        return Cuda.context();
    }

    static DeviceBuffer upload(CudaContext c, float[] a) {
        DeviceBuffer b = c.alloc(4L * Math.max(1, a.length));
        c.staging().upload(b.ptr(), a, 0, a.length, "test input");
        return b;
    }

    static DeviceBuffer upload(CudaContext c, int[] a) {
        DeviceBuffer b = c.alloc(4L * Math.max(1, a.length));
        c.staging().upload(b.ptr(), a, 0, a.length, "test input");
        return b;
    }

    static DeviceBuffer upload(CudaContext c, short[] a) {
        DeviceBuffer b = c.alloc(2L * Math.max(1, a.length));
        c.staging().upload(b.ptr(), a, 0, a.length, "test input");
        return b;
    }

    /** An output buffer of n floats filled with NaN bit patterns. */
    static DeviceBuffer poisoned(CudaContext c, long n) {
        DeviceBuffer b = c.alloc(4L * Math.max(1, n));
        c.memset(b.ptr(), 0xFF, 4L * n);
        return b;
    }

    static float[] download(CudaContext c, DeviceBuffer b, int n) {
        c.synchronize();
        float[] a = new float[n];
        c.staging().download(b.ptr(), a, 0, n, "test output");
        return a;
    }

    static int[] downloadInts(CudaContext c, DeviceBuffer b, int n) {
        c.synchronize();
        int[] a = new int[n];
        c.staging().download(b.ptr(), a, 0, n, "test output");
        return a;
    }
}
