package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * KoLeo regulariser (spec §3.5) over one group of N features [N, D]:
 * {@code x̂ = x / max(‖x‖, 1e-8)}, {@code nn(i) = argmax_{j≠i} x̂_i·x̂_j} (no gradient through the
 * choice; the official code fills the diagonal of the dot matrix with −1, and the first maximum wins),
 * {@code d_i = ‖x̂_i − x̂_nn(i) + 1e-8‖} (PairwiseDistance adds eps to the difference),
 * {@code L = −mean_i log(d_i + 1e-8)}. The gradient flows to both x̂_i and x̂_nn(i).
 *
 * <p>State kept for the backward: x̂ [N·D], norms [N], nn [N], d [N].
 */
public final class KoLeoKernels {
    private KoLeoKernels() {}

    public static final double EPS = 1e-8;

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    /** Fast forward; fills xhat [N·D], norms [N], nn [N], dist [N] (from 0) and returns the loss. */
    public static double forward(float[] x, int xOff, int N, int D, float[] xhat, float[] norms, int[] nn, float[] dist) {
        if (N < 2) throw new IllegalArgumentException("koleo: need at least 2 samples, got " + N);
        GramKernels.l2NormalizeRows(x, xOff, N, D, EPS, xhat, 0, norms);
        final float eps = (float) EPS;
        Parallel.forRange(N, Math.max(1, 4096 / Math.max(1, N * D)), (i0, i1) -> {
            float[] u = new float[D];
            for (int i = i0; i < i1; i++) {
                int best = -1;
                float bv = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < N; j++) {
                    float v = j == i ? -1f : GramKernels.dot(xhat, i * D, xhat, j * D, D);
                    if (v > bv) { bv = v; best = j; }
                }
                nn[i] = best;
                int a = i * D, b = best * D;
                FloatVector ev = FloatVector.broadcast(F, eps);
                int k = 0;
                for (; k <= D - L; k += L)
                    FloatVector.fromArray(F, xhat, a + k).sub(FloatVector.fromArray(F, xhat, b + k)).add(ev).intoArray(u, k);
                for (; k < D; k++) u[k] = xhat[a + k] - xhat[b + k] + eps;
                dist[i] = (float) Math.sqrt(GramKernels.dot(u, 0, u, 0, D));
            }
        });
        double s = 0;
        for (int i = 0; i < N; i++) s += Math.log(dist[i] + EPS);
        return -s / N;
    }

    /** Fast backward: ∂L/∂x into gx [N·D] at gxOff (overwritten), for an upstream gradient gLoss. */
    public static void backward(float gLoss, float[] xhat, float[] norms, int[] nn, float[] dist, int N, int D, float[] gx, int gxOff) {
        java.util.Arrays.fill(gx, gxOff, gxOff + N * D, 0f);
        final float eps = (float) EPS;
        for (int i = 0; i < N; i++) {
            float d = dist[i];
            // dL/dd_i = −gL / (N (d_i + eps)); dd/du = u / d (u = x̂_i − x̂_nn + eps)
            float coef = d > 0 ? (float) (-gLoss / (N * (d + EPS)) / d) : 0f;
            int a = i * D, b = nn[i] * D;
            for (int k = 0; k < D; k++) {
                float g = coef * (xhat[a + k] - xhat[b + k] + eps);
                gx[gxOff + a + k] += g;
                gx[gxOff + b + k] -= g;
            }
        }
        GramKernels.l2NormalizeRowsBackward(xhat, 0, norms, N, D, EPS, gx, gxOff);
    }

    /** Double reference forward (fills the same state; nn is recomputed in double). */
    public static double referenceForward(double[] x, int xOff, int N, int D, double[] xhat, double[] norms, int[] nn, double[] dist) {
        if (N < 2) throw new IllegalArgumentException("koleo: need at least 2 samples, got " + N);
        GramKernels.referenceL2NormalizeRows(x, xOff, N, D, EPS, xhat, 0, norms);
        double s = 0;
        for (int i = 0; i < N; i++) {
            int best = -1;
            double bv = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < N; j++) {
                double v = -1;
                if (j != i) { v = 0; for (int k = 0; k < D; k++) v += xhat[i * D + k] * xhat[j * D + k]; }
                if (v > bv) { bv = v; best = j; }
            }
            nn[i] = best;
            double q = 0;
            for (int k = 0; k < D; k++) { double u = xhat[i * D + k] - xhat[best * D + k] + EPS; q += u * u; }
            dist[i] = Math.sqrt(q);
            s += Math.log(dist[i] + EPS);
        }
        return -s / N;
    }

    /** Double reference backward from the reference forward's state. */
    public static void referenceBackward(double gLoss, double[] xhat, double[] norms, int[] nn, double[] dist, int N, int D, double[] gx, int gxOff) {
        java.util.Arrays.fill(gx, gxOff, gxOff + N * D, 0);
        for (int i = 0; i < N; i++) {
            double d = dist[i];
            double coef = d > 0 ? -gLoss / (N * (d + EPS)) / d : 0;
            int a = i * D, b = nn[i] * D;
            for (int k = 0; k < D; k++) {
                double g = coef * (xhat[a + k] - xhat[b + k] + EPS);
                gx[gxOff + a + k] += g;
                gx[gxOff + b + k] -= g;
            }
        }
        GramKernels.referenceL2NormalizeRowsBackward(xhat, 0, norms, N, D, EPS, gx, gxOff);
    }

    /** Convenience: reference loss only. */
    public static double referenceLoss(double[] x, int xOff, int N, int D) {
        return referenceForward(x, xOff, N, D, new double[N * D], new double[N], new int[N], new double[N]);
    }
}
