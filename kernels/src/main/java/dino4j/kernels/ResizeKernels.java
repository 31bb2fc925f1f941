package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * 2-D resize of planes {@code [P, H, W] → [P, OH, OW]} with PyTorch {@code F.interpolate} semantics
 * (align_corners = False, scale = in/out):
 * <ul>
 *   <li>BILINEAR, no antialias: source {@code max((d+0.5)·scale − 0.5, 0)}, neighbour clamped at the
 *       last pixel (upsample_bilinear2d).</li>
 *   <li>BICUBIC, no antialias: source {@code (d+0.5)·scale − 0.5} (unclamped), Keys cubic with
 *       A = −0.75, the four tap indices clamped to the border (upsample_bicubic2d).</li>
 *   <li>antialias = true (PyTorch's {@code _upsample_*_aa}, PIL-style, used whatever the direction):
 *       centre {@code scale·(d+0.5)}, support {@code (interp/2)·max(scale,1)} (interp = 2 bilinear,
 *       4 bicubic), taps {@code [max(int(centre−support+0.5),0), min(int(centre+support+0.5), in))},
 *       weight {@code filter((j − centre + 0.5)/max(scale,1))} normalised to sum 1; the bicubic filter
 *       uses a = −0.5 as PyTorch / PIL do on this path. For bilinear upsampling this equals the
 *       non-antialiased result.</li>
 * </ul>
 * Separable: per-axis weight lists (window start + weights per output index) built once in double,
 * applied along W then H. {@code resizeBackward} is the exact adjoint (transposed weights).
 */
public final class ResizeKernels {
    private ResizeKernels() {}

    public enum Mode { BILINEAR, BICUBIC }

    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = S.length();

    /** Weights of one axis: output d reads input {@code start[d] + j} with weight {@code w[d·maxLen + j]}, j < len[d]. */
    public static final class AxisWeights {
        public final int inSize, outSize, maxLen;
        public final int[] start, len;
        public final double[] w;
        final float[] wf;

        AxisWeights(int inSize, int outSize, int maxLen, int[] start, int[] len, double[] w) {
            this.inSize = inSize; this.outSize = outSize; this.maxLen = maxLen;
            this.start = start; this.len = len; this.w = w;
            this.wf = new float[w.length];
            for (int i = 0; i < w.length; i++) wf[i] = (float) w[i];
        }
    }

    static double cubic1(double x, double a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }          // |x| <= 1
    static double cubic2(double x, double a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }    // 1 < |x| < 2

    private static double aaFilter(Mode mode, double x) {
        x = Math.abs(x);
        if (mode == Mode.BILINEAR) return x < 1.0 ? 1.0 - x : 0.0;
        final double a = -0.5;
        if (x < 1.0) return cubic1(x, a);
        if (x < 2.0) return cubic2(x, a);
        return 0.0;
    }

    /** Builds the per-axis weights for {@code in → out} (see the class comment for the semantics). */
    public static AxisWeights axisWeights(Mode mode, boolean antialias, int in, int out) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("sizes must be positive: " + in + " -> " + out);
        final double scale = (double) in / out;
        int[] start = new int[out], len = new int[out];
        if (antialias) {
            double interp = mode == Mode.BILINEAR ? 2 : 4;
            double support = scale >= 1.0 ? interp * 0.5 * scale : interp * 0.5;
            double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
            int maxLen = (int) Math.ceil(support) * 2 + 1;
            double[] w = new double[out * maxLen];
            for (int d = 0; d < out; d++) {
                double center = scale * (d + 0.5);
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xsize = Math.min((int) (center + support + 0.5), in) - xmin;
                xsize = Math.max(0, Math.min(xsize, maxLen));
                double total = 0;
                for (int j = 0; j < xsize; j++) {
                    double v = aaFilter(mode, (j + xmin - center + 0.5) * invscale);
                    w[d * maxLen + j] = v;
                    total += v;
                }
                if (total != 0.0) for (int j = 0; j < xsize; j++) w[d * maxLen + j] /= total;
                start[d] = xmin; len[d] = xsize;
            }
            return new AxisWeights(in, out, maxLen, start, len, w);
        }
        if (mode == Mode.BILINEAR) {
            double[] w = new double[out * 2];
            for (int d = 0; d < out; d++) {
                double real = Math.max(scale * (d + 0.5) - 0.5, 0.0);
                int i0 = Math.min((int) real, in - 1);
                double l1 = Math.min(Math.max(real - i0, 0.0), 1.0);
                start[d] = i0;
                if (i0 < in - 1) { len[d] = 2; w[2 * d] = 1.0 - l1; w[2 * d + 1] = l1; }
                else { len[d] = 1; w[2 * d] = 1.0; }
            }
            return new AxisWeights(in, out, 2, start, len, w);
        }
        // bicubic, A = -0.75, clamped tap indices merged into a contiguous window
        final double A = -0.75;
        double[] w = new double[out * 4];
        for (int d = 0; d < out; d++) {
            double real = scale * (d + 0.5) - 0.5;
            int ix = (int) Math.floor(real);
            double t = real - ix;
            double[] c = {cubic2(t + 1, A), cubic1(t, A), cubic1(1 - t, A), cubic2(2 - t, A)};
            int lo = clamp(ix - 1, in), hi = clamp(ix + 2, in);
            start[d] = lo; len[d] = hi - lo + 1;
            for (int j = 0; j < 4; j++) w[d * 4 + clamp(ix - 1 + j, in) - lo] += c[j];
        }
        return new AxisWeights(in, out, 4, start, len, w);
    }

    private static int clamp(int i, int n) { return Math.min(Math.max(i, 0), n - 1); }

    // ------------------------------------------------------------------ float

    /** y[P, OH, OW] = resize(x[P, H, W]). */
    public static void resize(Mode mode, boolean antialias, int P, int H, int W, int OH, int OW,
                              float[] x, int xOff, float[] y, int yOff) {
        AxisWeights aw = axisWeights(mode, antialias, W, OW), ah = axisWeights(mode, antialias, H, OH);
        Parallel.forRange(P, Math.max(1, (1 << 15) / Math.max(1, (H + OH) * OW)), (p0, p1) -> {
            float[] tmp = new float[H * OW];
            for (int p = p0; p < p1; p++) {
                int xb = xOff + p * H * W, yb = yOff + p * OH * OW;
                // along W: tmp[h, ox] = Σ_j ww·x[h, start+j]
                for (int h = 0; h < H; h++) {
                    int xr = xb + h * W, tr = h * OW;
                    for (int ox = 0; ox < OW; ox++) {
                        int s = xr + aw.start[ox], wb = ox * aw.maxLen, n = aw.len[ox];
                        float acc = 0f;
                        for (int j = 0; j < n; j++) acc += aw.wf[wb + j] * x[s + j];
                        tmp[tr + ox] = acc;
                    }
                }
                // along H: y[oy, :] = Σ_j wh·tmp[start+j, :]
                for (int oy = 0; oy < OH; oy++) {
                    int yr = yb + oy * OW, n = ah.len[oy], wb = oy * ah.maxLen, s = ah.start[oy];
                    Arrays.fill(y, yr, yr + OW, 0f);
                    for (int j = 0; j < n; j++) {
                        float wv = ah.wf[wb + j];
                        int tr = (s + j) * OW, i = 0;
                        FloatVector vw = FloatVector.broadcast(S, wv);
                        for (int ub = S.loopBound(OW); i < ub; i += L)
                            FloatVector.fromArray(S, tmp, tr + i).fma(vw, FloatVector.fromArray(S, y, yr + i)).intoArray(y, yr + i);
                        for (; i < OW; i++) y[yr + i] += wv * tmp[tr + i];
                    }
                }
            }
        });
    }

    /** Exact adjoint of {@link #resize}: gx[P, H, W] (WRITTEN) = Aᵀ gy[P, OH, OW]. */
    public static void resizeBackward(Mode mode, boolean antialias, int P, int H, int W, int OH, int OW,
                                      float[] gy, int gyOff, float[] gx, int gxOff) {
        AxisWeights aw = axisWeights(mode, antialias, W, OW), ah = axisWeights(mode, antialias, H, OH);
        Parallel.forRange(P, Math.max(1, (1 << 15) / Math.max(1, (H + OH) * OW)), (p0, p1) -> {
            float[] tmp = new float[H * OW];
            for (int p = p0; p < p1; p++) {
                int gyb = gyOff + p * OH * OW, gxb = gxOff + p * H * W;
                Arrays.fill(tmp, 0f);
                for (int oy = 0; oy < OH; oy++) {
                    int gr = gyb + oy * OW, n = ah.len[oy], wb = oy * ah.maxLen, s = ah.start[oy];
                    for (int j = 0; j < n; j++) {
                        float wv = ah.wf[wb + j];
                        int tr = (s + j) * OW, i = 0;
                        FloatVector vw = FloatVector.broadcast(S, wv);
                        for (int ub = S.loopBound(OW); i < ub; i += L)
                            FloatVector.fromArray(S, gy, gr + i).fma(vw, FloatVector.fromArray(S, tmp, tr + i)).intoArray(tmp, tr + i);
                        for (; i < OW; i++) tmp[tr + i] += wv * gy[gr + i];
                    }
                }
                Arrays.fill(gx, gxb, gxb + H * W, 0f);
                for (int h = 0; h < H; h++) {
                    int xr = gxb + h * W, tr = h * OW;
                    for (int ox = 0; ox < OW; ox++) {
                        int s = xr + aw.start[ox], wb = ox * aw.maxLen, n = aw.len[ox];
                        float g = tmp[tr + ox];
                        for (int j = 0; j < n; j++) gx[s + j] += aw.wf[wb + j] * g;
                    }
                }
            }
        });
    }

    // ------------------------------------------------------------------ double (reference / float64 backend)

    /** Double twin of {@link #resize(Mode, boolean, int, int, int, int, int, float[], int, float[], int)}. */
    public static void resize(Mode mode, boolean antialias, int P, int H, int W, int OH, int OW,
                              double[] x, int xOff, double[] y, int yOff) {
        AxisWeights aw = axisWeights(mode, antialias, W, OW), ah = axisWeights(mode, antialias, H, OH);
        double[] tmp = new double[H * OW];
        for (int p = 0; p < P; p++) {
            int xb = xOff + p * H * W, yb = yOff + p * OH * OW;
            for (int h = 0; h < H; h++)
                for (int ox = 0; ox < OW; ox++) {
                    double acc = 0;
                    for (int j = 0; j < aw.len[ox]; j++) acc += aw.w[ox * aw.maxLen + j] * x[xb + h * W + aw.start[ox] + j];
                    tmp[h * OW + ox] = acc;
                }
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double acc = 0;
                    for (int j = 0; j < ah.len[oy]; j++) acc += ah.w[oy * ah.maxLen + j] * tmp[(ah.start[oy] + j) * OW + ox];
                    y[yb + oy * OW + ox] = acc;
                }
        }
    }

    /** Double twin of {@link #resizeBackward(Mode, boolean, int, int, int, int, int, float[], int, float[], int)}. */
    public static void resizeBackward(Mode mode, boolean antialias, int P, int H, int W, int OH, int OW,
                                      double[] gy, int gyOff, double[] gx, int gxOff) {
        AxisWeights aw = axisWeights(mode, antialias, W, OW), ah = axisWeights(mode, antialias, H, OH);
        double[] tmp = new double[H * OW];
        for (int p = 0; p < P; p++) {
            int gyb = gyOff + p * OH * OW, gxb = gxOff + p * H * W;
            Arrays.fill(tmp, 0.0);
            for (int oy = 0; oy < OH; oy++)
                for (int j = 0; j < ah.len[oy]; j++) {
                    double wv = ah.w[oy * ah.maxLen + j];
                    int tr = (ah.start[oy] + j) * OW;
                    for (int ox = 0; ox < OW; ox++) tmp[tr + ox] += wv * gy[gyb + oy * OW + ox];
                }
            Arrays.fill(gx, gxb, gxb + H * W, 0.0);
            for (int h = 0; h < H; h++)
                for (int ox = 0; ox < OW; ox++)
                    for (int j = 0; j < aw.len[ox]; j++)
                        gx[gxb + h * W + aw.start[ox] + j] += aw.w[ox * aw.maxLen + j] * tmp[h * OW + ox];
        }
    }
}
