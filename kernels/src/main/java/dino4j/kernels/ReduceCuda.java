package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of the {@code reduce} CUDA family (kernels/src/main/cuda/reduce.cu): sum / mean / max over the
 * middle axis of a contiguous {@code [outer, len, inner]} float32 tensor, argmax (int64 indices), and the
 * whole-array Σx and Σx². Same semantics as {@link ReduceKernels}. Enqueue only.
 *
 * <p>Deterministic: launch shapes, split counts and block counts depend on the sizes alone (not on the
 * device), every sum is taken in a fixed order (double accumulators, fixed trees), and no atomics are used,
 * so the same input gives the same bits on every run. Split reductions borrow a scratch buffer from the
 * context's allocator and hand it back right after enqueueing (the single stream orders its reuse).
 */
public final class ReduceCuda {
    private ReduceCuda() {}

    static final String FAMILY = "reduce";
    /** Rows up to this length get one warp each; longer rows get blocks. */
    private static final int WARP_ROW_MAX = 1024;
    /** Blocks a split reduction aims for: a constant, so results do not depend on the device. */
    private static final int TARGET_BLOCKS = 512;
    private static final int ROW_BLOCK = 256;
    /** Whole-array reductions: partial blocks = ceil(n / SUM_ALL_PER_BLOCK), at most SUM_ALL_MAX_BLOCKS. */
    private static final int SUM_ALL_PER_BLOCK = 4096, SUM_ALL_MAX_BLOCKS = 1024;

    /**
     * {@code out[o, i] = reduce_a x[o, a, i]} for kind "sum", "mean" or "max"; x contiguous
     * [outer, len, inner], out contiguous [outer, inner]. len == 0 gives 0 (sum), NaN (mean), −∞ (max).
     */
    public static void reduce(CudaContext c, String kind, int outer, int len, int inner, CUdeviceptr x, CUdeviceptr out) {
        if (kind == null || !(kind.equals("sum") || kind.equals("mean") || kind.equals("max")))
            throw new IllegalArgumentException("kind must be \"sum\", \"mean\" or \"max\", got " + kind);
        checkSizes(outer, len, inner);
        ElementwiseCuda.nonNull("x", x);
        ElementwiseCuda.nonNull("out", out);
        if ((long) outer * inner == 0) return;
        if ((long) outer * inner > Integer.MAX_VALUE)
            throw new IllegalArgumentException("outer·inner = " + (long) outer * inner + " outputs; at most 2^31-1");
        if (inner == 1) {
            if (len <= WARP_ROW_MAX) {
                c.kernel(FAMILY, "reduce_rows_warp_" + kind)
                        .launch(warpRowBlocks(c, outer), 1, 1, 256, 1, 1, 0, outer, len, x, out);
                return;
            }
            // Blocks per row; few rows → split each row so ~TARGET_BLOCKS blocks run (≥ 4096 elements per block).
            int splits = outer >= TARGET_BLOCKS ? 1 : (int) Math.min(ceilDiv(TARGET_BLOCKS, outer), ceilDiv(len, 4096));
            int[] sc = splitChunk(len, splits);
            launchSplit(c, "reduce_rows_block_" + kind, kind, outer, len, sc[0], outer, ROW_BLOCK, 1,
                    outer, len, sc[0], sc[1], x, out);
            return;
        }
        int tilesC = (inner + 31) / 32;
        long base = (long) outer * tilesC;
        // Few column tiles → split the axis too (≥ 256 rows per split: 32 per row-lane).
        int splits = base >= TARGET_BLOCKS ? 1 : (int) Math.min(ceilDiv(TARGET_BLOCKS, base), ceilDiv(len, 256));
        int[] sc = splitChunk(len, splits);
        launchSplit(c, "reduce_cols_" + kind, kind, (long) outer * inner, len, sc[0], (int) base, 32, 8,
                outer, len, inner, tilesC, sc[0], sc[1], x, out);
    }

    /**
     * Launches a split-capable kernel on grid (gx, splits), appending the partial buffer (8 bytes per output
     * and split; a zero pointer when splits == 1) to {@code args}, whose last entry is {@code out}; with more
     * than one split, reduce_finish_* then combines the partials of the m outputs in split order.
     */
    private static void launchSplit(CudaContext c, String kernel, String kind, long m, int len, int splits, int gx, int bx, int by,
                                    Object... args) {
        DeviceBuffer partial = splits > 1 ? c.alloc(8L * splits * m) : null;
        try {
            Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
            all[args.length] = partial != null ? partial.ptr() : new CUdeviceptr();
            c.kernel(FAMILY, kernel).launch(gx, splits, 1, bx, by, 1, 0, all);
            if (partial != null) {
                int out = args.length - 1;
                c.kernel(FAMILY, "reduce_finish_" + kind)
                        .launch(ElementwiseCuda.grid(c, m), 1, 1, 256, 1, 1, 0, m, splits, len, partial.ptr(), args[out]);
            }
        } finally {
            if (partial != null) partial.release();   // stream order makes the reuse safe
        }
    }

    /**
     * {@code idx[o, i] = first a maximising x[o, a, i]} (a NaN counts as the maximum; len == 0 gives 0),
     * written as int64 to {@code outI64} [outer, inner].
     */
    public static void argmax(CudaContext c, int outer, int len, int inner, CUdeviceptr x, CUdeviceptr outI64) {
        checkSizes(outer, len, inner);
        ElementwiseCuda.nonNull("x", x);
        ElementwiseCuda.nonNull("outI64", outI64);
        if ((long) outer * inner == 0) return;
        if ((long) outer * inner > Integer.MAX_VALUE)
            throw new IllegalArgumentException("outer·inner = " + (long) outer * inner + " outputs; at most 2^31-1");
        if (inner == 1) {
            c.kernel(FAMILY, "reduce_argmax_rows").launch(warpRowBlocks(c, outer), 1, 1, 256, 1, 1, 0, outer, len, x, outI64);
            return;
        }
        int tilesC = (inner + 31) / 32;
        c.kernel(FAMILY, "reduce_argmax_cols")
                .launch((int) ((long) outer * tilesC), 1, 1, 32, 8, 1, 0, outer, len, inner, tilesC, x, outI64);
    }

    /** {@code out1[0] = (float) Σ x[0..n)}: double accumulation, two passes, deterministic. */
    public static void sumAll(CudaContext c, long n, CUdeviceptr x, CUdeviceptr out1) {
        wholeArray(c, "reduce_sum_all_partial", n, x, out1);
    }

    /** {@code out1[0] = (float) Σ x²} (gradient-norm clipping): as {@link #sumAll}. */
    public static void sumSquares(CudaContext c, long n, CUdeviceptr x, CUdeviceptr out1) {
        wholeArray(c, "reduce_sum_squares_partial", n, x, out1);
    }

    private static void wholeArray(CudaContext c, String pass1, long n, CUdeviceptr x, CUdeviceptr out1) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        ElementwiseCuda.nonNull("x", x);
        ElementwiseCuda.nonNull("out1", out1);
        int nb = (int) Math.max(1, Math.min(SUM_ALL_MAX_BLOCKS, ceilDiv(n, SUM_ALL_PER_BLOCK)));
        DeviceBuffer partial = c.alloc(8L * nb);
        try {
            c.kernel(FAMILY, pass1).launch(nb, 1, 1, 256, 1, 1, 0, n, x, partial.ptr());
            c.kernel(FAMILY, "reduce_sum_all_final").launch(1, 1, 1, 1024, 1, 1, 0, nb, partial.ptr(), out1);
        } finally {
            partial.release();   // stream order makes the reuse safe
        }
    }

    // ------------------------------------------------------------------------------------ helpers

    /** {splits, chunk}: chunk = ceil(len / splits) rounded up to 4 (float4-aligned splits), splits re-derived from it. */
    static int[] splitChunk(int len, int splits) {
        splits = Math.max(1, Math.min(65535, splits));
        if (len == 0) return new int[]{1, 0};
        long chunk = (ceilDiv(len, splits) + 3) / 4 * 4;
        int s = (int) ceilDiv(len, chunk);
        return new int[]{s, (int) chunk};
    }

    private static int warpRowBlocks(CudaContext c, int outer) {
        return (int) Math.max(1, Math.min(ceilDiv(outer, 8), ElementwiseCuda.maxBlocks(c)));
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    private static void checkSizes(int outer, int len, int inner) {
        if (outer < 0) throw new IllegalArgumentException("outer must be >= 0, got " + outer);
        if (len < 0) throw new IllegalArgumentException("len must be >= 0, got " + len);
        if (inner < 0) throw new IllegalArgumentException("inner must be >= 0, got " + inner);
    }
}
