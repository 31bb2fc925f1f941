package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Dense 2-D convolution, NCHW, groups = 1, weight {@code [O, C, kh, kw]}, via im2col + {@link GemmKernels#sgemm}.
 * Output size {@code floor((H + 2p − k)/s) + 1} (remainder pixels ignored, as PyTorch).
 *
 * <p>im2col layout: {@code col[(c·kh + ky)·kw + kx, oy·OW + ox]} (rows = channel-major patch index,
 * matching the weight layout). Fast path when stride == kernel and padding == 0 (ViT / ConvNeXt
 * patchify stems): the patches are a pure gather into a token-major {@code [OH·OW, C·kh·kw]} matrix
 * of contiguous {@code kw}-runs.
 */
public final class ConvKernels {
    private ConvKernels() {}

    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = S.length();

    /** floor((in + 2p − k)/s) + 1. */
    public static int outSize(int in, int k, int s, int p) {
        int o = Math.floorDiv(in + 2 * p - k, s) + 1;
        if (o <= 0) throw new IllegalArgumentException("conv output size <= 0 (in=" + in + ", k=" + k + ", s=" + s + ", p=" + p + ")");
        return o;
    }

    private static boolean isPatchify(int kh, int kw, int sh, int sw, int ph, int pw) {
        return sh == kh && sw == kw && ph == 0 && pw == 0;
    }

    // ------------------------------------------------------------------ im2col / col2im

    /** One image {@code x[C, H, W]} → {@code col[C·kh·kw, OH·OW]} (zero where the window hits padding). */
    public static void im2col(int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                              float[] x, int xOff, float[] col, int colOff) {
        final int OH = outSize(H, kh, sh, ph), OW = outSize(W, kw, sw, pw), rows = C * kh * kw;
        Parallel.forRange(rows, Math.max(1, (1 << 15) / (OH * OW)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int c = r / (kh * kw), ky = (r / kw) % kh, kx = r % kw;
                int ob = colOff + r * OH * OW;
                // ox range with 0 <= ox*sw - pw + kx < W
                int oxLo = Math.max(0, ceilDiv(pw - kx, sw)), oxHi = Math.min(OW, ceilDiv(W + pw - kx, sw));
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * sh - ph + ky, o = ob + oy * OW;
                    if (iy < 0 || iy >= H || oxLo >= oxHi) { Arrays.fill(col, o, o + OW, 0f); continue; }
                    int xb = xOff + (c * H + iy) * W - pw + kx;
                    for (int ox = 0; ox < oxLo; ox++) col[o + ox] = 0f;
                    if (sw == 1) System.arraycopy(x, xb + oxLo, col, o + oxLo, oxHi - oxLo);
                    else for (int ox = oxLo; ox < oxHi; ox++) col[o + ox] = x[xb + ox * sw];
                    for (int ox = oxHi; ox < OW; ox++) col[o + ox] = 0f;
                }
            }
        });
    }

    /** Adjoint of {@link #im2col}: {@code x[C, H, W] += scatter(col)} (accumulating). */
    public static void col2im(int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                              float[] col, int colOff, float[] x, int xOff) {
        final int OH = outSize(H, kh, sh, ph), OW = outSize(W, kw, sw, pw);
        Parallel.forRange(C, Math.max(1, (1 << 15) / (OH * OW * kh * kw)), (c0, c1) -> {
            for (int c = c0; c < c1; c++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        int r = (c * kh + ky) * kw + kx, ob = colOff + r * OH * OW;
                        int oxLo = Math.max(0, ceilDiv(pw - kx, sw)), oxHi = Math.min(OW, ceilDiv(W + pw - kx, sw));
                        for (int oy = 0; oy < OH; oy++) {
                            int iy = oy * sh - ph + ky;
                            if (iy < 0 || iy >= H) continue;
                            int xb = xOff + (c * H + iy) * W - pw + kx, o = ob + oy * OW;
                            if (sw == 1) {
                                int n = oxHi - oxLo, i = 0;
                                for (int ub = n > 0 ? S.loopBound(n) : 0; i < ub; i += L)
                                    FloatVector.fromArray(S, x, xb + oxLo + i).add(FloatVector.fromArray(S, col, o + oxLo + i))
                                            .intoArray(x, xb + oxLo + i);
                                for (; i < n; i++) x[xb + oxLo + i] += col[o + oxLo + i];
                            } else {
                                for (int ox = oxLo; ox < oxHi; ox++) x[xb + ox * sw] += col[o + ox];
                            }
                        }
                    }
        });
    }

    private static int ceilDiv(int a, int b) { return -Math.floorDiv(-a, b); }

    /** Patchify gather: {@code colT[oy·OW + ox, (c·kh + ky)·kw + kx] = x[c, oy·kh + ky, ox·kw + kx]}. */
    private static void patchGather(int C, int H, int W, int kh, int kw, float[] x, int xOff, float[] colT) {
        final int OH = H / kh, OW = W / kw, K = C * kh * kw;
        Parallel.forRange(OH * OW, Math.max(1, (1 << 14) / K), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int oy = t / OW, ox = t % OW, d = t * K;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < kh; ky++, d += kw)
                        System.arraycopy(x, xOff + (c * H + oy * kh + ky) * W + ox * kw, colT, d, kw);
            }
        });
    }

    /** Adjoint of {@link #patchGather} (writes; the patches do not overlap; remainder pixels untouched). */
    private static void patchScatter(int C, int H, int W, int kh, int kw, float[] colT, float[] x, int xOff) {
        final int OH = H / kh, OW = W / kw, K = C * kh * kw;
        Parallel.forRange(OH * OW, Math.max(1, (1 << 14) / K), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int oy = t / OW, ox = t % OW, d = t * K;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < kh; ky++, d += kw)
                        System.arraycopy(colT, d, x, xOff + (c * H + oy * kh + ky) * W + ox * kw, kw);
            }
        });
    }

    // ------------------------------------------------------------------ forward / backward (float)

    /** y[B, O, OH, OW] = conv(x[B, C, H, W], w[O, C, kh, kw]) + bias[O] (bias nullable). */
    public static void conv2dForward(int B, int C, int H, int W, int O, int kh, int kw, int sh, int sw, int ph, int pw,
                                     float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                                     float[] y, int yOff) {
        final int OH = outSize(H, kh, sh, ph), OW = outSize(W, kw, sw, pw), T = OH * OW, K = C * kh * kw;
        final boolean patch = isPatchify(kh, kw, sh, sw, ph, pw);
        float[] col = new float[K * T];
        for (int b = 0; b < B; b++) {
            int xb = xOff + b * C * H * W, yb = yOff + b * O * T;
            if (patch) {
                patchGather(C, H, W, kh, kw, x, xb, col);
                GemmKernels.sgemm(false, true, O, T, K, 1f, w, wOff, K, col, 0, K, 0f, y, yb, T);
            } else {
                im2col(C, H, W, kh, kw, sh, sw, ph, pw, x, xb, col, 0);
                GemmKernels.sgemm(false, false, O, T, K, 1f, w, wOff, K, col, 0, T, 0f, y, yb, T);
            }
            if (bias != null) {
                for (int o = 0; o < O; o++) ElementwiseKernels.addScalar(T, bias[biasOff + o], y, yb + o * T, y, yb + o * T);
            }
        }
    }

    /** Convenience overload with zero weight / bias / output offsets. */
    public static void conv2dForward(int B, int C, int H, int W, int O, int kh, int kw, int sh, int sw, int ph, int pw,
                                     float[] x, int xOff, float[] w, float[] bias, float[] y) {
        conv2dForward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, xOff, w, 0, bias, 0, y, 0);
    }

    /**
     * Backward of {@link #conv2dForward}: {@code gx} WRITTEN (nullable to skip), {@code gw} ACCUMULATED
     * (+=), {@code gbias} ACCUMULATED (+=, nullable).
     */
    public static void conv2dBackward(int B, int C, int H, int W, int O, int kh, int kw, int sh, int sw, int ph, int pw,
                                      float[] x, int xOff, float[] w, int wOff, float[] gy, int gyOff,
                                      float[] gx, int gxOff, float[] gw, int gwOff, float[] gbias, int gbOff) {
        final int OH = outSize(H, kh, sh, ph), OW = outSize(W, kw, sw, pw), T = OH * OW, K = C * kh * kw;
        final boolean patch = isPatchify(kh, kw, sh, sw, ph, pw);
        float[] col = new float[K * T];
        float[] gcol = gx != null ? new float[K * T] : null;
        for (int b = 0; b < B; b++) {
            int xb = xOff + b * C * H * W, gyb = gyOff + b * O * T;
            if (patch) {
                if (gw != null) {
                    patchGather(C, H, W, kh, kw, x, xb, col);
                    GemmKernels.sgemm(false, false, O, K, T, 1f, gy, gyb, T, col, 0, K, 1f, gw, gwOff, K);
                }
                if (gx != null) {
                    GemmKernels.sgemm(true, false, T, K, O, 1f, gy, gyb, T, w, wOff, K, 0f, gcol, 0, K);
                    int gxb = gxOff + b * C * H * W;
                    if (H % kh != 0 || W % kw != 0) Arrays.fill(gx, gxb, gxb + C * H * W, 0f);
                    patchScatter(C, H, W, kh, kw, gcol, gx, gxb);
                }
            } else {
                if (gw != null) {
                    im2col(C, H, W, kh, kw, sh, sw, ph, pw, x, xb, col, 0);
                    GemmKernels.sgemm(false, true, O, K, T, 1f, gy, gyb, T, col, 0, T, 1f, gw, gwOff, K);
                }
                if (gx != null) {
                    GemmKernels.sgemm(true, false, K, T, O, 1f, w, wOff, K, gy, gyb, T, 0f, gcol, 0, T);
                    int gxb = gxOff + b * C * H * W;
                    Arrays.fill(gx, gxb, gxb + C * H * W, 0f);
                    col2im(C, H, W, kh, kw, sh, sw, ph, pw, gcol, 0, gx, gxb);
                }
            }
            if (gbias != null) {
                for (int o = 0; o < O; o++) gbias[gbOff + o] += (float) ReduceKernels.sumAll(T, gy, gyb + o * T);
            }
        }
    }

    // ------------------------------------------------------------------ double references (direct loops)

    /** Direct-loop forward in double (reference / float64 backend). */
    public static void reference(int B, int C, int H, int W, int O, int kh, int kw, int sh, int sw, int ph, int pw,
                                 double[] x, int xOff, double[] w, int wOff, double[] bias, int biasOff,
                                 double[] y, int yOff) {
        final int OH = outSize(H, kh, sh, ph), OW = outSize(W, kw, sw, pw);
        Parallel.forRange(B * O, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int b = t / O, o = t % O;
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        double s = bias != null ? bias[biasOff + o] : 0.0;
                        for (int c = 0; c < C; c++)
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * sh - ph + ky;
                                if (iy < 0 || iy >= H) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = ox * sw - pw + kx;
                                    if (ix < 0 || ix >= W) continue;
                                    s += w[wOff + ((o * C + c) * kh + ky) * kw + kx] * x[xOff + ((b * C + c) * H + iy) * W + ix];
                                }
                            }
                        y[yOff + ((b * O + o) * OH + oy) * OW + ox] = s;
                    }
            }
        });
    }

    /** Direct-loop backward in double: gx WRITTEN (nullable), gw and gbias ACCUMULATED (nullable). */
    public static void referenceBackward(int B, int C, int H, int W, int O, int kh, int kw, int sh, int sw, int ph, int pw,
                                         double[] x, int xOff, double[] w, int wOff, double[] gy, int gyOff,
                                         double[] gx, int gxOff, double[] gw, int gwOff, double[] gbias, int gbOff) {
        final int OH = outSize(H, kh, sh, ph), OW = outSize(W, kw, sw, pw);
        if (gx != null) Arrays.fill(gx, gxOff, gxOff + B * C * H * W, 0.0);
        for (int b = 0; b < B; b++)
            for (int o = 0; o < O; o++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        double g = gy[gyOff + ((b * O + o) * OH + oy) * OW + ox];
                        if (gbias != null) gbias[gbOff + o] += g;
                        for (int c = 0; c < C; c++)
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * sh - ph + ky;
                                if (iy < 0 || iy >= H) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = ox * sw - pw + kx;
                                    if (ix < 0 || ix >= W) continue;
                                    int wi = ((o * C + c) * kh + ky) * kw + kx;
                                    int xi = ((b * C + c) * H + iy) * W + ix;
                                    if (gw != null) gw[gwOff + wi] += g * x[xOff + xi];
                                    if (gx != null) gx[gxOff + xi] += g * w[wOff + wi];
                                }
                            }
                    }
    }
}
