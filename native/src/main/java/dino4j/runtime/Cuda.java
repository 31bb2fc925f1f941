package dino4j.runtime;

import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * Entry point to the GPU: one process-wide {@link CudaContext} on device 0, created on first use.
 * Anything that stops it (no JCuda native library for this platform, no {@code libcuda.so.1}, no device,
 * a jar built without {@code nvcc}, or {@code -Ddino4j.cuda=false}) leaves {@link #available()} false and
 * {@link #status()} saying why in one line; callers then stay on the CPU backend.
 */
public final class Cuda {
    private Cuda() {}

    private static boolean tried;
    private static CudaContext context;
    private static String status = "CUDA not initialised";

    /** True when a context exists and our compiled kernels are in the jar. Never throws. */
    public static synchronized boolean available() {
        if (!tried) {
            tried = true;
            init();
        }
        return context != null;
    }

    /** One line: the device in use, or why the CPU backend is used. */
    public static synchronized String status() {
        available();
        return status;
    }

    /** The context; throws with {@link #status()} as the message when there is none. */
    public static CudaContext context() {
        if (!available()) throw new IllegalStateException(status);
        return context;
    }

    private static void init() {
        String off = System.getProperty("dino4j.cuda", System.getenv().getOrDefault("DINO4J_CUDA", "auto"));
        if (off.equalsIgnoreCase("false") || off.equals("0") || off.equalsIgnoreCase("off")) {
            status = "CUDA disabled by -Ddino4j.cuda=" + off + "; using the CPU backend";
            return;
        }
        if (!CudaModules.kernelsPresent()) {
            status = "CUDA unavailable: this build has no compiled GPU kernels (nvcc was not found when it was built); using the CPU backend";
            return;
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            int[] n = new int[1];
            JCudaDriver.cuDeviceGetCount(n);
            if (n[0] == 0) {
                status = "CUDA unavailable: the driver reports no GPU; using the CPU backend";
                return;
            }
            CUdevice dev = new CUdevice();
            JCudaDriver.cuDeviceGet(dev, 0);
            context = new CudaContext(dev);
            status = "CUDA: " + context.describe();
        } catch (UnsatisfiedLinkError e) {
            status = "CUDA unavailable: " + firstLine(e) + " (no NVIDIA driver library or no JCuda natives for "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + "); using the CPU backend";
        } catch (Throwable e) {
            status = "CUDA unavailable: " + e.getClass().getSimpleName() + ": " + firstLine(e) + "; using the CPU backend";
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
