package dino4j.kernels;

import dino4j.runtime.CudaContext;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code softmax.cu}: softmax / log-softmax over the last dim of a contiguous
 * {@code [rows, cols]} block and their backward passes, with {@link SoftmaxKernels}' semantics. One warp
 * per row (row in registers) for {@code cols ≤ 1024}, one block per row beyond. Deterministic; in place
 * ({@code x == y}, {@code gy == gx}) allowed. Enqueue only.
 */
public final class SoftmaxCuda {
    private SoftmaxCuda() {}

    private static final String FAMILY = "softmax";
    /** Rows per 128-thread block on the warp path. */
    private static final int WARP_BLOCK = 128;

    /** {@code y = softmax(x)} or {@code log_softmax(x)} per row. */
    public static void softmax(CudaContext c, boolean log, int rows, int cols, CUdeviceptr x, CUdeviceptr y) {
        check(rows, cols);
        notNull(x, "x"); notNull(y, "y");
        if (rows == 0 || cols == 0) return;
        int vpl = valuesPerLane(cols);
        if (vpl > 0) {
            c.kernel(FAMILY, "softmax_fwd_warp" + vpl).launch(warpGrid(rows), 1, 1, WARP_BLOCK, 1, 1, 0,
                    rows, cols, x, y, log ? 1 : 0);
        } else {
            c.kernel(FAMILY, "softmax_fwd_block").launch(rows, 1, 1, blockThreads(cols), 1, 1, 0, cols, x, y, log ? 1 : 0);
        }
    }

    /**
     * Backward from the forward output {@code y}: softmax {@code gx = y ∘ (gy − Σ gy∘y)}, log-softmax
     * {@code gx = gy − exp(y)·Σ gy} (gx written).
     */
    public static void softmaxBackward(CudaContext c, boolean log, int rows, int cols, CUdeviceptr y, CUdeviceptr gy, CUdeviceptr gx) {
        check(rows, cols);
        notNull(y, "y"); notNull(gy, "gy"); notNull(gx, "gx");
        if (rows == 0 || cols == 0) return;
        int vpl = valuesPerLane(cols);
        if (vpl > 0) {
            c.kernel(FAMILY, "softmax_bwd_warp" + vpl).launch(warpGrid(rows), 1, 1, WARP_BLOCK, 1, 1, 0,
                    rows, cols, y, gy, gx, log ? 1 : 0);
        } else {
            c.kernel(FAMILY, "softmax_bwd_block").launch(rows, 1, 1, blockThreads(cols), 1, 1, 0, cols, y, gy, gx, log ? 1 : 0);
        }
    }

    /** Values per lane of the warp kernel (a compiled power of two), or 0 for the block-per-row path. */
    static int valuesPerLane(int cols) {
        if (cols > 1024) return 0;
        int need = (cols + 31) / 32, v = 1;
        while (v < need) v <<= 1;
        return v;
    }

    private static int warpGrid(int rows) { return (int) ((rows + (long) (WARP_BLOCK / 32) - 1) / (WARP_BLOCK / 32)); }

    private static int blockThreads(int cols) { return cols >= 8192 ? 1024 : 256; }

    private static void check(int rows, int cols) {
        if (rows < 0) throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        if (cols < 0) throw new IllegalArgumentException("cols must be >= 0, got " + cols);
    }

    static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
