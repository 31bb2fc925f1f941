package dino4j.kernels;

import dino4j.runtime.CudaContext;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code crossentropy.cu}: the soft-target cross-entropy of the DINO / iBOT heads, per row
 * of student logits s [R, K] and targets t [R, K] (probabilities, possibly weighted: Σ_k t need not be 1):
 * <pre>
 *   loss_r      = −Σ_k t_rk · log_softmax(s_r · invTemp)_k
 *   ∂loss_r/∂s  = invTemp · (softmax(s_r · invTemp) · Σ_k t_rk − t_r)
 * </pre>
 * (with Σ t = 1 the gradient is (softmax − t)/τ). One block per row, any K; the forward reads s and t once;
 * the backward keeps as much of the row as fits in shared memory between its statistics and write passes
 * (all of it for K ≤ ~28k on an H100), re-reading only the rest. Deterministic (fixed reduction trees, no
 * atomics). Enqueue only. Weights of the iBOT / DINO terms are the caller's (fold them into t or gRowLoss).
 */
public final class CrossEntropyCuda {
    private CrossEntropyCuda() {}

    private static final String FAMILY = "crossentropy";

    /** {@code rowLoss[r] = −Σ_k t[r,k] · log_softmax(s[r]·invTemp)_k} for r < R (written). */
    public static void forward(CudaContext c, int R, int K, CUdeviceptr s, CUdeviceptr t, float invTemp, CUdeviceptr rowLoss) {
        check(R, K, invTemp);
        notNull(s, "s"); notNull(t, "t"); notNull(rowLoss, "rowLoss");
        if (R == 0) return;
        c.kernel(FAMILY, "crossentropy_fwd").launch(R, 1, 1, threads(K), 1, 1, 0, R, K, s, t, invTemp, rowLoss);
    }

    /**
     * {@code gs[r,k] = (softmax(s[r]·invTemp)_k · Σ_j t[r,j] − t[r,k]) · invTemp · gRowLoss[r]} (written; gs must
     * not overlap s or t).
     *
     * @param gRowLoss upstream gradient per row, a device array [R]
     */
    public static void backward(CudaContext c, int R, int K, CUdeviceptr s, CUdeviceptr t, float invTemp,
                                CUdeviceptr gRowLoss, CUdeviceptr gs) {
        check(R, K, invTemp);
        notNull(s, "s"); notNull(t, "t"); notNull(gRowLoss, "gRowLoss"); notNull(gs, "gs");
        if (R == 0) return;
        int cache = cacheElements(c, K);
        c.kernel(FAMILY, "crossentropy_bwd").launch(R, 1, 1, threads(K), 1, 1, 8 * cache,
                R, K, s, t, invTemp, gRowLoss, gs, cache);
    }

    /** Row elements (of s and of t) the backward keeps in dynamic shared memory: 8 bytes each. */
    static int cacheElements(CudaContext c, int K) {
        int budget = c.maxSharedMemoryPerBlockOptin() - 1024;   // static shared memory of the kernel: 528 B
        return Math.max(0, Math.min(K, budget / 8));
    }

    /** Block size: about 8 elements per thread, 128..1024 (a multiple of 32). */
    static int threads(int K) {
        int t = ((K + 7) / 8 + 31) / 32 * 32;
        return Math.max(128, Math.min(1024, t));
    }

    private static void check(int R, int K, float invTemp) {
        if (R < 0) throw new IllegalArgumentException("R must be >= 0, got " + R);
        if (K <= 0) throw new IllegalArgumentException("K must be > 0, got " + K);
        if (!(invTemp > 0) || Float.isInfinite(invTemp)) throw new IllegalArgumentException("invTemp must be finite and > 0, got " + invTemp);
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
