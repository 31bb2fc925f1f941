package dino4j.runtime;

import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.cudaStream_t;

/**
 * cuBLAS through JCublas, used only where it loads: JCublas 12.6 binds {@code libcublas.so.12}, which
 * machines with only CUDA 13 libraries lack. {@link #available()} never throws; {@link #status()} says why.
 */
public final class Cublas {
    private Cublas() {}

    private static boolean tried;
    private static cublasHandle handle;
    private static String status = "cuBLAS not initialised";

    public static synchronized boolean available() {
        if (!tried) {
            tried = true;
            if (!Cuda.available()) {
                status = "cuBLAS unavailable: " + Cuda.status();
                return false;
            }
            try {
                CudaContext ctx = Cuda.context();
                ctx.makeCurrent();
                JCublas2.setExceptionsEnabled(true);
                cublasHandle h = new cublasHandle();
                JCublas2.cublasCreate(h);
                JCublas2.cublasSetStream(h, new cudaStream_t(ctx.stream()));
                int[] v = new int[1];
                JCublas2.cublasGetVersion(h, v);
                handle = h;
                status = "cuBLAS " + v[0] + " (JCublas 12.6)";
            } catch (Throwable e) {
                String m = String.valueOf(e.getMessage());
                status = "cuBLAS unavailable: " + e.getClass().getSimpleName() + ": " + (m.contains("\n") ? m.substring(0, m.indexOf('\n')) : m);
            }
        }
        return handle != null;
    }

    public static synchronized String status() {
        available();
        return status;
    }

    public static cublasHandle handle() {
        if (!available()) throw new IllegalStateException(status);
        return handle;
    }
}
