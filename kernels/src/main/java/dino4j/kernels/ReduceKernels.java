package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions over a contiguous tensor viewed as {@code [outer, axisLen, inner]} (reducing the middle
 * axis into {@code out[outer, inner]}), plus whole-array scalar reductions returned in double. Float
 * sums are accumulated in float vector lanes over short blocks and the block totals in double, so
 * long reductions stay accurate. Double twins are the reference / float64 backend.
 */
public final class ReduceKernels {
    private ReduceKernels() {}

    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = S.length();
    private static final int BLOCK = 1024;          // float-accumulated block length
    private static final int ROWS_BLOCK = 64;       // rows accumulated in float before spilling to double
    private static final int GRAIN = 1 << 15;

    // ---------------------------------------------------------------- contiguous row helpers

    static double rowSum(float[] x, int off, int n) {
        double total = 0;
        for (int b = 0; b < n; b += BLOCK) {
            int e = Math.min(n, b + BLOCK), i = b;
            FloatVector acc = FloatVector.zero(S);
            for (int ub = b + S.loopBound(e - b); i < ub; i += L) acc = acc.add(FloatVector.fromArray(S, x, off + i));
            float s = VectorMath.sum(acc);
            for (; i < e; i++) s += x[off + i];
            total += s;
        }
        return total;
    }

    static double rowDot(float[] a, int aOff, float[] b, int bOff, int n) {
        double total = 0;
        for (int blk = 0; blk < n; blk += BLOCK) {
            int e = Math.min(n, blk + BLOCK), i = blk;
            FloatVector acc = FloatVector.zero(S);
            for (int ub = blk + S.loopBound(e - blk); i < ub; i += L)
                acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
            float s = VectorMath.sum(acc);
            for (; i < e; i++) s += a[aOff + i] * b[bOff + i];
            total += s;
        }
        return total;
    }

    static float rowMax(float[] x, int off, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int ub = S.loopBound(n); i < ub; i += L) acc = acc.max(FloatVector.fromArray(S, x, off + i));
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    // ---------------------------------------------------------------- axis reductions (float)

    /** out[o, i] = Σ_a x[o, a, i]. */
    public static void sum(int outer, int axisLen, int inner, float[] x, int xOff, float[] out, int outOff) {
        reduceSum(outer, axisLen, inner, x, xOff, out, outOff, 1.0);
    }

    /** out[o, i] = mean_a x[o, a, i] (NaN when axisLen == 0, as PyTorch). */
    public static void mean(int outer, int axisLen, int inner, float[] x, int xOff, float[] out, int outOff) {
        reduceSum(outer, axisLen, inner, x, xOff, out, outOff, 1.0 / axisLen);
    }

    private static void reduceSum(int outer, int axisLen, int inner, float[] x, int xOff, float[] out, int outOff, double mul) {
        if (inner == 1) {
            Parallel.forRange(outer, Math.max(1, GRAIN / Math.max(1, axisLen)), (o0, o1) -> {
                for (int o = o0; o < o1; o++) out[outOff + o] = (float) (rowSum(x, xOff + o * axisLen, axisLen) * mul);
            });
            return;
        }
        // parallel over (outer, inner-chunk) tiles; vector adds of whole rows
        final int chunk = Math.max(L, Math.min(inner, 4096));
        final int nChunks = (inner + chunk - 1) / chunk;
        long work = (long) outer * axisLen * inner;
        if (work >= GRAIN && (long) outer * nChunks < 2L * Parallel.threads() && axisLen >= 2 * ROWS_BLOCK) {
            reduceSumSplitAxis(outer, axisLen, inner, x, xOff, out, outOff, mul);   // e.g. a bias gradient: one long axis
            return;
        }
        Parallel.forRange(outer * nChunks, work < GRAIN ? Integer.MAX_VALUE : 1, (t0, t1) -> {
            float[] tmp = new float[chunk];
            double[] acc = new double[chunk];
            for (int t = t0; t < t1; t++) {
                int o = t / nChunks, c0 = (t % nChunks) * chunk, w = Math.min(chunk, inner - c0);
                java.util.Arrays.fill(acc, 0, w, 0.0);
                for (int a0 = 0; a0 < axisLen; a0 += ROWS_BLOCK) {
                    int a1 = Math.min(axisLen, a0 + ROWS_BLOCK);
                    java.util.Arrays.fill(tmp, 0, w, 0f);
                    for (int a = a0; a < a1; a++) {
                        int base = xOff + (o * axisLen + a) * inner + c0, i = 0;
                        for (int ub = S.loopBound(w); i < ub; i += L)
                            FloatVector.fromArray(S, tmp, i).add(FloatVector.fromArray(S, x, base + i)).intoArray(tmp, i);
                        for (; i < w; i++) tmp[i] += x[base + i];
                    }
                    for (int i = 0; i < w; i++) acc[i] += tmp[i];
                }
                int ob = outOff + o * inner + c0;
                for (int i = 0; i < w; i++) out[ob + i] = (float) (acc[i] * mul);
            }
        });
    }

    /**
     * {@link #reduceSum} when there are too few (outer, inner) tiles to occupy the pool but the reduced axis is long
     * (a bias gradient sums 17,664 rows into 96–384 columns): the axis's ROWS_BLOCK-row blocks are summed in float in
     * parallel, then added into double in block order, which is exactly the serial path's arithmetic, so the result
     * does not depend on the thread count.
     */
    private static void reduceSumSplitAxis(int outer, int axisLen, int inner, float[] x, int xOff, float[] out, int outOff, double mul) {
        int nBlocks = (axisLen + ROWS_BLOCK - 1) / ROWS_BLOCK;
        float[] partial = new float[nBlocks * inner];
        double[] acc = new double[inner];
        for (int o = 0; o < outer; o++) {
            final int oo = o;
            Parallel.forRange(nBlocks, Math.max(1, GRAIN / (ROWS_BLOCK * inner)), (b0, b1) -> {
                for (int b = b0; b < b1; b++) {
                    int a1 = Math.min(axisLen, (b + 1) * ROWS_BLOCK), pb = b * inner;
                    java.util.Arrays.fill(partial, pb, pb + inner, 0f);
                    for (int a = b * ROWS_BLOCK; a < a1; a++) {
                        int base = xOff + (oo * axisLen + a) * inner, i = 0;
                        for (int ub = S.loopBound(inner); i < ub; i += L)
                            FloatVector.fromArray(S, partial, pb + i).add(FloatVector.fromArray(S, x, base + i)).intoArray(partial, pb + i);
                        for (; i < inner; i++) partial[pb + i] += x[base + i];
                    }
                }
            });
            java.util.Arrays.fill(acc, 0.0);
            for (int b = 0; b < nBlocks; b++)
                for (int i = 0, pb = b * inner; i < inner; i++) acc[i] += partial[pb + i];
            int ob = outOff + o * inner;
            for (int i = 0; i < inner; i++) out[ob + i] = (float) (acc[i] * mul);
        }
    }

    /** out[o, i] = max_a x[o, a, i] (NaN propagates; −∞ when axisLen == 0). */
    public static void max(int outer, int axisLen, int inner, float[] x, int xOff, float[] out, int outOff) {
        if (inner == 1) {
            Parallel.forRange(outer, Math.max(1, GRAIN / Math.max(1, axisLen)), (o0, o1) -> {
                for (int o = o0; o < o1; o++) out[outOff + o] = rowMax(x, xOff + o * axisLen, axisLen);
            });
            return;
        }
        long work = (long) outer * axisLen * inner;
        Parallel.forRange(outer, work < GRAIN ? Integer.MAX_VALUE : 1, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                int ob = outOff + o * inner;
                java.util.Arrays.fill(out, ob, ob + inner, Float.NEGATIVE_INFINITY);
                for (int a = 0; a < axisLen; a++) {
                    int base = xOff + (o * axisLen + a) * inner, i = 0;
                    for (int ub = S.loopBound(inner); i < ub; i += L)
                        FloatVector.fromArray(S, out, ob + i).max(FloatVector.fromArray(S, x, base + i)).intoArray(out, ob + i);
                    for (; i < inner; i++) out[ob + i] = Math.max(out[ob + i], x[base + i]);
                }
            }
        });
    }

    /** idx[o, i] = first index a of the maximum of x[o, :, i] (a NaN counts as the maximum). */
    public static void argmax(int outer, int axisLen, int inner, float[] x, int xOff, int[] idx, int idxOff) {
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int best = 0;
                float bv = axisLen > 0 ? x[xOff + o * axisLen * inner + i] : 0f;
                if (!Float.isNaN(bv)) {
                    for (int a = 1; a < axisLen; a++) {
                        float v = x[xOff + (o * axisLen + a) * inner + i];
                        if (v > bv || Float.isNaN(v)) { bv = v; best = a; if (Float.isNaN(v)) break; }
                    }
                }
                idx[idxOff + o * inner + i] = best;
            }
        }
    }

    public static int[] argmax(int outer, int axisLen, int inner, float[] x, int xOff) {
        int[] r = new int[outer * inner];
        argmax(outer, axisLen, inner, x, xOff, r, 0);
        return r;
    }

    // ---------------------------------------------------------------- whole-array (float)

    private interface BlockFn { double run(int from, int to); }

    private static double blocked(int n, BlockFn fn) {
        final int blk = 1 << 16;
        int nb = (n + blk - 1) / blk;
        if (nb <= 1) return fn.run(0, n);
        double[] part = new double[nb];
        Parallel.forRange(nb, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) part[b] = fn.run(b * blk, Math.min(n, (b + 1) * blk));
        });
        double s = 0;
        for (double v : part) s += v;          // fixed order: deterministic
        return s;
    }

    /** Σ x. */
    public static double sumAll(int n, float[] x, int xOff) {
        return blocked(n, (f, t) -> rowSum(x, xOff + f, t - f));
    }

    /** Σ a·b. */
    public static double dot(int n, float[] a, int aOff, float[] b, int bOff) {
        return blocked(n, (f, t) -> rowDot(a, aOff + f, b, bOff + f, t - f));
    }

    /** Σ x² (e.g. gradient-norm clipping). */
    public static double sumSquares(int n, float[] x, int xOff) {
        return blocked(n, (f, t) -> rowDot(x, xOff + f, x, xOff + f, t - f));
    }

    // ---------------------------------------------------------------- double twins (reference)

    public static void sum(int outer, int axisLen, int inner, double[] x, int xOff, double[] out, int outOff) {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double s = 0;
                for (int a = 0; a < axisLen; a++) s += x[xOff + (o * axisLen + a) * inner + i];
                out[outOff + o * inner + i] = s;
            }
    }

    public static void mean(int outer, int axisLen, int inner, double[] x, int xOff, double[] out, int outOff) {
        sum(outer, axisLen, inner, x, xOff, out, outOff);
        for (int j = 0; j < outer * inner; j++) out[outOff + j] /= axisLen;
    }

    public static void max(int outer, int axisLen, int inner, double[] x, int xOff, double[] out, int outOff) {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int a = 0; a < axisLen; a++) m = Math.max(m, x[xOff + (o * axisLen + a) * inner + i]);
                out[outOff + o * inner + i] = m;
            }
    }

    public static void argmax(int outer, int axisLen, int inner, double[] x, int xOff, int[] idx, int idxOff) {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                int best = 0;
                double bv = axisLen > 0 ? x[xOff + o * axisLen * inner + i] : 0;
                if (!Double.isNaN(bv)) {
                    for (int a = 1; a < axisLen; a++) {
                        double v = x[xOff + (o * axisLen + a) * inner + i];
                        if (v > bv || Double.isNaN(v)) { bv = v; best = a; if (Double.isNaN(v)) break; }
                    }
                }
                idx[idxOff + o * inner + i] = best;
            }
    }

    public static int[] argmax(int outer, int axisLen, int inner, double[] x, int xOff) {
        int[] r = new int[outer * inner];
        argmax(outer, axisLen, inner, x, xOff, r, 0);
        return r;
    }

    public static double sumAll(int n, double[] x, int xOff) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[xOff + i];
        return s;
    }

    public static double dot(int n, double[] a, int aOff, double[] b, int bOff) {
        double s = 0;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    public static double sumSquares(int n, double[] x, int xOff) {
        return dot(n, x, xOff, x, xOff);
    }
}
