package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-wise softmax / log-softmax over the last axis of a {@code [rows, cols]} row-major block, and
 * their backward passes. Numerically stable (row max subtracted). Rows run in parallel; in-place
 * ({@code x == y} at the same offset, {@code gy == gx}) is allowed.
 */
public final class SoftmaxKernels {
    private SoftmaxKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;

    private static int grain(int cols) { return Math.max(1, 16384 / Math.max(1, cols)); }

    /** {@code y = softmax(x)} per row. */
    public static void softmax(int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        Parallel.forRange(rows, grain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(cols, x, xOff + r * cols, y, yOff + r * cols, false);
        });
    }

    /** {@code y = log_softmax(x)} per row. */
    public static void logSoftmax(int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        Parallel.forRange(rows, grain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(cols, x, xOff + r * cols, y, yOff + r * cols, true);
        });
    }

    static float rowMax(int n, float[] x, int o) {
        int bound = F.loopBound(n), i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            var mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += F.length()) mv = mv.max(FloatVector.fromArray(F, x, o + i));
            m = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, x[o + i]);
        return m;
    }

    private static void softmaxRow(int n, float[] x, int xo, float[] y, int yo, boolean log) {
        if (n == 0) return;
        float m = rowMax(n, x, xo);
        if (m == Float.NEGATIVE_INFINITY) m = 0f; // all -inf row: 0/0 -> NaN, as in torch
        int bound = F.loopBound(n), i = 0;
        float sum;
        var mv = FloatVector.broadcast(F, m);
        if (!log) {
            var sv = FloatVector.zero(F);
            for (; i < bound; i += F.length()) {
                var e = VectorMath.exp(FloatVector.fromArray(F, x, xo + i).sub(mv));
                e.intoArray(y, yo + i);
                sv = sv.add(e);
            }
            sum = VectorMath.sum(sv);
            for (; i < n; i++) { float e = (float) Math.exp(x[xo + i] - m); y[yo + i] = e; sum += e; }
            float inv = 1f / sum;
            var iv = FloatVector.broadcast(F, inv);
            for (i = 0; i < bound; i += F.length()) FloatVector.fromArray(F, y, yo + i).mul(iv).intoArray(y, yo + i);
            for (; i < n; i++) y[yo + i] *= inv;
        } else {
            var sv = FloatVector.zero(F);
            for (; i < bound; i += F.length())
                sv = sv.add(VectorMath.exp(FloatVector.fromArray(F, x, xo + i).sub(mv)));
            sum = VectorMath.sum(sv);
            for (; i < n; i++) sum += (float) Math.exp(x[xo + i] - m);
            float sh = m + (float) Math.log(sum);
            var shv = FloatVector.broadcast(F, sh);
            for (i = 0; i < bound; i += F.length()) FloatVector.fromArray(F, x, xo + i).sub(shv).intoArray(y, yo + i);
            for (; i < n; i++) y[yo + i] = x[xo + i] - sh;
        }
    }

    /** {@code gx = y ∘ (gy − Σ gy∘y)} per row, {@code y} the softmax output. */
    public static void softmaxBackward(int rows, int cols, float[] y, int yOff, float[] gy, int gyOff, float[] gx, int gxOff) {
        Parallel.forRange(rows, grain(cols), (r0, r1) -> {
            int bound = F.loopBound(cols);
            for (int r = r0; r < r1; r++) {
                int yo = yOff + r * cols, go = gyOff + r * cols, xo = gxOff + r * cols;
                int i = 0;
                var dv = FloatVector.zero(F);
                for (; i < bound; i += F.length())
                    dv = FloatVector.fromArray(F, gy, go + i).fma(FloatVector.fromArray(F, y, yo + i), dv);
                float dot = VectorMath.sum(dv);
                for (; i < cols; i++) dot += gy[go + i] * y[yo + i];
                var dd = FloatVector.broadcast(F, dot);
                for (i = 0; i < bound; i += F.length())
                    FloatVector.fromArray(F, gy, go + i).sub(dd).mul(FloatVector.fromArray(F, y, yo + i)).intoArray(gx, xo + i);
                for (; i < cols; i++) gx[xo + i] = (gy[go + i] - dot) * y[yo + i];
            }
        });
    }

    /** {@code gx = gy − exp(y) · Σ gy} per row, {@code y} the log-softmax output. */
    public static void logSoftmaxBackward(int rows, int cols, float[] y, int yOff, float[] gy, int gyOff, float[] gx, int gxOff) {
        Parallel.forRange(rows, grain(cols), (r0, r1) -> {
            int bound = F.loopBound(cols);
            for (int r = r0; r < r1; r++) {
                int yo = yOff + r * cols, go = gyOff + r * cols, xo = gxOff + r * cols;
                int i = 0;
                var sv = FloatVector.zero(F);
                for (; i < bound; i += F.length()) sv = sv.add(FloatVector.fromArray(F, gy, go + i));
                float s = VectorMath.sum(sv);
                for (; i < cols; i++) s += gy[go + i];
                var ss = FloatVector.broadcast(F, s);
                for (i = 0; i < bound; i += F.length()) {
                    var e = VectorMath.exp(FloatVector.fromArray(F, y, yo + i));
                    FloatVector.fromArray(F, gy, go + i).sub(e.mul(ss)).intoArray(gx, xo + i);
                }
                for (; i < cols; i++) gx[xo + i] = gy[go + i] - (float) Math.exp(y[yo + i]) * s;
            }
        });
    }

    // ---------------------------------------------------------------- double references

    public static void referenceSoftmax(int rows, int cols, double[] x, int xOff, double[] y, int yOff) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < cols; i++) m = Math.max(m, x[xo + i]);
            if (m == Double.NEGATIVE_INFINITY) m = 0;
            double s = 0;
            for (int i = 0; i < cols; i++) { double e = Math.exp(x[xo + i] - m); y[yo + i] = e; s += e; }
            for (int i = 0; i < cols; i++) y[yo + i] /= s;
        }
    }

    public static void referenceLogSoftmax(int rows, int cols, double[] x, int xOff, double[] y, int yOff) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < cols; i++) m = Math.max(m, x[xo + i]);
            if (m == Double.NEGATIVE_INFINITY) m = 0;
            double s = 0;
            for (int i = 0; i < cols; i++) s += Math.exp(x[xo + i] - m);
            double sh = m + Math.log(s);
            for (int i = 0; i < cols; i++) y[yo + i] = x[xo + i] - sh;
        }
    }

    public static void referenceSoftmaxBackward(int rows, int cols, double[] y, int yOff, double[] gy, int gyOff, double[] gx, int gxOff) {
        for (int r = 0; r < rows; r++) {
            int yo = yOff + r * cols, go = gyOff + r * cols, xo = gxOff + r * cols;
            double dot = 0;
            for (int i = 0; i < cols; i++) dot += gy[go + i] * y[yo + i];
            for (int i = 0; i < cols; i++) gx[xo + i] = y[yo + i] * (gy[go + i] - dot);
        }
    }

    public static void referenceLogSoftmaxBackward(int rows, int cols, double[] y, int yOff, double[] gy, int gyOff, double[] gx, int gxOff) {
        for (int r = 0; r < rows; r++) {
            int yo = yOff + r * cols, go = gyOff + r * cols, xo = gxOff + r * cols;
            double s = 0;
            for (int i = 0; i < cols; i++) s += gy[go + i];
            for (int i = 0; i < cols; i++) gx[xo + i] = gy[go + i] - Math.exp(y[yo + i]) * s;
        }
    }
}
