package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code layernorm.cu}: LayerNorm over the last dim of a contiguous {@code [rows, cols]} block
 * with {@link LayerNormKernels}' semantics (biased variance, {@code rstd = 1/sqrt(var + eps)}). One warp per
 * row for {@code cols ≤ 1536}, one block per row beyond. Deterministic (no atomics). Enqueue only.
 */
public final class LayerNormCuda {
    private LayerNormCuda() {}

    private static final String FAMILY = "layernorm";
    private static final int WARP_BLOCK = 128;
    /** Values per lane of the compiled warp kernels (cols ≤ 32·v). */
    private static final int[] VPL = {1, 2, 4, 8, 12, 16, 24, 32, 48};
    /** At most this many row chunks in the parameter-gradient reduction (bounds the partials' memory). */
    private static final int MAX_CHUNKS = 1024;
    private static final int MIN_ROWS_PER_CHUNK = 64;

    /**
     * {@code y = (x − mean)·rstd·gamma + beta}; writes {@code mean[rows]} and {@code rstd[rows]} (each
     * nullable to skip). {@code gamma}, {@code beta} nullable (= ones / zeros), length cols.
     */
    public static void forward(CudaContext c, int rows, int cols, CUdeviceptr x, CUdeviceptr gamma, CUdeviceptr beta, float eps,
                               CUdeviceptr y, CUdeviceptr mean, CUdeviceptr rstd) {
        check(rows, cols);
        notNull(x, "x"); notNull(y, "y");
        if (rows == 0) return;
        int vpl = valuesPerLane(cols);
        Object g = opt(gamma), b = opt(beta), m = opt(mean), r = opt(rstd);
        if (vpl > 0) {
            c.kernel(FAMILY, "layernorm_fwd_warp" + vpl).launch(warpGrid(rows), 1, 1, WARP_BLOCK, 1, 1, 0,
                    rows, cols, x, g, b, eps, y, m, r);
        } else {
            c.kernel(FAMILY, "layernorm_fwd_block").launch(rows, 1, 1, blockThreads(cols), 1, 1, 0, cols, x, g, b, eps, y, m, r);
        }
    }

    /**
     * Backward: {@code gx} WRITTEN; {@code gGamma += Σ_rows gy·xhat} and {@code gBeta += Σ_rows gy}
     * ACCUMULATED (as {@link LayerNormKernels#backward}; pass zeroed buffers for plain gradients), each
     * nullable = not wanted. {@code gamma} nullable (= ones); {@code mean}, {@code rstd} from the forward.
     * Scratch partials come from the stream-ordered allocator and are released after enqueue.
     */
    public static void backward(CudaContext c, int rows, int cols, CUdeviceptr x, CUdeviceptr gy, CUdeviceptr gamma,
                                CUdeviceptr mean, CUdeviceptr rstd, CUdeviceptr gx, CUdeviceptr gGamma, CUdeviceptr gBeta) {
        check(rows, cols);
        notNull(x, "x"); notNull(gy, "gy"); notNull(mean, "mean"); notNull(rstd, "rstd"); notNull(gx, "gx");
        if (rows == 0) return;
        int vpl = valuesPerLane(cols);
        if (vpl > 0) {
            c.kernel(FAMILY, "layernorm_bwd_warp" + vpl).launch(warpGrid(rows), 1, 1, WARP_BLOCK, 1, 1, 0,
                    rows, cols, x, gy, opt(gamma), mean, rstd, gx);
        } else {
            c.kernel(FAMILY, "layernorm_bwd_block").launch(rows, 1, 1, blockThreads(cols), 1, 1, 0,
                    cols, x, gy, opt(gamma), mean, rstd, gx);
        }
        if (gGamma == null && gBeta == null) return;
        int rowsPerChunk = Math.max(MIN_ROWS_PER_CHUNK, (int) ((rows + (long) MAX_CHUNKS - 1) / MAX_CHUNKS));
        int chunks = (int) ((rows + (long) rowsPerChunk - 1) / rowsPerChunk);
        long part = (long) chunks * cols * 4L;
        DeviceBuffer pG = gGamma != null ? c.alloc(part) : null, pB = gBeta != null ? c.alloc(part) : null;
        try {
            Object pg = pG == null ? new CUdeviceptr() : pG.ptr(), pb = pB == null ? new CUdeviceptr() : pB.ptr();
            c.kernel(FAMILY, "layernorm_param_partial").launch((cols + 31) / 32, chunks, 1, 32, 8, 1, 0,
                    rows, cols, rowsPerChunk, x, gy, mean, rstd, pg, pb);
            c.kernel(FAMILY, "layernorm_param_final").launch((cols + 255) / 256, 1, 1, 256, 1, 1, 0,
                    cols, chunks, pg, pb, opt(gGamma), opt(gBeta));
        } finally {
            if (pG != null) pG.release();
            if (pB != null) pB.release();
        }
    }

    static int valuesPerLane(int cols) {
        for (int v : VPL) if (cols <= 32 * v) return v;
        return 0;
    }

    private static int warpGrid(int rows) { return (int) ((rows + (long) (WARP_BLOCK / 32) - 1) / (WARP_BLOCK / 32)); }

    private static int blockThreads(int cols) { return cols >= 8192 ? 1024 : 256; }

    private static CUdeviceptr opt(CUdeviceptr p) { return p == null ? new CUdeviceptr() : p; }

    private static void check(int rows, int cols) {
        if (rows < 0) throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        if (cols < 1) throw new IllegalArgumentException("cols must be >= 1, got " + cols);
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
