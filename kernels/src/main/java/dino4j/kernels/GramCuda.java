package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code gram.cu}: the Gram anchoring loss with {@link GramKernels}' decomposition. For student
 * s and Gram teacher t [N, P, D] (contiguous), rows L2-normalised ({@code x / max(‖x‖, 1e-12)}):
 * <pre>
 *   E_n = Ŝ_n Ŝ_nᵀ − T̂_n T̂_nᵀ,   L = Σ_{n,i,j} E_ij² / (N·P²)
 *   ∂L/∂Ŝ = 4c·E·Ŝ,  ∂L/∂T̂ = −4c·E·T̂   (c = gLoss / (N·P²)), then the normalisation backward.
 * </pre>
 * The forward tiles E in 64×64 blocks over the upper triangle (E is symmetric; off-diagonal tiles count
 * twice) without storing it, and sums the per-tile partials in double in a fixed order. The backward
 * works on panels of H rows of every image: E[panel rows, all columns] goes to scratch (N·H·P floats,
 * H chosen so that this stays ≤ 64 MiB, i.e. never the whole P×P when P is large), then a GEMM writes
 * ∂L/∂Ŝ (and ∂L/∂T̂) for those rows, each output written once. FP32 FMA throughout; deterministic.
 * Enqueue only; scratch is released once the launches are enqueued (stream-ordered allocator).
 */
public final class GramCuda {
    private GramCuda() {}

    private static final String FAMILY = "gram";
    private static final int TILE = 64;
    /** Bound on the backward's E panel scratch, in floats (package-private so tests can force many panels). */
    static long panelFloats = 16L << 20;

    /**
     * Normalises s and t into sHat/sNorm and tHat/tNorm (kept for the backward: [N·P·D] and [N·P]) and
     * writes the loss to the device scalar {@code loss1}.
     */
    public static void forward(CudaContext c, CUdeviceptr s, CUdeviceptr t, int N, int P, int D,
                               CUdeviceptr sHat, CUdeviceptr sNorm, CUdeviceptr tHat, CUdeviceptr tNorm, CUdeviceptr loss1) {
        check(N, P, D);
        notNull(s, "s"); notNull(t, "t"); notNull(sHat, "sHat"); notNull(sNorm, "sNorm");
        notNull(tHat, "tHat"); notNull(tNorm, "tNorm"); notNull(loss1, "loss1");
        int rows = N * P;
        normalize(c, s, rows, D, sHat, sNorm);
        normalize(c, t, rows, D, tHat, tNorm);
        int T = (P + TILE - 1) / TILE;
        int count = N * T * T;
        DeviceBuffer partial = c.alloc(4L * count);
        try {
            c.kernel(FAMILY, "gram_loss_tiles").launch(T, T, N, 256, 1, 1, 0, sHat, tHat, P, D, partial.ptr());
            c.kernel(FAMILY, "gram_loss_finish").launch(1, 1, 1, 256, 1, 1, 0,
                    partial.ptr(), count, 1.0 / ((double) N * P * P), loss1);
        } finally {
            partial.release();
        }
    }

    /**
     * From the forward's saved state, writes ∂L/∂s into gS and, when {@code gT} is non-null, ∂L/∂t into gT
     * (both [N·P·D], overwritten) for an upstream gradient gLoss.
     */
    public static void backward(CudaContext c, float gLoss, CUdeviceptr sHat, CUdeviceptr sNorm, CUdeviceptr tHat, CUdeviceptr tNorm,
                                int N, int P, int D, CUdeviceptr gS, CUdeviceptr gT) {
        check(N, P, D);
        notNull(sHat, "sHat"); notNull(sNorm, "sNorm"); notNull(tHat, "tHat"); notNull(tNorm, "tNorm"); notNull(gS, "gS");
        float c4 = (float) (4.0 * gLoss / ((double) N * P * P));   // as GramKernels.lossBackward
        int H = panelRows(N, P);
        int T = (P + TILE - 1) / TILE, DT = (D + TILE - 1) / TILE;
        DeviceBuffer e = c.alloc(4L * N * H * P);
        try {
            for (int i0 = 0; i0 < P; i0 += H) {
                int h = Math.min(H, P - i0), HT = (h + TILE - 1) / TILE;
                c.kernel(FAMILY, "gram_e_panel").launch(T, HT, N, 256, 1, 1, 0, sHat, tHat, P, D, i0, h, H, e.ptr());
                if (gT == null)
                    c.kernel(FAMILY, "gram_bwd_gemm_s").launch(DT, HT, N, 256, 1, 1, 0, e.ptr(), P, D, i0, h, H, sHat, c4, gS);
                else
                    c.kernel(FAMILY, "gram_bwd_gemm_st").launch(DT, HT, N, 256, 1, 1, 0, e.ptr(), P, D, i0, h, H, sHat, tHat, c4, gS, gT);
            }
        } finally {
            e.release();
        }
        normalizeBackward(c, sHat, sNorm, N * P, D, gS);
        if (gT != null) normalizeBackward(c, tHat, tNorm, N * P, D, gT);
    }

    /** Rows per backward panel: a multiple of 64, at least 64, covering P when the scratch allows. */
    static int panelRows(int N, int P) {
        long tiles = Math.max(1, panelFloats / ((long) N * P * TILE));
        return (int) (TILE * Math.min((P + TILE - 1) / TILE, tiles));
    }

    private static void normalize(CudaContext c, CUdeviceptr x, int rows, int D, CUdeviceptr xhat, CUdeviceptr norms) {
        c.kernel(FAMILY, "gram_normalize").launch((rows + 7) / 8, 1, 1, 256, 1, 1, 0, x, rows, D, GramKernels.EPS, xhat, norms);
    }

    private static void normalizeBackward(CudaContext c, CUdeviceptr xhat, CUdeviceptr norms, int rows, int D, CUdeviceptr g) {
        c.kernel(FAMILY, "gram_normalize_bwd").launch((rows + 7) / 8, 1, 1, 256, 1, 1, 0, xhat, norms, rows, D, GramKernels.EPS, g);
    }

    private static void check(int N, int P, int D) {
        if (N <= 0 || N > 65535) throw new IllegalArgumentException("N must be in 1..65535, got " + N);
        if (P <= 0) throw new IllegalArgumentException("P must be > 0, got " + P);
        if (D <= 0) throw new IllegalArgumentException("D must be > 0, got " + D);
        if ((long) N * P > Integer.MAX_VALUE) throw new IllegalArgumentException("N·P must fit in an int, got " + N + "·" + P);
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
