package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of the CUDA attention kernels (attention.cu): multi-head scaled-dot-product attention with
 * axial RoPE on patch tokens, FlashAttention-2 style (online softmax, the N×N scores never stored, the
 * backward recomputes P from the saved log-sum-exp), exact float32, deterministic (no atomics).
 * Semantics and layouts are {@link AttentionKernels}':
 * <ul>
 * <li>q/k/v element {@code (b, t, h, d)} at {@code ptr + b*bStride + t*tStride + h*hStride + d} (floats;
 *     a fused qkv buffer {@code [B, N, 3D]} is q, k, v = base + 0, D, 2D with tStride = 3D, hStride = Dh,
 *     bStride = N*3D); gq/gk/gv use the same strides at their own pointers and may be one fused buffer.</li>
 * <li>{@code out}/{@code gOut} are {@code [B, N, H*Dh]} contiguous; {@code lse} is {@code [B*H*N]} at
 *     {@code (b*H + h)*N + t}, natural log of the sum of exp of the scaled scores.</li>
 * <li>RoPE: {@code ropeSin}/{@code ropeCos} are device float {@code [(N - prefix) * Dh]} tables (the
 *     {@link RopeTable} layout) or both null; tokens {@code t < prefix} stay unrotated.</li>
 * </ul>
 * Head dims: any multiple of 4 up to 128 (kernels exist for 32, 64 and 128; smaller dims run on the next
 * one with zero padding). Any {@code N ≥ 1}. 16-byte vector accesses are used when pointers and strides
 * allow, scalar ones otherwise. Everything is enqueued on the context's stream; nothing synchronises.
 */
public final class AttentionCuda {
    private AttentionCuda() {}

    static final String FAMILY = "attention";
    private static final int THREADS = 128;          // every attention kernel: 4 warps
    private static final double LOG2E = 1.4426950408889634;

    /** A compiled kernel instantiation: its name, rows (queries or keys) per block and dynamic shared memory. */
    private record Tiles(String name, int rowsPerBlock, int smemBytes) {}

    /** Head dim rounded up to a compiled kernel (32, 64, 128). */
    private static int dhp(int dh) { return dh <= 32 ? 32 : dh <= 64 ? 64 : 128; }

    // Tile shapes per head-dim kernel, as instantiated at the bottom of each section of attention.cu
    // (chosen by timing the alternatives on an H100; see the .cu header).

    // AttFwdCfg<DHP, TM, NCS>: BQ = 16 TM, BK = 32 NCS; floats DHP*BQ + 2*DHP*BK + BK*(BQ+4)
    private static Tiles fwdTiles(int dh) {
        int d = dhp(dh), tm = d == 128 ? 4 : 8, ncs = d == 128 ? 1 : 2;
        int bq = 16 * tm, bk = 32 * ncs;
        return new Tiles("attention_fwd_d" + d, bq, 4 * (d * bq + 2 * d * bk + bk * (bq + 4)));
    }

    // AttDkdvCfg<DHP, TM, NCQ>: BK = 16 TM, BQ = 32 NCQ; floats 2*DHP*BK + 4*DHP*BQ + BQ*(BK+4)
    private static Tiles dkdvTiles(int dh) {
        int d = dhp(dh), tm = d == 128 ? 2 : 4, ncq = 1;
        int bk = 16 * tm, bq = 32 * ncq;
        return new Tiles("attention_bwd_dkdv_d" + d, bk, 4 * (2 * d * bk + 4 * d * bq + bq * (bk + 4)));
    }

    // AttDqCfg<DHP, TM, NCK>: BQ = 16 TM, BK = 32 NCK; floats 2*DHP*BQ + 3*DHP*BK + BK*(BQ+4)
    private static Tiles dqTiles(int dh) {
        int d = dhp(dh), tm = d == 32 ? 4 : d == 64 ? 8 : 2, nck = 1;
        int bq = 16 * tm, bk = 32 * nck;
        return new Tiles("attention_bwd_dq_d" + d, bq, 4 * (2 * d * bq + 3 * d * bk + bk * (bq + 4)));
    }

    private static CUdeviceptr orZero(CUdeviceptr p) { return p == null ? new CUdeviceptr() : p; }

    private static void require(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }

    private static void check(int B, int H, int N, int Dh, float scale, int bStride, int tStride, int hStride,
                              CUdeviceptr ropeSin, CUdeviceptr ropeCos, int prefix) {
        if (B < 0) throw new IllegalArgumentException("B must be >= 0, got " + B);
        if (H < 0) throw new IllegalArgumentException("H must be >= 0, got " + H);
        if (N < 0) throw new IllegalArgumentException("N must be >= 0, got " + N);
        if (Dh <= 0 || Dh > 128 || Dh % 4 != 0)
            throw new IllegalArgumentException("Dh must be a multiple of 4 in [4, 128], got " + Dh);
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        if (bStride < 0) throw new IllegalArgumentException("bStride must be >= 0, got " + bStride);
        if (tStride < 0) throw new IllegalArgumentException("tStride must be >= 0, got " + tStride);
        if (hStride < 0) throw new IllegalArgumentException("hStride must be >= 0, got " + hStride);
        if ((ropeSin == null) != (ropeCos == null))
            throw new IllegalArgumentException("ropeSin and ropeCos must both be given or both be null");
        if (ropeSin != null && (prefix < 0 || prefix > N))
            throw new IllegalArgumentException("prefix " + prefix + " outside [0, N=" + N + "]");
        if ((long) B * H * N > Integer.MAX_VALUE)
            throw new IllegalArgumentException("B*H*N = " + (long) B * H * N + " exceeds 2^31 - 1");
        if ((long) H * Dh > Integer.MAX_VALUE) throw new IllegalArgumentException("H*Dh too large");
    }

    private static int blocks(int B, int H, int N, int rowsPerBlock, String what) {
        long n = (long) B * H * ((N + rowsPerBlock - 1) / rowsPerBlock);
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(what + ": grid of " + n + " blocks too large");
        return (int) n;
    }

    /**
     * {@code out = softmax(scale · rope(q) rope(k)ᵀ) v} per (batch, head), and {@code lse} (nullable when
     * no backward follows) the per-row log-sum-exp of the scaled scores. Inputs are not modified.
     */
    public static void forward(CudaContext c, int B, int H, int N, int Dh, float scale,
                               CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, int bStride, int tStride, int hStride,
                               CUdeviceptr ropeSin, CUdeviceptr ropeCos, int prefix, CUdeviceptr out, CUdeviceptr lse) {
        check(B, H, N, Dh, scale, bStride, tStride, hStride, ropeSin, ropeCos, prefix);
        require(q, "q"); require(k, "k"); require(v, "v"); require(out, "out");
        if (B == 0 || H == 0 || N == 0) return;
        Tiles t = fwdTiles(Dh);
        int nqb = (N + t.rowsPerBlock() - 1) / t.rowsPerBlock();
        float scale2 = (float) (scale * LOG2E);
        c.kernel(FAMILY, t.name()).launch(blocks(B, H, N, t.rowsPerBlock(), "forward"), 1, 1,
                THREADS, 1, 1, t.smemBytes(),
                q, k, v, orZero(ropeSin), orZero(ropeCos), out, orZero(lse),
                H, N, Dh, bStride, tStride, hStride, ropeSin == null ? 0 : prefix, scale2, nqb);
    }

    /**
     * Gradients of {@code Σ gOut ∘ out} w.r.t. the UNROTATED q, k, v (the same pointers and strides as given
     * to {@link #forward}), WRITTEN (not accumulated) into gq/gk/gv in q/k/v's layout; only the
     * {@code (b, t, h, d)} elements are touched, so gq/gk/gv may interleave in one fused dqkv buffer.
     * {@code out} and {@code lse} are the forward's outputs. Allocates (and releases, stream-ordered) a
     * {@code B*H*N} float scratch for {@code D = rowsum(gOut ∘ out)}.
     */
    public static void backward(CudaContext c, int B, int H, int N, int Dh, float scale,
                                CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, int bStride, int tStride, int hStride,
                                CUdeviceptr ropeSin, CUdeviceptr ropeCos, int prefix,
                                CUdeviceptr out, CUdeviceptr gOut, CUdeviceptr lse,
                                CUdeviceptr gq, CUdeviceptr gk, CUdeviceptr gv) {
        check(B, H, N, Dh, scale, bStride, tStride, hStride, ropeSin, ropeCos, prefix);
        require(q, "q"); require(k, "k"); require(v, "v"); require(out, "out"); require(gOut, "gOut");
        require(lse, "lse"); require(gq, "gq"); require(gk, "gk"); require(gv, "gv");
        if (B == 0 || H == 0 || N == 0) return;
        int rows = B * H * N, pre = ropeSin == null ? 0 : prefix;
        float scale2 = (float) (scale * LOG2E);
        CUdeviceptr sin = orZero(ropeSin), cos = orZero(ropeCos);
        DeviceBuffer dBuf = c.alloc(4L * rows);
        try {
            int warpsPerBlock = 8;
            c.kernel(FAMILY, "attention_bwd_prep").launch((rows + warpsPerBlock - 1) / warpsPerBlock, 1, 1,
                    32 * warpsPerBlock, 1, 1, 0, out, gOut, dBuf.ptr(), H, N, Dh, rows);
            Tiles kv = dkdvTiles(Dh);
            int nkb = (N + kv.rowsPerBlock() - 1) / kv.rowsPerBlock();
            c.kernel(FAMILY, kv.name()).launch(blocks(B, H, N, kv.rowsPerBlock(), "backward dK/dV"),
                    1, 1, THREADS, 1, 1, kv.smemBytes(),
                    q, k, v, sin, cos, gOut, lse, dBuf.ptr(), gk, gv, H, N, Dh, bStride, tStride, hStride, pre,
                    scale, scale2, nkb);
            Tiles tq = dqTiles(Dh);
            int nqb = (N + tq.rowsPerBlock() - 1) / tq.rowsPerBlock();
            c.kernel(FAMILY, tq.name()).launch(blocks(B, H, N, tq.rowsPerBlock(), "backward dQ"),
                    1, 1, THREADS, 1, 1, tq.smemBytes(),
                    q, k, v, sin, cos, gOut, lse, dBuf.ptr(), gq, H, N, Dh, bStride, tStride, hStride, pre,
                    scale, scale2, nqb);
        } finally {
            dBuf.release();   // stream-ordered allocator: safe once the launches are enqueued
        }
    }
}
