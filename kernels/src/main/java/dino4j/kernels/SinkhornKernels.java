package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sinkhorn-Knopp centering of teacher logits (spec §3.2): {@code Q = exp(T/τ)ᵀ}, normalised to total
 * mass 1, then {@code iters} rounds of "every prototype gets mass 1/K, every sample mass 1/Btot", and
 * finally scaled by Btot so that each sample's row is a distribution.
 *
 * <p>Layout: logits and targets are row-major {@code [B, K]} (sample-major, i.e. Qᵀ of the reference).
 * {@code btot} is the total number of samples being assigned across processes (the reference's
 * all-reduced count); in a single process it is B. With several processes the reference all-reduces the
 * prototype sums; this single-process kernel sums over its own rows only.
 *
 * <p>The fast kernel subtracts each prototype's maximum before {@code exp} (cancelled exactly by the first
 * prototype normalisation; guards against overflow and whole-prototype underflow at low temperatures; the
 * CUDA kernel does the same) and folds the constant normalisations into
 * the per-prototype and per-sample scalings, so each iteration is two passes over the matrix.
 */
public final class SinkhornKernels {
    private SinkhornKernels() {}

    /** Iterations used by DINOv3 (both DINO and iBOT targets). */
    public static final int DEFAULT_ITERS = 3;

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    /**
     * Fast float kernel. {@code out} may alias {@code logits} only when {@code outOff == logitsOff}.
     *
     * @param logits teacher logits [B, K] at {@code logitsOff}
     * @param out    targets [B, K] at {@code outOff}; each row sums to 1 (for iters ≥ 1)
     */
    public static void sinkhorn(float[] logits, int logitsOff, float[] out, int outOff, int B, int K,
                                float temp, double btot, int iters) {
        check(B, K, temp, btot, iters);
        final float invT = 1f / temp;
        float[] rowScale = new float[B];  // pending per-row scale, applied lazily by the next column pass
        if (iters == 0) {
            // no column step to absorb a per-prototype shift: global max, then divide by the total
            float[] rowMax = new float[B];
            Parallel.forRange(B, Math.max(1, 4096 / Math.max(1, K)), (b0, b1) -> {
                for (int b = b0; b < b1; b++) rowMax[b] = max(logits, logitsOff + b * K, K);
            });
            float m = Float.NEGATIVE_INFINITY;
            for (float v : rowMax) m = Math.max(m, v);
            float[] shift = new float[K];
            java.util.Arrays.fill(shift, m * invT);
            double[] rowSum = new double[B];
            Parallel.forRange(B, Math.max(1, 4096 / Math.max(1, K)), (b0, b1) -> {
                for (int b = b0; b < b1; b++) rowSum[b] = expRow(logits, logitsOff + b * K, out, outOff + b * K, K, invT, shift);
            });
            double total = 0;
            for (double v : rowSum) total += v;
            java.util.Arrays.fill(rowScale, (float) (1.0 / total));
        } else {
            // per-prototype max m_k of x·invT: the first column step cancels any per-prototype factor (and the
            // reference's 1/total) exactly, and every prototype keeps its largest entry at exp(0) = 1, so no
            // column underflows whole at low temperatures (a global max lost columns at τ = 0.04)
            float[] colMax = new float[K];
            Parallel.forRange(K, 256, (k0, k1) -> columnMax(logits, logitsOff, B, K, k0, k1, invT, colMax));
            Parallel.forRange(B, Math.max(1, 4096 / Math.max(1, K)), (b0, b1) -> {
                for (int b = b0; b < b1; b++) expRow(logits, logitsOff + b * K, out, outOff + b * K, K, invT, colMax);
            });
            java.util.Arrays.fill(rowScale, 1f);
        }
        float[] colScale = new float[K];
        final float kInv = 1f / K;
        for (int it = 0; it < iters; it++) {
            // pass A: apply pending row scales, column (prototype) sums r_k -> colScale = 1 / (r_k K)
            Parallel.forRange(K, 256, (k0, k1) -> {
                float[] acc = new float[k1 - k0];
                for (int b = 0; b < B; b++) {
                    int o = outOff + b * K;
                    float s = rowScale[b];
                    FloatVector sv = FloatVector.broadcast(F, s);
                    int k = k0;
                    for (; k <= k1 - L; k += L) {
                        FloatVector v = FloatVector.fromArray(F, out, o + k).mul(sv);
                        v.intoArray(out, o + k);
                        FloatVector.fromArray(F, acc, k - k0).add(v).intoArray(acc, k - k0);
                    }
                    for (; k < k1; k++) { float v = out[o + k] * s; out[o + k] = v; acc[k - k0] += v; }
                }
                for (int k = k0; k < k1; k++) colScale[k] = kInv / acc[k - k0];
            });
            // pass B: scale columns, row (sample) sums c_b -> pending row scale 1 / (c_b Btot)
            final float bInv = (float) (1.0 / btot);
            Parallel.forRange(B, Math.max(1, 4096 / Math.max(1, K)), (b0, b1) -> {
                for (int b = b0; b < b1; b++) {
                    int o = outOff + b * K;
                    FloatVector sv = FloatVector.zero(F);
                    int k = 0;
                    for (; k <= K - L; k += L) {
                        FloatVector v = FloatVector.fromArray(F, out, o + k).mul(FloatVector.fromArray(F, colScale, k));
                        v.intoArray(out, o + k);
                        sv = sv.add(v);
                    }
                    float c = VectorMath.sum(sv);
                    for (; k < K; k++) { float v = out[o + k] * colScale[k]; out[o + k] = v; c += v; }
                    rowScale[b] = bInv / c;
                }
            });
        }
        // final: apply pending row scales times Btot
        Parallel.forRange(B, Math.max(1, 4096 / Math.max(1, K)), (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int o = outOff + b * K;
                float s = (float) (rowScale[b] * btot);
                FloatVector sv = FloatVector.broadcast(F, s);
                int k = 0;
                for (; k <= K - L; k += L) FloatVector.fromArray(F, out, o + k).mul(sv).intoArray(out, o + k);
                for (; k < K; k++) out[o + k] *= s;
            }
        });
    }

    /** {@link #sinkhorn} with {@code btot = B} and {@link #DEFAULT_ITERS} iterations. */
    public static void sinkhorn(float[] logits, int logitsOff, float[] out, int outOff, int B, int K, float temp) {
        sinkhorn(logits, logitsOff, out, outOff, B, K, temp, B, DEFAULT_ITERS);
    }

    private static float max(float[] x, int o, int n) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) mv = mv.max(FloatVector.fromArray(F, x, o + i));
        float m = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, x[o + i]);
        return m;
    }

    /** colMax[k] = max over rows of x[b, k]·invT, for k in [k0, k1). */
    private static void columnMax(float[] x, int xo, int B, int K, int k0, int k1, float invT, float[] colMax) {
        java.util.Arrays.fill(colMax, k0, k1, Float.NEGATIVE_INFINITY);
        FloatVector iv = FloatVector.broadcast(F, invT);
        for (int b = 0; b < B; b++) {
            int o = xo + b * K, k = k0;
            for (; k <= k1 - L; k += L)
                FloatVector.fromArray(F, x, o + k).mul(iv).max(FloatVector.fromArray(F, colMax, k)).intoArray(colMax, k);
            for (; k < k1; k++) colMax[k] = Math.max(colMax[k], x[o + k] * invT);
        }
    }

    /** y = exp(x·invT − shift[k]) over one row; returns the row's sum. */
    private static double expRow(float[] x, int xo, float[] y, int yo, int n, float invT, float[] shift) {
        FloatVector iv = FloatVector.broadcast(F, invT);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, xo + i).fma(iv, FloatVector.fromArray(F, shift, i).neg()));
            e.intoArray(y, yo + i);
            acc = acc.add(e);
        }
        double s = VectorMath.sum(acc);
        for (; i < n; i++) { float e = (float) Math.exp(x[xo + i] * invT - shift[i]); y[yo + i] = e; s += e; }
        return s;
    }

    private static void check(int B, int K, double temp, double btot, int iters) {
        if (B <= 0 || K <= 0) throw new IllegalArgumentException("sinkhorn: need B, K > 0, got B=" + B + " K=" + K);
        if (!(temp > 0)) throw new IllegalArgumentException("sinkhorn: temperature must be > 0, got " + temp);
        if (!(btot > 0)) throw new IllegalArgumentException("sinkhorn: Btot must be > 0, got " + btot);
        if (iters < 0) throw new IllegalArgumentException("sinkhorn: iterations must be >= 0, got " + iters);
    }

    /**
     * Scalar double reference, a literal transcription of the official code (no max subtraction, every
     * normalisation done explicitly on Q = exp(T/τ)ᵀ held as [B, K]).
     */
    public static void referenceSinkhorn(double[] logits, int logitsOff, double[] out, int outOff, int B, int K,
                                         double temp, double btot, int iters) {
        check(B, K, temp, btot, iters);
        double total = 0;
        for (int i = 0; i < B * K; i++) { double e = Math.exp(logits[logitsOff + i] / temp); out[outOff + i] = e; total += e; }
        for (int i = 0; i < B * K; i++) out[outOff + i] /= total;
        double[] r = new double[K], c = new double[B];
        for (int it = 0; it < iters; it++) {
            java.util.Arrays.fill(r, 0);
            for (int b = 0; b < B; b++) for (int k = 0; k < K; k++) r[k] += out[outOff + b * K + k];
            for (int b = 0; b < B; b++) for (int k = 0; k < K; k++) out[outOff + b * K + k] = out[outOff + b * K + k] / r[k] / K;
            java.util.Arrays.fill(c, 0);
            for (int b = 0; b < B; b++) for (int k = 0; k < K; k++) c[b] += out[outOff + b * K + k];
            for (int b = 0; b < B; b++) for (int k = 0; k < K; k++) out[outOff + b * K + k] = out[outOff + b * K + k] / c[b] / btot;
        }
        for (int i = 0; i < B * K; i++) out[outOff + i] *= btot;
    }
}
