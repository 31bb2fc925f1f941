package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Gram anchoring (spec §3.6, image level, normalised, all tokens, no clamping): for each image n with
 * student patches S_n [P, D] and Gram-teacher patches G_n [P, D],
 * {@code L = mean_{n,i,j} ((Ŝ Ŝᵀ)_ij − (Ĝ Ĝᵀ)_ij)²} with {@code Ŝ, Ĝ} the rows L2-normalised
 * ({@code x / max(‖x‖, eps)}, eps = 1e-12 as {@code F.normalize}).
 *
 * <p>The fast kernels work on {@link #TILE_I}×{@link #TILE_J} tiles of the Gram difference
 * {@code E = ŜŜᵀ − ĜĜᵀ} (two small GEMMs per tile), so the P×P matrix is never stored whole; the
 * backward recomputes the tiles: {@code ∂L/∂Ŝ = 4c·E·Ŝ}, {@code ∂L/∂Ĝ = −4c·E·Ĝ} with {@code c = gL/(N·P²)}
 * (E is symmetric). Row normalisation and its backward are public here since KoLeo uses them too.
 */
public final class GramKernels {
    private GramKernels() {}

    /** {@code F.normalize}'s default eps. */
    public static final double EPS = 1e-12;
    static final int TILE_I = 64;
    static final int TILE_J = 256;

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    // ------------------------------------------------------------------ row L2 normalisation

    /** {@code xhat[r] = x[r] / max(‖x[r]‖, eps)} for {@code rows} rows of length D; norms[r] = ‖x[r]‖. */
    public static void l2NormalizeRows(float[] x, int xOff, int rows, int D, double eps, float[] xhat, int hOff, float[] norms) {
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(1, D)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = xOff + r * D, h = hOff + r * D;
                float n = (float) Math.sqrt(dot(x, o, x, o, D));
                norms[r] = n;
                float inv = (float) (1.0 / Math.max(n, eps));
                FloatVector iv = FloatVector.broadcast(F, inv);
                int k = 0;
                for (; k <= D - L; k += L) FloatVector.fromArray(F, x, o + k).mul(iv).intoArray(xhat, h + k);
                for (; k < D; k++) xhat[h + k] = x[o + k] * inv;
            }
        });
    }

    /**
     * In place: {@code g} holds ∂L/∂x̂ on entry and ∂L/∂x on return:
     * {@code (g − x̂ (x̂·g)) / ‖x‖}, or {@code g / eps} where the norm was clamped.
     */
    public static void l2NormalizeRowsBackward(float[] xhat, int hOff, float[] norms, int rows, int D, double eps, float[] g, int gOff) {
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(1, D)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int h = hOff + r * D, o = gOff + r * D;
                float n = norms[r];
                if (n > eps) {
                    float p = dot(xhat, h, g, o, D);
                    float inv = 1f / n;
                    FloatVector pv = FloatVector.broadcast(F, -p), iv = FloatVector.broadcast(F, inv);
                    int k = 0;
                    for (; k <= D - L; k += L)
                        FloatVector.fromArray(F, xhat, h + k).fma(pv, FloatVector.fromArray(F, g, o + k)).mul(iv).intoArray(g, o + k);
                    for (; k < D; k++) g[o + k] = (g[o + k] - xhat[h + k] * p) * inv;
                } else {
                    float inv = (float) (1.0 / eps);
                    for (int k = 0; k < D; k++) g[o + k] *= inv;
                }
            }
        });
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (; k <= n - L; k += L) acc = FloatVector.fromArray(F, a, ao + k).fma(FloatVector.fromArray(F, b, bo + k), acc);
        float s = VectorMath.sum(acc);
        for (; k < n; k++) s += a[ao + k] * b[bo + k];
        return s;
    }

    // ------------------------------------------------------------------ Gram loss on normalised rows

    /**
     * Loss from already-normalised rows {@code sHat, tHat} [N, P, D] (contiguous from the offsets):
     * {@code Σ_{n,i,j} E_ij² / (N·P·P)}. Accumulated in double per tile, summed in a fixed order.
     */
    public static double loss(float[] sHat, int sOff, float[] tHat, int tOff, int N, int P, int D) {
        int tilesI = (P + TILE_I - 1) / TILE_I;
        int tasks = N * tilesI;
        double[] partial = new double[tasks];
        Parallel.forRange(tasks, 1, (t0, t1) -> {
            float[] cs = new float[TILE_I * TILE_J], ct = new float[TILE_I * TILE_J];
            for (int task = t0; task < t1; task++) {
                int n = task / tilesI, i0 = (task % tilesI) * TILE_I, ti = Math.min(TILE_I, P - i0);
                int base = n * P * D;
                double acc = 0;
                for (int j0 = 0; j0 < P; j0 += TILE_J) {
                    int tj = Math.min(TILE_J, P - j0);
                    tile(sHat, sOff + base, tHat, tOff + base, i0, ti, j0, tj, D, cs, ct);
                    for (int q = 0; q < ti * tj; q++) { float e = cs[q] - ct[q]; acc += e * e; }
                }
                partial[task] = acc;
            }
        });
        double s = 0;
        for (double v : partial) s += v;
        return s / ((double) N * P * P);
    }

    /** cs = Ŝ_I Ŝ_Jᵀ − Ĝ_I Ĝ_Jᵀ (in cs; ct is scratch), [ti, tj] with leading dim tj. */
    private static void tile(float[] s, int so, float[] t, int to, int i0, int ti, int j0, int tj, int D, float[] cs, float[] ct) {
        GemmKernels.sgemm(false, true, ti, tj, D, 1f, s, so + i0 * D, D, s, so + j0 * D, D, 0f, cs, 0, tj);
        GemmKernels.sgemm(false, true, ti, tj, D, 1f, t, to + i0 * D, D, t, to + j0 * D, D, 0f, ct, 0, tj);
    }

    /**
     * Gradients w.r.t. the normalised rows: {@code gS += 4c·E·Ŝ} and (when gT is non-null)
     * {@code gT += −4c·E·Ĝ}, c = gLoss / (N·P·P). Accumulates into gS / gT (zero them first).
     */
    public static void lossBackward(float gLoss, float[] sHat, int sOff, float[] tHat, int tOff, int N, int P, int D,
                                    float[] gS, int gsOff, float[] gT, int gtOff) {
        int tilesI = (P + TILE_I - 1) / TILE_I;
        int tasks = N * tilesI;
        float c4 = (float) (4.0 * gLoss / ((double) N * P * P));
        Parallel.forRange(tasks, 1, (t0, t1) -> {
            float[] cs = new float[TILE_I * TILE_J], ct = new float[TILE_I * TILE_J];
            for (int task = t0; task < t1; task++) {
                int n = task / tilesI, i0 = (task % tilesI) * TILE_I, ti = Math.min(TILE_I, P - i0);
                int base = n * P * D;
                for (int j0 = 0; j0 < P; j0 += TILE_J) {
                    int tj = Math.min(TILE_J, P - j0);
                    tile(sHat, sOff + base, tHat, tOff + base, i0, ti, j0, tj, D, cs, ct);
                    int q = 0;
                    for (; q <= ti * tj - L; q += L)
                        FloatVector.fromArray(F, cs, q).sub(FloatVector.fromArray(F, ct, q)).intoArray(cs, q);
                    for (; q < ti * tj; q++) cs[q] -= ct[q];
                    GemmKernels.sgemm(false, false, ti, D, tj, c4, cs, 0, tj, sHat, sOff + base + j0 * D, D,
                            1f, gS, gsOff + base + i0 * D, D);
                    if (gT != null)
                        GemmKernels.sgemm(false, false, ti, D, tj, -c4, cs, 0, tj, tHat, tOff + base + j0 * D, D,
                                1f, gT, gtOff + base + i0 * D, D);
                }
            }
        });
    }

    /**
     * Whole fast forward from raw features: fills {@code sHat, tHat} ([N·P·D]) and norms ([N·P]) for the
     * backward and returns the loss.
     */
    public static double forward(float[] s, int sOff, float[] t, int tOff, int N, int P, int D,
                                 float[] sHat, float[] sNorm, float[] tHat, float[] tNorm) {
        l2NormalizeRows(s, sOff, N * P, D, EPS, sHat, 0, sNorm);
        l2NormalizeRows(t, tOff, N * P, D, EPS, tHat, 0, tNorm);
        return loss(sHat, 0, tHat, 0, N, P, D);
    }

    /** Whole fast backward: writes ∂L/∂s into gS and, when gT is non-null, ∂L/∂t into gT ([N·P·D], from 0). */
    public static void backward(float gLoss, float[] sHat, float[] sNorm, float[] tHat, float[] tNorm, int N, int P, int D,
                                float[] gS, float[] gT) {
        java.util.Arrays.fill(gS, 0, N * P * D, 0f);
        if (gT != null) java.util.Arrays.fill(gT, 0, N * P * D, 0f);
        lossBackward(gLoss, sHat, 0, tHat, 0, N, P, D, gS, 0, gT, 0);
        l2NormalizeRowsBackward(sHat, 0, sNorm, N * P, D, EPS, gS, 0);
        if (gT != null) l2NormalizeRowsBackward(tHat, 0, tNorm, N * P, D, EPS, gT, 0);
    }

    // ------------------------------------------------------------------ double reference

    public static void referenceL2NormalizeRows(double[] x, int xOff, int rows, int D, double eps, double[] xhat, int hOff, double[] norms) {
        for (int r = 0; r < rows; r++) {
            double n = 0;
            for (int k = 0; k < D; k++) n += x[xOff + r * D + k] * x[xOff + r * D + k];
            n = Math.sqrt(n);
            norms[r] = n;
            double d = Math.max(n, eps);
            for (int k = 0; k < D; k++) xhat[hOff + r * D + k] = x[xOff + r * D + k] / d;
        }
    }

    public static void referenceL2NormalizeRowsBackward(double[] xhat, int hOff, double[] norms, int rows, int D, double eps, double[] g, int gOff) {
        for (int r = 0; r < rows; r++) {
            int h = hOff + r * D, o = gOff + r * D;
            if (norms[r] > eps) {
                double p = 0;
                for (int k = 0; k < D; k++) p += xhat[h + k] * g[o + k];
                for (int k = 0; k < D; k++) g[o + k] = (g[o + k] - xhat[h + k] * p) / norms[r];
            } else {
                for (int k = 0; k < D; k++) g[o + k] /= eps;
            }
        }
    }

    /** Reference forward: loss of raw s, t [N, P, D]. */
    public static double referenceForward(double[] s, int sOff, double[] t, int tOff, int N, int P, int D) {
        double[] sh = new double[N * P * D], th = new double[N * P * D], ns = new double[N * P], nt = new double[N * P];
        referenceL2NormalizeRows(s, sOff, N * P, D, EPS, sh, 0, ns);
        referenceL2NormalizeRows(t, tOff, N * P, D, EPS, th, 0, nt);
        double acc = 0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < P; i++)
                for (int j = 0; j < P; j++) {
                    double e = refE(sh, th, n, i, j, P, D);
                    acc += e * e;
                }
        return acc / ((double) N * P * P);
    }

    private static double refE(double[] sh, double[] th, int n, int i, int j, int P, int D) {
        int a = (n * P + i) * D, b = (n * P + j) * D;
        double ds = 0, dt = 0;
        for (int k = 0; k < D; k++) { ds += sh[a + k] * sh[b + k]; dt += th[a + k] * th[b + k]; }
        return ds - dt;
    }

    /** Reference backward: ∂L/∂s into gS and (non-null) ∂L/∂t into gT, both [N·P·D] from 0. */
    public static void referenceBackward(double gLoss, double[] s, int sOff, double[] t, int tOff, int N, int P, int D,
                                         double[] gS, double[] gT) {
        double[] sh = new double[N * P * D], th = new double[N * P * D], ns = new double[N * P], nt = new double[N * P];
        referenceL2NormalizeRows(s, sOff, N * P, D, EPS, sh, 0, ns);
        referenceL2NormalizeRows(t, tOff, N * P, D, EPS, th, 0, nt);
        java.util.Arrays.fill(gS, 0, N * P * D, 0);
        if (gT != null) java.util.Arrays.fill(gT, 0, N * P * D, 0);
        double c4 = 4.0 * gLoss / ((double) N * P * P);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < P; i++)
                for (int j = 0; j < P; j++) {
                    double e = c4 * refE(sh, th, n, i, j, P, D);
                    int a = (n * P + i) * D, b = (n * P + j) * D;
                    for (int k = 0; k < D; k++) {
                        gS[a + k] += e * sh[b + k];
                        if (gT != null) gT[a + k] -= e * th[b + k];
                    }
                }
        referenceL2NormalizeRowsBackward(sh, 0, ns, N * P, D, EPS, gS, 0);
        if (gT != null) referenceL2NormalizeRowsBackward(th, 0, nt, N * P, D, EPS, gT, 0);
    }
}
