package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code residual.cu}: the fused LayerScale residual {@code out = x + y ⊙ γ} over rows of width
 * {@code cols} and its backward, with {@link ResidualKernels}' semantics and rounding (bit-identical results;
 * deterministic γ reduction). {@code gx = g} needs no kernel. Enqueue only.
 */
public final class ResidualCuda {
    private ResidualCuda() {}

    private static final String FAMILY = "residual";
    private static final int BLOCK = 256;
    /** Rows per γ-gradient partial: must equal ResidualKernels.ROW_GRAIN and RESIDUAL_ROW_GRAIN in residual.cu. */
    private static final int ROW_GRAIN = 64;

    /** {@code out[r, c] = fma(y[r, c], gamma[c], x[r, c])}; in place ({@code out == x}) allowed. */
    public static void forward(CudaContext c, int rows, int cols, CUdeviceptr x, CUdeviceptr y, CUdeviceptr gamma, CUdeviceptr out) {
        check(rows, cols);
        notNull(x, "x"); notNull(y, "y"); notNull(gamma, "gamma"); notNull(out, "out");
        long n = (long) rows * cols;
        if (n == 0) return;
        long need = (n + BLOCK - 1) / BLOCK;
        int grid = (int) Math.max(1, Math.min(need, (long) c.multiprocessors() * 16));
        c.kernel(FAMILY, "residual_fwd").launch(grid, 1, 1, BLOCK, 1, 1, 0, n, cols, x, y, gamma, out);
    }

    /**
     * Backward of {@link #forward} given the output gradient {@code g}: {@code gy = g ⊙ γ} WRITTEN (nullable to
     * skip), {@code gGamma += Σ_rows g ⊙ y} ACCUMULATED (nullable to skip), as {@link ResidualKernels#backward}.
     * Scratch partials come from the stream-ordered allocator and are released after enqueue.
     */
    public static void backward(CudaContext c, int rows, int cols, CUdeviceptr g, CUdeviceptr y, CUdeviceptr gamma,
                                CUdeviceptr gy, CUdeviceptr gGamma) {
        check(rows, cols);
        notNull(g, "g"); notNull(y, "y"); notNull(gamma, "gamma");
        if ((long) rows * cols == 0 || (gy == null && gGamma == null)) return;
        int tasks = (rows + ROW_GRAIN - 1) / ROW_GRAIN;
        long threads = (long) tasks * cols;
        long grid = (threads + BLOCK - 1) / BLOCK;
        if (grid > Integer.MAX_VALUE) throw new IllegalArgumentException("rows·cols too large: " + rows + "·" + cols);
        DeviceBuffer partial = gGamma != null ? c.alloc(threads * 4L) : null;
        try {
            CUdeviceptr p = partial == null ? new CUdeviceptr() : partial.ptr();
            c.kernel(FAMILY, "residual_bwd_partial").launch((int) grid, 1, 1, BLOCK, 1, 1, 0,
                    rows, cols, g, y, gamma, gy == null ? new CUdeviceptr() : gy, p);
            if (gGamma != null)
                c.kernel(FAMILY, "residual_bwd_final").launch((cols + BLOCK - 1) / BLOCK, 1, 1, BLOCK, 1, 1, 0, cols, tasks, p, gGamma);
        } finally {
            if (partial != null) partial.release();
        }
    }

    private static void check(int rows, int cols) {
        if (rows < 0) throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        if (cols < 0) throw new IllegalArgumentException("cols must be >= 0, got " + cols);
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
