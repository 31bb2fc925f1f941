package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Axial 2-D rotary position embedding (spec §1.6): periods, sin/cos tables (eval mode and with the
 * training-time shift / jitter / rescale coordinate augmentation) and the rotate-half rotation.
 *
 * <p>Rotation of one row {@code x} of length {@code Dh} (half = Dh/2), with {@code c, s} the table row:
 * <pre>
 *   x'[i]        = x[i]        * c[i]        - x[i + half] * s[i]
 *   x'[i + half] = x[i + half] * c[i + half] + x[i]        * s[i + half]
 * </pre>
 * (with the A2 table layout {@code c[i] == c[i+half]}, so this is the spec's formula). The inverse /
 * backward is the transpose of that 2×2 map:
 * <pre>
 *   g'[i]        =  g[i] * c[i]        + g[i + half] * s[i + half]
 *   g'[i + half] = -g[i] * s[i]        + g[i + half] * c[i + half]
 * </pre>
 */
public final class RopeKernels {
    private RopeKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;

    /** The float64 twin of {@link RopeTable} (reference backend). */
    public record RefTable(int h, int w, int headDim, double[] sin, double[] cos) {
        public int tokens() { return h * w; }
    }

    /** {@code Dh/4} periods, {@code period[j] = base^(4j/Dh)}. */
    public static double[] periods(int headDim, double base) {
        if (headDim <= 0 || headDim % 4 != 0) throw new IllegalArgumentException("headDim must be a positive multiple of 4, got " + headDim);
        int n = headDim / 4;
        double[] p = new double[n];
        for (int j = 0; j < n; j++) p[j] = Math.pow(base, 4.0 * j / headDim);
        return p;
    }

    /** Eval-mode table (no coordinate augmentation). */
    public static RopeTable table(int h, int w, double[] periods) {
        return table(h, w, periods, 0.0, 0.0, 1.0, 1.0, 1.0);
    }

    /**
     * Table with training-time coordinate augmentation, applied in the spec's order: {@code c += shift}
     * per axis, then {@code c *= jitter} per axis, then {@code c *= rescale} (both axes). The caller
     * draws the random values: shift ~ U(-s, s), jitter = exp(U(-ln J, ln J)), rescale = exp(U(-ln S, ln S)).
     * Angles are computed in double and stored as float.
     */
    public static RopeTable table(int h, int w, double[] periods, double shiftY, double shiftX,
                                  double jitterY, double jitterX, double rescale) {
        RefTable r = referenceTable(h, w, periods, shiftY, shiftX, jitterY, jitterX, rescale);
        float[] sin = new float[r.sin.length], cos = new float[r.cos.length];
        for (int i = 0; i < sin.length; i++) { sin[i] = (float) r.sin[i]; cos[i] = (float) r.cos[i]; }
        return new RopeTable(h, w, r.headDim, sin, cos);
    }

    /** Double eval-mode table. */
    public static RefTable referenceTable(int h, int w, double[] periods) {
        return referenceTable(h, w, periods, 0.0, 0.0, 1.0, 1.0, 1.0);
    }

    /** Double table with coordinate augmentation (see {@link #table(int, int, double[], double, double, double, double, double)}). */
    public static RefTable referenceTable(int h, int w, double[] periods, double shiftY, double shiftX,
                                          double jitterY, double jitterX, double rescale) {
        if (h < 0 || w < 0) throw new IllegalArgumentException("negative grid " + h + "x" + w);
        int q = periods.length, dh = 4 * q, half = 2 * q;
        if (q == 0) throw new IllegalArgumentException("empty periods");
        double[] sin = new double[h * w * dh], cos = new double[h * w * dh];
        double[] ay = new double[q], ax = new double[q];
        for (int i = 0; i < h; i++) {
            double cy = 2.0 * ((i + 0.5) / h) - 1.0;
            cy = (cy + shiftY) * jitterY * rescale;
            for (int j = 0; j < q; j++) ay[j] = 2.0 * Math.PI * cy / periods[j];
            for (int jx = 0; jx < w; jx++) {
                double cx = 2.0 * ((jx + 0.5) / w) - 1.0;
                cx = (cx + shiftX) * jitterX * rescale;
                for (int j = 0; j < q; j++) ax[j] = 2.0 * Math.PI * cx / periods[j];
                int base = (i * w + jx) * dh;
                for (int j = 0; j < q; j++) {
                    double sy = Math.sin(ay[j]), cyv = Math.cos(ay[j]);
                    double sx = Math.sin(ax[j]), cxv = Math.cos(ax[j]);
                    sin[base + j] = sy; cos[base + j] = cyv;
                    sin[base + q + j] = sx; cos[base + q + j] = cxv;
                    sin[base + half + j] = sy; cos[base + half + j] = cyv;
                    sin[base + half + q + j] = sx; cos[base + half + q + j] = cxv;
                }
            }
        }
        return new RefTable(h, w, dh, sin, cos);
    }

    /**
     * Rotates {@code rows} rows in place; row {@code r} starts at {@code xOff + r*rowStride} and uses
     * table row {@code tableRowOff + r} (table rows are {@code headDim} long). {@code inverse} applies the
     * transpose rotation, which is both the inverse and the backward of the forward rotation.
     * Serial (callers parallelise over larger units); cheap relative to what surrounds it.
     */
    public static void rotate(int rows, int headDim, float[] x, int xOff, int rowStride,
                              float[] sin, float[] cos, int tableRowOff, boolean inverse) {
        checkDim(headDim);
        int half = headDim / 2;
        int bound = F.loopBound(half);
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * rowStride, to = (tableRowOff + r) * headDim;
            int i = 0;
            for (; i < bound; i += F.length()) {
                var x1 = FloatVector.fromArray(F, x, xo + i);
                var x2 = FloatVector.fromArray(F, x, xo + half + i);
                var c1 = FloatVector.fromArray(F, cos, to + i);
                var s1 = FloatVector.fromArray(F, sin, to + i);
                var c2 = FloatVector.fromArray(F, cos, to + half + i);
                var s2 = FloatVector.fromArray(F, sin, to + half + i);
                if (!inverse) {
                    x1.mul(c1).sub(x2.mul(s1)).intoArray(x, xo + i);
                    x2.mul(c2).add(x1.mul(s2)).intoArray(x, xo + half + i);
                } else {
                    x1.mul(c1).add(x2.mul(s2)).intoArray(x, xo + i);
                    x2.mul(c2).sub(x1.mul(s1)).intoArray(x, xo + half + i);
                }
            }
            for (; i < half; i++) {
                float a = x[xo + i], b = x[xo + half + i];
                float c1 = cos[to + i], s1 = sin[to + i], c2 = cos[to + half + i], s2 = sin[to + half + i];
                if (!inverse) {
                    x[xo + i] = a * c1 - b * s1;
                    x[xo + half + i] = b * c2 + a * s2;
                } else {
                    x[xo + i] = a * c1 + b * s2;
                    x[xo + half + i] = b * c2 - a * s1;
                }
            }
        }
    }

    /** Double reference of {@link #rotate}. */
    public static void referenceRotate(int rows, int headDim, double[] x, int xOff, int rowStride,
                                       double[] sin, double[] cos, int tableRowOff, boolean inverse) {
        checkDim(headDim);
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * rowStride, to = (tableRowOff + r) * headDim;
            for (int i = 0; i < half; i++) {
                double a = x[xo + i], b = x[xo + half + i];
                double c1 = cos[to + i], s1 = sin[to + i], c2 = cos[to + half + i], s2 = sin[to + half + i];
                if (!inverse) {
                    x[xo + i] = a * c1 - b * s1;
                    x[xo + half + i] = b * c2 + a * s2;
                } else {
                    x[xo + i] = a * c1 + b * s2;
                    x[xo + half + i] = b * c2 - a * s1;
                }
            }
        }
    }

    private static void checkDim(int headDim) {
        if (headDim <= 0 || headDim % 2 != 0) throw new IllegalArgumentException("headDim must be positive and even, got " + headDim);
    }
}
