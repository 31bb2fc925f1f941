package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code koleo.cu}: the KoLeo regulariser with {@link KoLeoKernels}' semantics over one group
 * of features x [N, D] (contiguous): {@code x̂ = x / max(‖x‖, 1e-8)}, {@code nn(i) = argmax_{j≠i} x̂_i·x̂_j}
 * (self scored −1, the first maximum wins), {@code d_i = ‖x̂_i − x̂_nn(i) + 1e-8‖},
 * {@code L = −mean log(d_i + 1e-8)}. The forward keeps x̂ [N·D], norms [N], nn [N] (int32) and d [N] for the
 * backward and writes the loss to a device scalar. The neighbour search is a tiled x̂x̂ᵀ (FP32, 64×64 tiles,
 * never stored) with per-range best candidates merged by (value, then lower index); the backward gathers
 * each row's terms in the CPU kernel's order (no atomics). Deterministic. Enqueue only; scratch is released
 * once the launches are enqueued (stream-ordered allocator).
 */
public final class KoLeoCuda {
    private KoLeoCuda() {}

    private static final String FAMILY = "koleo";
    private static final int TILE = 64;

    /** Fills xhat, norms, nn, dist (from 0) and writes the loss to {@code loss1}. */
    public static void forward(CudaContext c, CUdeviceptr x, int N, int D,
                               CUdeviceptr xhat, CUdeviceptr norms, CUdeviceptr nn, CUdeviceptr dist, CUdeviceptr loss1) {
        check(N, D);
        notNull(x, "x"); notNull(xhat, "xhat"); notNull(norms, "norms"); notNull(nn, "nn"); notNull(dist, "dist"); notNull(loss1, "loss1");
        c.kernel(FAMILY, "koleo_normalize").launch((N + 7) / 8, 1, 1, 256, 1, 1, 0, x, N, D, KoLeoKernels.EPS, xhat, norms);
        int IT = (N + TILE - 1) / TILE, JT = IT;
        // split the column tiles so that about two blocks per SM work; the result does not depend on it
        int splits = Math.max(1, Math.min(JT, (2 * c.multiprocessors() + IT - 1) / IT));
        int tilesPerSplit = (JT + splits - 1) / splits;
        splits = (JT + tilesPerSplit - 1) / tilesPerSplit;
        DeviceBuffer part = c.alloc(8L * splits * N);
        try {
            CUdeviceptr partV = part.ptr(), partJ = part.at(4L * splits * N);
            c.kernel(FAMILY, "koleo_nn_tiles").launch(IT, splits, 1, 256, 1, 1, 0, xhat, N, D, tilesPerSplit, partV, partJ);
            c.kernel(FAMILY, "koleo_nn_finish").launch((N + 7) / 8, 1, 1, 256, 1, 1, 0,
                    xhat, partV, partJ, splits, N, D, (float) KoLeoKernels.EPS, nn, dist);
        } finally {
            part.release();
        }
        c.kernel(FAMILY, "koleo_loss").launch(1, 1, 1, 256, 1, 1, 0, dist, N, KoLeoKernels.EPS, loss1);
    }

    /** ∂L/∂x into gx [N·D] (overwritten) from the forward's state, for an upstream gradient gLoss. */
    public static void backward(CudaContext c, float gLoss, CUdeviceptr xhat, CUdeviceptr norms, CUdeviceptr nn, CUdeviceptr dist,
                                int N, int D, CUdeviceptr gx) {
        check(N, D);
        notNull(xhat, "xhat"); notNull(norms, "norms"); notNull(nn, "nn"); notNull(dist, "dist"); notNull(gx, "gx");
        DeviceBuffer coef = c.alloc(4L * N);
        try {
            c.kernel(FAMILY, "koleo_coef").launch((N + 255) / 256, 1, 1, 256, 1, 1, 0, gLoss, dist, N, KoLeoKernels.EPS, coef.ptr());
            c.kernel(FAMILY, "koleo_bwd").launch(N, 1, 1, 128, 1, 1, 0, xhat, norms, nn, coef.ptr(), N, D, KoLeoKernels.EPS, gx);
        } finally {
            coef.release();
        }
    }

    private static void check(int N, int D) {
        if (N < 2) throw new IllegalArgumentException("N must be >= 2 (koleo needs at least 2 samples), got " + N);
        if (D <= 0) throw new IllegalArgumentException("D must be > 0, got " + D);
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
