package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launcher of {@code sinkhorn.cu}: Sinkhorn-Knopp teacher targets with {@link SinkhornKernels#sinkhorn}'s
 * semantics (temperature, Btot, iterations; rows of the result sum to 1 for iters ≥ 1).
 *
 * <p>Q is kept factored as {@code u[b]·exp(x[b,k]/τ − m[k])·v[k]} (m = column max: overflow-safe, and
 * cancelled exactly by the first column normalisation), so nothing but per-row / per-column scales is
 * stored between steps: 2·iters + 1 reads of the logits and one write of Q. Column sums are per-row-chunk
 * partials combined in chunk order and row sums use fixed block trees, so results are bit-identical from
 * run to run (the chunking depends on B and K only). Scratch comes from the context's stream-ordered
 * allocator and is released once the launches are enqueued. {@code out} may be {@code logits} itself.
 */
public final class SinkhornCuda {
    private SinkhornCuda() {}

    private static final String FAMILY = "sinkhorn";
    /** Threads of the column kernels (one column each). */
    private static final int COL_THREADS = 256;
    /** Target number of column-kernel blocks when choosing the row chunks (device independent). */
    private static final int COL_BLOCKS = 1024;

    /** {@link #sinkhorn(CudaContext, CUdeviceptr, CUdeviceptr, int, int, float, int, int)} with Btot = B and 3 iterations. */
    public static void sinkhorn(CudaContext c, CUdeviceptr logits, CUdeviceptr out, int B, int K, float temp) {
        sinkhorn(c, logits, out, B, K, temp, B, SinkhornKernels.DEFAULT_ITERS);
    }

    /**
     * Targets [B, K] from teacher logits [B, K] (row-major, sample-major).
     *
     * @param btot  total number of samples across processes (B in a single process); for iters ≥ 1 it
     *              cancels out in a single process (rows are normalised last), for iters = 0 it scales Q
     * @param iters Sinkhorn iterations (≥ 0; DINOv3 uses 3)
     */
    public static void sinkhorn(CudaContext c, CUdeviceptr logits, CUdeviceptr out, int B, int K, float temp, int btot, int iters) {
        if (logits == null) throw new IllegalArgumentException("logits must not be null");
        if (out == null) throw new IllegalArgumentException("out must not be null");
        if (B <= 0) throw new IllegalArgumentException("B must be > 0, got " + B);
        if (K <= 0) throw new IllegalArgumentException("K must be > 0, got " + K);
        if (!(temp > 0) || Float.isInfinite(temp)) throw new IllegalArgumentException("temp must be finite and > 0, got " + temp);
        if (btot <= 0) throw new IllegalArgumentException("btot must be > 0, got " + btot);
        if (iters < 0) throw new IllegalArgumentException("iters must be >= 0, got " + iters);

        final float invT = 1f / temp, kInv = 1f / K, btotInv = (float) (1.0 / btot);
        int colTiles = (K + COL_THREADS - 1) / COL_THREADS;
        int chunks = Math.min(B, Math.max(1, (COL_BLOCKS + colTiles - 1) / colTiles));
        int rowsPerChunk = (B + chunks - 1) / chunks;
        chunks = (B + rowsPerChunk - 1) / rowsPerChunk;   // no empty chunk
        int rowThreads = rowThreads(K);

        long partBytes = 8L * chunks * K, mvBytes = 8L * K;
        DeviceBuffer scratch = c.alloc(partBytes + mvBytes + 4L * B);
        CUdeviceptr part = scratch.ptr(), mv = scratch.at(partBytes), u = scratch.at(partBytes + mvBytes);
        try {
            c.kernel(FAMILY, "sinkhorn_col_lse").launch(colTiles, chunks, 1, COL_THREADS, 1, 1, 0,
                    logits, B, K, invT, rowsPerChunk, part);
            c.kernel(FAMILY, "sinkhorn_col_lse_finish").launch(colTiles, 1, 1, COL_THREADS, 1, 1, 0,
                    part, chunks, K, kInv, iters == 0 ? 1 : 0, mv);
            if (iters == 0) {
                c.kernel(FAMILY, "sinkhorn_total").launch(1, 1, 1, 1024, 1, 1, 0, mv, K, (float) btot);
                c.kernel(FAMILY, "sinkhorn_final").launch(B, 1, 1, rowThreads, 1, 1, 0, logits, out, K, invT, mv, 0);
                return;
            }
            for (int it = 1; it < iters; it++) {   // the row step of this iteration, the column step of the next
                c.kernel(FAMILY, "sinkhorn_row_scale").launch(B, 1, 1, rowThreads, 1, 1, 0, logits, K, invT, mv, btotInv, u);
                c.kernel(FAMILY, "sinkhorn_col_scale").launch(colTiles, chunks, 1, COL_THREADS, 1, 1, 0,
                        logits, B, K, invT, mv, u, rowsPerChunk, part);
                c.kernel(FAMILY, "sinkhorn_col_finish").launch(colTiles, 1, 1, COL_THREADS, 1, 1, 0, part, chunks, K, kInv, mv);
            }
            c.kernel(FAMILY, "sinkhorn_final").launch(B, 1, 1, rowThreads, 1, 1, 0, logits, out, K, invT, mv, 1);
        } finally {
            scratch.release();   // stream-ordered allocator: safe once the launches are enqueued
        }
    }

    /** Threads of the row kernels (one block per row). */
    static int rowThreads(int K) {
        return K >= 16384 ? 1024 : K >= 4096 ? 512 : K >= 1024 ? 256 : 128;
    }
}
