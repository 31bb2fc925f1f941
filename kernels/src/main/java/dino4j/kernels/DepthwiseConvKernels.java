package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Depthwise 2-D convolution (groups = C), NCHW, square kernel k, stride 1, padding p (ConvNeXt: k = 7,
 * p = 3), weight {@code [C, 1, k, k]}, bias {@code [C]}; output {@code [B, C, OH, OW]} with
 * {@code OH = H + 2p − k + 1}. Vectorised along output rows, parallel over channels (each task owns a
 * channel across the batch, so the per-channel weight-gradient reduction is race-free). Fast path for
 * {@code 0 ≤ p ≤ k−1}: each plane is copied into a zero-padded buffer and every output vector accumulates
 * all k² taps in a register (the input gradient is the same correlation on the padded output gradient
 * with the flipped kernel); other paddings use a row-streaming fallback.
 *
 * <p>Channels-last variants ({@code *NHWC}: x {@code [B, H, W, C]}, same {@code [C, 1, k, k]} weight)
 * vectorise along C.
 */
public final class DepthwiseConvKernels {
    private DepthwiseConvKernels() {}

    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = S.length();

    public static int outSize(int in, int k, int p) {
        int o = in + 2 * p - k + 1;
        if (o <= 0) throw new IllegalArgumentException("depthwise output size <= 0");
        return o;
    }

    /**
     * Padded-plane correlation: {@code dst[DH, DW] = bias + Σ w[ky,kx]·src_pad[oy+ky, ox+kx]} where src_pad is
     * the {@code [SH, SW]} plane zero-padded by {@code pad}; accumulates each output vector in a register
     * over all k·k taps (one store per output vector, masked at the row tail).
     */
    private static void corrPadded(float[] src, int srcOff, int SH, int SW, int pad, float[] wk, int k, float bias,
                                   float[] dst, int dOff, int DH, int DW, float[] buf, int PW) {
        padPlane(src, srcOff, SH, SW, pad, buf, PW, SH + 2 * pad);
        for (int oy = 0; oy < DH; oy++) {
            int dr = dOff + oy * DW;
            for (int ox0 = 0; ox0 < DW; ox0 += L) {
                FloatVector acc = FloatVector.broadcast(S, bias);
                for (int ky = 0; ky < k; ky++) {
                    int br = (oy + ky) * PW + ox0;
                    for (int kx = 0; kx < k; kx++)
                        acc = FloatVector.fromArray(S, buf, br + kx).fma(FloatVector.broadcast(S, wk[ky * k + kx]), acc);
                }
                if (ox0 + L <= DW) acc.intoArray(dst, dr + ox0);
                else acc.intoArray(dst, dr + ox0, S.indexInRange(ox0, DW));
            }
        }
    }

    /** buf[rows, PW] = src plane zero-padded by pad (extra right columns zero). */
    private static void padPlane(float[] src, int srcOff, int SH, int SW, int pad, float[] buf, int PW, int rows) {
        Arrays.fill(buf, 0, pad * PW, 0f);
        for (int r = 0; r < SH; r++) {
            int b = (r + pad) * PW;
            Arrays.fill(buf, b, b + pad, 0f);
            System.arraycopy(src, srcOff + r * SW, buf, b + pad, SW);
            Arrays.fill(buf, b + pad + SW, b + PW, 0f);
        }
        Arrays.fill(buf, (SH + pad) * PW, rows * PW, 0f);
    }

    private static int paddedWidth(int dw, int k) { return ((dw + L - 1) / L) * L + k - 1; }

    /** y = dwconv(x, w) + bias (bias nullable). */
    public static void forward(int B, int C, int H, int W, int k, int p, float[] x, int xOff, float[] w, int wOff,
                               float[] bias, int bOff, float[] y, int yOff) {
        if (p < 0 || p > k - 1) { forwardRows(B, C, H, W, k, p, x, xOff, w, wOff, bias, bOff, y, yOff); return; }
        final int OH = outSize(H, k, p), OW = outSize(W, k, p), PW = Math.max(paddedWidth(OW, k), W + 2 * p);
        Parallel.forRange(C, 1, (c0, c1) -> {
            float[] buf = new float[(H + 2 * p) * PW];
            float[] wk = new float[k * k];
            for (int c = c0; c < c1; c++) {
                System.arraycopy(w, wOff + c * k * k, wk, 0, k * k);
                float bv = bias != null ? bias[bOff + c] : 0f;
                for (int b = 0; b < B; b++)
                    corrPadded(x, xOff + (b * C + c) * H * W, H, W, p, wk, k, bv, y, yOff + (b * C + c) * OH * OW, OH, OW, buf, PW);
            }
        });
    }

    /** Backward: gx WRITTEN (nullable to skip), gw ACCUMULATED (nullable), gb ACCUMULATED (nullable). */
    public static void backward(int B, int C, int H, int W, int k, int p, float[] x, int xOff, float[] w, int wOff,
                                float[] gy, int gyOff, float[] gx, int gxOff, float[] gw, int gwOff, float[] gb, int gbOff) {
        if (p < 0 || p > k - 1) { backwardRows(B, C, H, W, k, p, x, xOff, w, wOff, gy, gyOff, gx, gxOff, gw, gwOff, gb, gbOff); return; }
        final int OH = outSize(H, k, p), OW = outSize(W, k, p), q = k - 1 - p;
        final int PWx = Math.max(paddedWidth(OW, k), W + 2 * p);     // x padded by p (for gw)
        final int PWg = Math.max(paddedWidth(W, k), OW + 2 * q);     // gy padded by q (for gx)
        Parallel.forRange(C, 1, (c0, c1) -> {
            float[] xbuf = new float[(H + 2 * p) * PWx];
            float[] gbuf = new float[(OH + 2 * q) * PWg];
            float[] wflip = new float[k * k];
            double[] gwAcc = new double[k * k];
            for (int c = c0; c < c1; c++) {
                for (int j = 0; j < k * k; j++) wflip[j] = w[wOff + c * k * k + k * k - 1 - j];
                Arrays.fill(gwAcc, 0.0);
                double gbAcc = 0;
                for (int b = 0; b < B; b++) {
                    int xb = xOff + (b * C + c) * H * W, gyb = gyOff + (b * C + c) * OH * OW;
                    if (gb != null) gbAcc += ReduceKernels.sumAll(OH * OW, gy, gyb);
                    if (gx != null)
                        corrPadded(gy, gyb, OH, OW, q, wflip, k, 0f, gx, gxOff + (b * C + c) * H * W, H, W, gbuf, PWg);
                    if (gw != null) {
                        padPlane(x, xb, H, W, p, xbuf, PWx, H + 2 * p);
                        if (k == 7) weightGrad7(gy, gyb, OH, OW, xbuf, PWx, gwAcc);
                        else weightGrad(gy, gyb, OH, OW, xbuf, PWx, k, gwAcc);
                    }
                }
                if (gw != null) for (int j = 0; j < k * k; j++) gw[gwOff + c * k * k + j] += (float) gwAcc[j];
                if (gb != null) gb[gbOff + c] += (float) gbAcc;
            }
        });
    }

    /** gwAcc[ky·k + kx] += Σ gy[oy, ox]·xpad[oy + ky, ox + kx] (any k). */
    private static void weightGrad(float[] gy, int gyb, int OH, int OW, float[] xbuf, int PW, int k, double[] gwAcc) {
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                FloatVector acc = FloatVector.zero(S);
                for (int oy = 0; oy < OH; oy++) {
                    int gr = gyb + oy * OW, br = (oy + ky) * PW + kx;
                    for (int ox0 = 0; ox0 < OW; ox0 += L) {
                        FloatVector g = ox0 + L <= OW ? FloatVector.fromArray(S, gy, gr + ox0)
                                : FloatVector.fromArray(S, gy, gr + ox0, S.indexInRange(ox0, OW));
                        acc = g.fma(FloatVector.fromArray(S, xbuf, br + ox0), acc);
                    }
                }
                gwAcc[ky * k + kx] += VectorMath.sum(acc);
            }
    }

    /** k = 7 (ConvNeXt) weight gradient: the seven kx taps of a row accumulate in registers. */
    private static void weightGrad7(float[] gy, int gyb, int OH, int OW, float[] xbuf, int PW, double[] gwAcc) {
        for (int ky = 0; ky < 7; ky++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0;
            for (int oy = 0; oy < OH; oy++) {
                int gr = gyb + oy * OW, br = (oy + ky) * PW;
                for (int ox0 = 0; ox0 < OW; ox0 += L) {
                    FloatVector g = ox0 + L <= OW ? FloatVector.fromArray(S, gy, gr + ox0)
                            : FloatVector.fromArray(S, gy, gr + ox0, S.indexInRange(ox0, OW));
                    int o = br + ox0;
                    a0 = g.fma(FloatVector.fromArray(S, xbuf, o), a0);
                    a1 = g.fma(FloatVector.fromArray(S, xbuf, o + 1), a1);
                    a2 = g.fma(FloatVector.fromArray(S, xbuf, o + 2), a2);
                    a3 = g.fma(FloatVector.fromArray(S, xbuf, o + 3), a3);
                    a4 = g.fma(FloatVector.fromArray(S, xbuf, o + 4), a4);
                    a5 = g.fma(FloatVector.fromArray(S, xbuf, o + 5), a5);
                    a6 = g.fma(FloatVector.fromArray(S, xbuf, o + 6), a6);
                }
            }
            int j = ky * 7;
            gwAcc[j] += VectorMath.sum(a0);
            gwAcc[j + 1] += VectorMath.sum(a1);
            gwAcc[j + 2] += VectorMath.sum(a2);
            gwAcc[j + 3] += VectorMath.sum(a3);
            gwAcc[j + 4] += VectorMath.sum(a4);
            gwAcc[j + 5] += VectorMath.sum(a5);
            gwAcc[j + 6] += VectorMath.sum(a6);
        }
    }

    /** Row-streaming forward (any padding; used when p > k − 1). */
    static void forwardRows(int B, int C, int H, int W, int k, int p, float[] x, int xOff, float[] w, int wOff,
                               float[] bias, int bOff, float[] y, int yOff) {
        final int OH = outSize(H, k, p), OW = outSize(W, k, p);
        Parallel.forRange(C, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++)
                for (int b = 0; b < B; b++) {
                    int xb = xOff + (b * C + c) * H * W, yb = yOff + (b * C + c) * OH * OW, wb = wOff + c * k * k;
                    float bv = bias != null ? bias[bOff + c] : 0f;
                    for (int oy = 0; oy < OH; oy++) {
                        int yr = yb + oy * OW;
                        Arrays.fill(y, yr, yr + OW, bv);
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy + ky - p;
                            if (iy < 0 || iy >= H) continue;
                            int xr = xb + iy * W;
                            for (int kx = 0; kx < k; kx++) {
                                float wv = w[wb + ky * k + kx];
                                int lo = Math.max(0, p - kx), hi = Math.min(OW, W + p - kx), n = hi - lo;
                                if (n <= 0) continue;
                                int xs = xr + lo + kx - p, ys = yr + lo, i = 0;
                                FloatVector vw = FloatVector.broadcast(S, wv);
                                for (int ub = S.loopBound(n); i < ub; i += L)
                                    FloatVector.fromArray(S, x, xs + i).fma(vw, FloatVector.fromArray(S, y, ys + i)).intoArray(y, ys + i);
                                for (; i < n; i++) y[ys + i] += wv * x[xs + i];
                            }
                        }
                    }
                }
        });
    }

    /** Row-streaming backward (any padding; used when p > k − 1). */
    static void backwardRows(int B, int C, int H, int W, int k, int p, float[] x, int xOff, float[] w, int wOff,
                             float[] gy, int gyOff, float[] gx, int gxOff, float[] gw, int gwOff, float[] gb, int gbOff) {
        final int OH = outSize(H, k, p), OW = outSize(W, k, p);
        Parallel.forRange(C, 1, (c0, c1) -> {
            double[] gwAcc = new double[k * k];
            for (int c = c0; c < c1; c++) {
                Arrays.fill(gwAcc, 0.0);
                double gbAcc = 0;
                int wb = wOff + c * k * k;
                for (int b = 0; b < B; b++) {
                    int xb = xOff + (b * C + c) * H * W, gyb = gyOff + (b * C + c) * OH * OW;
                    if (gx != null) Arrays.fill(gx, gxOff + (b * C + c) * H * W, gxOff + (b * C + c + 1) * H * W, 0f);
                    if (gb != null) gbAcc += ReduceKernels.sumAll(OH * OW, gy, gyb);
                    for (int oy = 0; oy < OH; oy++) {
                        int gr = gyb + oy * OW;
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy + ky - p;
                            if (iy < 0 || iy >= H) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int lo = Math.max(0, p - kx), hi = Math.min(OW, W + p - kx), n = hi - lo;
                                if (n <= 0) continue;
                                int xs = iy * W + lo + kx - p, gs = gr + lo;
                                if (gw != null) {
                                    int i = 0;
                                    FloatVector acc = FloatVector.zero(S);
                                    for (int ub = S.loopBound(n); i < ub; i += L)
                                        acc = FloatVector.fromArray(S, gy, gs + i).fma(FloatVector.fromArray(S, x, xb + xs + i), acc);
                                    float s = VectorMath.sum(acc);
                                    for (; i < n; i++) s += gy[gs + i] * x[xb + xs + i];
                                    gwAcc[ky * k + kx] += s;
                                }
                                if (gx != null) {
                                    float wv = w[wb + ky * k + kx];
                                    FloatVector vw = FloatVector.broadcast(S, wv);
                                    int gxs = gxOff + (b * C + c) * H * W + xs, i = 0;
                                    for (int ub = S.loopBound(n); i < ub; i += L)
                                        FloatVector.fromArray(S, gy, gs + i).fma(vw, FloatVector.fromArray(S, gx, gxs + i)).intoArray(gx, gxs + i);
                                    for (; i < n; i++) gx[gxs + i] += wv * gy[gs + i];
                                }
                            }
                        }
                    }
                }
                if (gw != null) for (int j = 0; j < k * k; j++) gw[gwOff + c * k * k + j] += (float) gwAcc[j];
                if (gb != null) gb[gbOff + c] += (float) gbAcc;
            }
        });
    }

    /** Direct-loop forward in double (reference / float64 backend). */
    public static void reference(int B, int C, int H, int W, int k, int p, double[] x, int xOff, double[] w, int wOff,
                                 double[] bias, int bOff, double[] y, int yOff) {
        int OH = outSize(H, k, p), OW = outSize(W, k, p);
        referenceStrided(B, C, H, W, k, p, x, xOff, new int[]{C * H * W, H * W, W, 1}, w, wOff, bias, bOff,
                y, yOff, new int[]{C * OH * OW, OH * OW, OW, 1});
    }

    /** Direct-loop backward in double: gx WRITTEN, gw / gb ACCUMULATED (each nullable). */
    public static void referenceBackward(int B, int C, int H, int W, int k, int p, double[] x, int xOff, double[] w, int wOff,
                                         double[] gy, int gyOff, double[] gx, int gxOff, double[] gw, int gwOff,
                                         double[] gb, int gbOff) {
        int OH = outSize(H, k, p), OW = outSize(W, k, p);
        if (gx != null) Arrays.fill(gx, gxOff, gxOff + B * C * H * W, 0.0);
        referenceBackwardStrided(B, C, H, W, k, p, x, xOff, new int[]{C * H * W, H * W, W, 1}, w, wOff,
                gy, gyOff, new int[]{C * OH * OW, OH * OW, OW, 1}, gx, gxOff, gw, gwOff, gb, gbOff);
    }

    /**
     * The one direct-loop reference behind both layouts: element (b, c, y, x) of the input sits at
     * {@code xOff + b·xs[0] + c·xs[1] + y·xs[2] + x·xs[3]}, and likewise the output with {@code ys}.
     */
    private static void referenceStrided(int B, int C, int H, int W, int k, int p, double[] x, int xOff, int[] xs,
                                         double[] w, int wOff, double[] bias, int bOff, double[] y, int yOff, int[] ys) {
        final int OH = outSize(H, k, p), OW = outSize(W, k, p);
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        double s = bias != null ? bias[bOff + c] : 0.0;
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy + ky - p;
                            if (iy < 0 || iy >= H) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = ox + kx - p;
                                if (ix < 0 || ix >= W) continue;
                                s += w[wOff + (c * k + ky) * k + kx] * x[xOff + b * xs[0] + c * xs[1] + iy * xs[2] + ix * xs[3]];
                            }
                        }
                        y[yOff + b * ys[0] + c * ys[1] + oy * ys[2] + ox * ys[3]] = s;
                    }
    }

    /** Strided twin of the backward (gx must be zeroed by the caller; everything accumulates). */
    private static void referenceBackwardStrided(int B, int C, int H, int W, int k, int p, double[] x, int xOff, int[] xs,
                                                 double[] w, int wOff, double[] gy, int gyOff, int[] ys, double[] gx, int gxOff,
                                                 double[] gw, int gwOff, double[] gb, int gbOff) {
        final int OH = outSize(H, k, p), OW = outSize(W, k, p);
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        double g = gy[gyOff + b * ys[0] + c * ys[1] + oy * ys[2] + ox * ys[3]];
                        if (gb != null) gb[gbOff + c] += g;
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy + ky - p;
                            if (iy < 0 || iy >= H) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = ox + kx - p;
                                if (ix < 0 || ix >= W) continue;
                                int wi = (c * k + ky) * k + kx, xi = b * xs[0] + c * xs[1] + iy * xs[2] + ix * xs[3];
                                if (gw != null) gw[gwOff + wi] += g * x[xOff + xi];
                                if (gx != null) gx[gxOff + xi] += g * w[wOff + wi];
                            }
                        }
                    }
    }

    // ================================================================== channels-last [B, H, W, C]

    /** wT[(ky·k + kx)·C + c] = w[c, ky, kx]. */
    private static float[] transposeWeights(int C, int k, float[] w, int wOff) {
        float[] wt = new float[k * k * C];
        for (int c = 0; c < C; c++)
            for (int j = 0; j < k * k; j++) wt[j * C + c] = w[wOff + c * k * k + j];
        return wt;
    }

    /**
     * Channels-last forward: x {@code [B, H, W, C]}, weight {@code [C, 1, k, k]} (PyTorch layout), bias
     * {@code [C]} nullable, y {@code [B, OH, OW, C]}. Vectorised along C, parallel over output rows.
     */
    public static void forwardNHWC(int B, int H, int W, int C, int k, int p, float[] x, int xOff, float[] w, int wOff,
                                   float[] bias, int bOff, float[] y, int yOff) {
        final int OH = outSize(H, k, p), OW = outSize(W, k, p);
        final float[] wt = transposeWeights(C, k, w, wOff);
        final float[] bv = new float[C];
        if (bias != null) System.arraycopy(bias, bOff, bv, 0, C);
        Parallel.forRange(B * OH, Math.max(1, (1 << 14) / Math.max(1, OW * C * k)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / OH, oy = r % OH;
                for (int ox = 0; ox < OW; ox++) {
                    int yo = yOff + ((b * OH + oy) * OW + ox) * C;
                    for (int c0 = 0; c0 < C; c0 += L) {
                        VectorMask<Float> m = S.indexInRange(c0, C);
                        FloatVector acc = FloatVector.fromArray(S, bv, c0, m);
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy + ky - p;
                            if (iy < 0 || iy >= H) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = ox + kx - p;
                                if (ix < 0 || ix >= W) continue;
                                acc = FloatVector.fromArray(S, x, xOff + ((b * H + iy) * W + ix) * C + c0, m)
                                        .fma(FloatVector.fromArray(S, wt, (ky * k + kx) * C + c0, m), acc);
                            }
                        }
                        acc.intoArray(y, yo + c0, m);
                    }
                }
            }
        });
    }

    /** Channels-last backward: gx WRITTEN (nullable), gw / gb ACCUMULATED (nullable); layouts as {@link #forwardNHWC}. */
    public static void backwardNHWC(int B, int H, int W, int C, int k, int p, float[] x, int xOff, float[] w, int wOff,
                                    float[] gy, int gyOff, float[] gx, int gxOff, float[] gw, int gwOff, float[] gb, int gbOff) {
        final int OH = outSize(H, k, p), OW = outSize(W, k, p);
        if (gx != null) {
            final float[] wt = transposeWeights(C, k, w, wOff);
            Parallel.forRange(B * H, Math.max(1, (1 << 14) / Math.max(1, W * C * k)), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int b = r / H, iy = r % H;
                    for (int ix = 0; ix < W; ix++) {
                        int xo = gxOff + ((b * H + iy) * W + ix) * C;
                        for (int c0 = 0; c0 < C; c0 += L) {
                            VectorMask<Float> m = S.indexInRange(c0, C);
                            FloatVector acc = FloatVector.zero(S);
                            for (int ky = 0; ky < k; ky++) {
                                int oy = iy + p - ky;
                                if (oy < 0 || oy >= OH) continue;
                                for (int kx = 0; kx < k; kx++) {
                                    int ox = ix + p - kx;
                                    if (ox < 0 || ox >= OW) continue;
                                    acc = FloatVector.fromArray(S, gy, gyOff + ((b * OH + oy) * OW + ox) * C + c0, m)
                                            .fma(FloatVector.fromArray(S, wt, (ky * k + kx) * C + c0, m), acc);
                                }
                            }
                            acc.intoArray(gx, xo + c0, m);
                        }
                    }
                }
            });
        }
        if (gw == null && gb == null) return;
        // weight / bias gradients: parallel over channel chunks (each task owns its channels: race-free)
        final int chunk = 4 * L, nChunks = (C + chunk - 1) / chunk;
        Parallel.forRange(nChunks, 1, (q0, q1) -> {
            float[] rowAcc = new float[k * k * chunk];
            float[] rowB = new float[chunk];
            double[] acc = new double[k * k * chunk];
            double[] accB = new double[chunk];
            for (int q = q0; q < q1; q++) {
                int cBeg = q * chunk, cw = Math.min(chunk, C - cBeg);
                Arrays.fill(acc, 0.0);
                Arrays.fill(accB, 0.0);
                for (int b = 0; b < B; b++)
                    for (int oy = 0; oy < OH; oy++) {
                        Arrays.fill(rowAcc, 0f);
                        Arrays.fill(rowB, 0f);
                        for (int ox = 0; ox < OW; ox++) {
                            int go = gyOff + ((b * OH + oy) * OW + ox) * C + cBeg;
                            for (int c0 = 0; c0 < cw; c0 += L) {
                                VectorMask<Float> m = S.indexInRange(c0, cw);
                                FloatVector g = FloatVector.fromArray(S, gy, go + c0, m);
                                if (gb != null) g.add(FloatVector.fromArray(S, rowB, c0, m)).intoArray(rowB, c0, m);
                                if (gw == null) continue;
                                for (int ky = 0; ky < k; ky++) {
                                    int iy = oy + ky - p;
                                    if (iy < 0 || iy >= H) continue;
                                    for (int kx = 0; kx < k; kx++) {
                                        int ix = ox + kx - p;
                                        if (ix < 0 || ix >= W) continue;
                                        int a = (ky * k + kx) * chunk + c0;
                                        g.fma(FloatVector.fromArray(S, x, xOff + ((b * H + iy) * W + ix) * C + cBeg + c0, m),
                                                FloatVector.fromArray(S, rowAcc, a, m)).intoArray(rowAcc, a, m);
                                    }
                                }
                            }
                        }
                        for (int j = 0; j < k * k * chunk; j++) acc[j] += rowAcc[j];
                        for (int j = 0; j < chunk; j++) accB[j] += rowB[j];
                    }
                for (int c = 0; c < cw; c++) {
                    if (gw != null) for (int j = 0; j < k * k; j++) gw[gwOff + (cBeg + c) * k * k + j] += (float) acc[j * chunk + c];
                    if (gb != null) gb[gbOff + cBeg + c] += (float) accB[c];
                }
            }
        });
    }

    /** Channels-last direct-loop forward in double: the same reference with [B, H, W, C] strides. */
    public static void referenceNHWC(int B, int H, int W, int C, int k, int p, double[] x, int xOff, double[] w, int wOff,
                                     double[] bias, int bOff, double[] y, int yOff) {
        int OH = outSize(H, k, p), OW = outSize(W, k, p);
        referenceStrided(B, C, H, W, k, p, x, xOff, new int[]{H * W * C, 1, W * C, C}, w, wOff, bias, bOff,
                y, yOff, new int[]{OH * OW * C, 1, OW * C, C});
    }

    /** Channels-last direct-loop backward in double: gx WRITTEN, gw / gb ACCUMULATED (each nullable). */
    public static void referenceBackwardNHWC(int B, int H, int W, int C, int k, int p, double[] x, int xOff, double[] w, int wOff,
                                             double[] gy, int gyOff, double[] gx, int gxOff, double[] gw, int gwOff,
                                             double[] gb, int gbOff) {
        int OH = outSize(H, k, p), OW = outSize(W, k, p);
        if (gx != null) Arrays.fill(gx, gxOff, gxOff + B * H * W * C, 0.0);
        referenceBackwardStrided(B, C, H, W, k, p, x, xOff, new int[]{H * W * C, 1, W * C, C}, w, wOff,
                gy, gyOff, new int[]{OH * OW * C, 1, OW * C, C}, gx, gxOff, gw, gwOff, gb, gbOff);
    }
}
