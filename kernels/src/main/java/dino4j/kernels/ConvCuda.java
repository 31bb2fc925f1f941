package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code conv.cu} (NCHW).
 *
 * <p><b>Dense conv2d</b> (groups = 1, weight {@code [O, C, kh, kw]}) is im2col + GEMM, the GEMMs run by the
 * caller. {@link #im2col} writes {@code col} as {@code [B, K, T]} with {@code K = C·kh·kw},
 * {@code T = OH·OW} ({@link ConvKernels#outSize}): {@code col[b, (c·kh + ky)·kw + kx, oy·OW + ox] =
 * x[b, c, oy·sh − ph + ky, ox·sw − pw + kx]} (0 in the padding) — the CPU's im2col layout per image, also for
 * patchify (stride = kernel) shapes. Then per image b:
 * <pre>
 *   y[b]  (= [O, OH, OW]) = W[O, K] · col[b][K, T]  (+ bias[O] per row)
 *   gW   += gy[b][O, T] · col[b]ᵀ                    gbias += Σ_T gy[b]
 *   gcol[b] = Wᵀ[K, O] · gy[b][O, T];   gx = col2im(gcol)
 * </pre>
 * <p><b>Depthwise conv2d</b> (groups = C, weight {@code [C, 1, k, k]}, stride 1, padding p,
 * {@code OH = H + 2p − k + 1}) as {@link DepthwiseConvKernels}: {@link #depthwiseForward},
 * {@link #depthwiseBackward} (gx written; gw, gb accumulated; deterministic reductions). Enqueue only.
 */
public final class ConvCuda {
    private ConvCuda() {}

    private static final String FAMILY = "conv";
    private static final int BLOCK = 256;
    private static final int TW = 32, TH = 8;   // = DW_TW, DW_TH in conv.cu

    /**
     * {@code col[B, C·kh·kw, OH·OW]} from {@code x[B, C, H, W]} (layout in the class comment); padding
     * {@code ph, pw ≥ 0}, strides ≥ 1.
     */
    public static void im2col(CudaContext c, int B, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                              CUdeviceptr x, CUdeviceptr col) {
        checkDense(B, C, H, W, kh, kw, sh, sw, ph, pw);
        notNull(x, "x"); notNull(col, "col");
        int OH = ConvKernels.outSize(H, kh, sh, ph), OW = ConvKernels.outSize(W, kw, sw, pw);
        long n = (long) B * C * kh * kw * OH * OW;
        if (n == 0) return;
        c.kernel(FAMILY, "conv_im2col").launch1d(n, BLOCK, n, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, x, col);
    }

    /**
     * Adjoint of {@link #im2col}: {@code x[B, C, H, W] = (accumulate ? x : 0) + col2im(col)} where each pixel
     * sums the col entries that read it (ky, kx ascending, as {@link ConvKernels#col2im}; a gather, so
     * deterministic). Pixels no window reads get 0 (or keep x when accumulating).
     */
    public static void col2im(CudaContext c, int B, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                              CUdeviceptr col, CUdeviceptr x, boolean accumulate) {
        checkDense(B, C, H, W, kh, kw, sh, sw, ph, pw);
        notNull(col, "col"); notNull(x, "x");
        int OH = ConvKernels.outSize(H, kh, sh, ph), OW = ConvKernels.outSize(W, kw, sw, pw);
        long n = (long) B * C * H * W;
        if (n == 0) return;
        c.kernel(FAMILY, "conv_col2im").launch1d(n, BLOCK, n, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, col, x, accumulate ? 1 : 0);
    }

    /** Depthwise {@code y[B, C, OH, OW] = dwconv(x[B, C, H, W], w[C, 1, k, k]) + bias[C]} (bias nullable; y written). */
    public static void depthwiseForward(CudaContext c, int B, int C, int H, int W, int k, int p,
                                        CUdeviceptr x, CUdeviceptr w, CUdeviceptr bias, CUdeviceptr y) {
        checkDepthwise(c, B, C, H, W, k, p);
        notNull(x, "x"); notNull(w, "w"); notNull(y, "y");
        int OH = DepthwiseConvKernels.outSize(H, k, p), OW = DepthwiseConvKernels.outSize(W, k, p);
        if ((long) B * C == 0) return;
        corr(c, B, C, H, W, OH, OW, k, p, false, x, w, bias, y);
    }

    /**
     * Depthwise backward: {@code gx} WRITTEN, {@code gw[C, 1, k, k]} and {@code gb[C]} ACCUMULATED (+=), as
     * {@link DepthwiseConvKernels#backward}; each nullable to skip. The weight / bias reduction uses scratch
     * from the stream-ordered allocator, released after enqueue.
     */
    public static void depthwiseBackward(CudaContext c, int B, int C, int H, int W, int k, int p, CUdeviceptr x, CUdeviceptr w,
                                         CUdeviceptr gy, CUdeviceptr gx, CUdeviceptr gw, CUdeviceptr gb) {
        checkDepthwise(c, B, C, H, W, k, p);
        notNull(gy, "gy");
        if (gx != null) notNull(w, "w");
        if (gw != null) notNull(x, "x");
        int OH = DepthwiseConvKernels.outSize(H, k, p), OW = DepthwiseConvKernels.outSize(W, k, p);
        if ((long) B * C == 0) return;
        // input gradient: correlation of gy padded by k−1−p with the flipped kernel
        if (gx != null) corr(c, B, C, OH, OW, H, W, k, k - 1 - p, true, gy, w, null, gx);
        if (gw == null && gb == null) return;
        int tiles = ceilDiv(OW, TW) * ceilDiv(OH, TH), kk = k * k;
        long blocks = (long) B * C * tiles;
        if (blocks > Integer.MAX_VALUE || (long) B * tiles > Integer.MAX_VALUE)
            throw new IllegalArgumentException("depthwise backward too large: B=" + B + " C=" + C + " tiles=" + tiles);
        DeviceBuffer partial = c.alloc(4L * blocks * (kk + 1));
        try {
            int smem = 4 * ((TH + k - 1) * (TW + k - 1) + TH * TW);
            c.kernel(FAMILY, "conv_dw_wgrad_partial").launch((int) blocks, 1, 1, TW, TH, 1, smem,
                    B, C, H, W, OH, OW, k, p, gw != null ? 1 : 0, gb != null ? 1 : 0, x == null ? new CUdeviceptr() : x, gy, partial.ptr());
            long threads = (long) C * (kk + 1);
            c.kernel(FAMILY, "conv_dw_wgrad_final").launch1d(threads, BLOCK, C, kk, B * tiles, partial.ptr(),
                    gw == null ? new CUdeviceptr() : gw, gb == null ? new CUdeviceptr() : gb);
        } finally {
            partial.release();
        }
    }

    /** dst[B·C, DH, DW] = bias + Σ wk·src_pad (see conv_dw_corr). */
    private static void corr(CudaContext c, int B, int C, int SH, int SW, int DH, int DW, int k, int pad, boolean flip,
                             CUdeviceptr src, CUdeviceptr w, CUdeviceptr bias, CUdeviceptr dst) {
        long blocks = (long) B * C * ceilDiv(DW, TW) * ceilDiv(DH, TH);
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("depthwise conv too large: " + blocks + " tiles");
        int smem = smemCorr(k);
        c.kernel(FAMILY, "conv_dw_corr").launch((int) blocks, 1, 1, TW, TH, 1, smem,
                C, SH, SW, DH, DW, k, pad, flip ? 1 : 0, src, w, bias == null ? new CUdeviceptr() : bias, dst);
    }

    private static int smemCorr(int k) { return 4 * ((TH + k - 1) * (TW + k - 1) + k * k); }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    private static void checkDense(int B, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw) {
        if (B < 0) throw new IllegalArgumentException("B must be >= 0, got " + B);
        if (C < 0) throw new IllegalArgumentException("C must be >= 0, got " + C);
        if (H < 1 || W < 1) throw new IllegalArgumentException("H and W must be >= 1, got " + H + "x" + W);
        if (kh < 1 || kw < 1) throw new IllegalArgumentException("kernel kh, kw must be >= 1, got " + kh + "x" + kw);
        if (sh < 1 || sw < 1) throw new IllegalArgumentException("stride sh, sw must be >= 1, got " + sh + "x" + sw);
        if (ph < 0 || pw < 0) throw new IllegalArgumentException("padding ph, pw must be >= 0, got " + ph + "x" + pw);
    }

    private static void checkDepthwise(CudaContext c, int B, int C, int H, int W, int k, int p) {
        if (B < 0) throw new IllegalArgumentException("B must be >= 0, got " + B);
        if (C < 0) throw new IllegalArgumentException("C must be >= 0, got " + C);
        if (H < 1 || W < 1) throw new IllegalArgumentException("H and W must be >= 1, got " + H + "x" + W);
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        if (p < 0) throw new IllegalArgumentException("p must be >= 0, got " + p);
        int smem = Math.max(smemCorr(k), 4 * ((TH + k - 1) * (TW + k - 1) + TH * TW));
        if (smem > c.maxSharedMemoryPerBlockOptin())
            throw new IllegalArgumentException("k = " + k + " needs " + smem + " bytes of shared memory per block, over the device's "
                    + c.maxSharedMemoryPerBlockOptin());
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
