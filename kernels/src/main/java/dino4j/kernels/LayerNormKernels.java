package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * LayerNorm over the last axis of a {@code [rows, cols]} row-major block (biased variance, as torch):
 * {@code y = (x − mean) · rstd · gamma + beta}, {@code rstd = 1/sqrt(var + eps)}. Forward saves
 * {@code mean} and {@code rstd} per row for the backward. Two-pass statistics in float.
 */
public final class LayerNormKernels {
    private LayerNormKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;

    private static int grain(int cols) { return Math.max(1, 16384 / Math.max(1, cols)); }

    /**
     * @param gamma nullable (= ones), length cols
     * @param beta  nullable (= zeros), length cols
     * @param mean  out, length ≥ rows (nullable)
     * @param rstd  out, length ≥ rows (nullable)
     */
    public static void forward(int rows, int cols, float[] x, int xOff, float[] gamma, float[] beta, float eps,
                               float[] y, int yOff, float[] mean, float[] rstd) {
        Parallel.forRange(rows, grain(cols), (r0, r1) -> {
            int bound = F.loopBound(cols), L = F.length();
            for (int r = r0; r < r1; r++) {
                int xo = xOff + r * cols, yo = yOff + r * cols;
                int i = 0;
                var sv = FloatVector.zero(F);
                for (; i < bound; i += L) sv = sv.add(FloatVector.fromArray(F, x, xo + i));
                float s = VectorMath.sum(sv);
                for (; i < cols; i++) s += x[xo + i];
                float mu = s / cols;
                var mv = FloatVector.broadcast(F, mu);
                var qv = FloatVector.zero(F);
                for (i = 0; i < bound; i += L) {
                    var d = FloatVector.fromArray(F, x, xo + i).sub(mv);
                    qv = d.fma(d, qv);
                }
                float q = VectorMath.sum(qv);
                for (; i < cols; i++) { float d = x[xo + i] - mu; q += d * d; }
                float rs = (float) (1.0 / Math.sqrt(q / cols + (double) eps));
                if (mean != null) mean[r] = mu;
                if (rstd != null) rstd[r] = rs;
                var rv = FloatVector.broadcast(F, rs);
                for (i = 0; i < bound; i += L) {
                    var v = FloatVector.fromArray(F, x, xo + i).sub(mv).mul(rv);
                    if (gamma != null) v = v.mul(FloatVector.fromArray(F, gamma, i));
                    if (beta != null) v = v.add(FloatVector.fromArray(F, beta, i));
                    v.intoArray(y, yo + i);
                }
                for (; i < cols; i++) {
                    float v = (x[xo + i] - mu) * rs;
                    if (gamma != null) v *= gamma[i];
                    if (beta != null) v += beta[i];
                    y[yo + i] = v;
                }
            }
        });
    }

    /**
     * Writes {@code gx}; ACCUMULATES ({@code +=}) into {@code gGamma} and {@code gBeta} when non-null.
     * {@code gamma} nullable (= ones). Deterministic: per-chunk partials summed in chunk order.
     */
    public static void backward(int rows, int cols, float[] x, int xOff, float[] gy, int gyOff, float[] gamma,
                                float[] mean, float[] rstd, float[] gx, int gxOff, float[] gGamma, float[] gBeta) {
        if (rows <= 0) return;
        int g = grain(cols);
        int chunks = Math.max(1, Math.min(Parallel.threads(), (rows + g - 1) / g));
        boolean wantG = gGamma != null, wantB = gBeta != null;
        float[][] pg = new float[chunks][], pb = new float[chunks][];
        Parallel.forEachTask(chunks, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int r0 = (int) ((long) rows * t / chunks), r1 = (int) ((long) rows * (t + 1) / chunks);
                float[] accG = wantG ? new float[cols] : null, accB = wantB ? new float[cols] : null;
                backwardRows(r0, r1, cols, x, xOff, gy, gyOff, gamma, mean, rstd, gx, gxOff, accG, accB);
                pg[t] = accG; pb[t] = accB;
            }
        });
        for (int t = 0; t < chunks; t++) {
            if (wantG) addInto(gGamma, pg[t], cols);
            if (wantB) addInto(gBeta, pb[t], cols);
        }
    }

    private static void addInto(float[] dst, float[] src, int n) {
        int bound = F.loopBound(n), i = 0;
        for (; i < bound; i += F.length())
            FloatVector.fromArray(F, dst, i).add(FloatVector.fromArray(F, src, i)).intoArray(dst, i);
        for (; i < n; i++) dst[i] += src[i];
    }

    private static void backwardRows(int r0, int r1, int cols, float[] x, int xOff, float[] gy, int gyOff, float[] gamma,
                                     float[] mean, float[] rstd, float[] gx, int gxOff, float[] accG, float[] accB) {
        int bound = F.loopBound(cols), L = F.length();
        float invN = 1f / cols;
        for (int r = r0; r < r1; r++) {
            int xo = xOff + r * cols, go = gyOff + r * cols, o = gxOff + r * cols;
            float mu = mean[r], rs = rstd[r];
            var mv = FloatVector.broadcast(F, mu);
            var rv = FloatVector.broadcast(F, rs);
            // a = Σ g, b = Σ g·xhat with g = gy·gamma
            var av = FloatVector.zero(F);
            var bv = FloatVector.zero(F);
            int i = 0;
            for (; i < bound; i += L) {
                var gyv = FloatVector.fromArray(F, gy, go + i);
                var xh = FloatVector.fromArray(F, x, xo + i).sub(mv).mul(rv);
                if (accG != null) gyv.fma(xh, FloatVector.fromArray(F, accG, i)).intoArray(accG, i);
                if (accB != null) gyv.add(FloatVector.fromArray(F, accB, i)).intoArray(accB, i);
                var gv = gamma != null ? gyv.mul(FloatVector.fromArray(F, gamma, i)) : gyv;
                av = av.add(gv);
                bv = gv.fma(xh, bv);
            }
            float a = VectorMath.sum(av), b = VectorMath.sum(bv);
            for (; i < cols; i++) {
                float gyi = gy[go + i], xh = (x[xo + i] - mu) * rs;
                if (accG != null) accG[i] += gyi * xh;
                if (accB != null) accB[i] += gyi;
                float gv = gamma != null ? gyi * gamma[i] : gyi;
                a += gv; b += gv * xh;
            }
            float ma = a * invN, mb = b * invN;
            var mav = FloatVector.broadcast(F, ma);
            var mbv = FloatVector.broadcast(F, mb);
            for (i = 0; i < bound; i += L) {
                var gyv = FloatVector.fromArray(F, gy, go + i);
                var gv = gamma != null ? gyv.mul(FloatVector.fromArray(F, gamma, i)) : gyv;
                var xh = FloatVector.fromArray(F, x, xo + i).sub(mv).mul(rv);
                gv.sub(mav).sub(xh.mul(mbv)).mul(rv).intoArray(gx, o + i);
            }
            for (; i < cols; i++) {
                float gv = gamma != null ? gy[go + i] * gamma[i] : gy[go + i];
                float xh = (x[xo + i] - mu) * rs;
                gx[o + i] = (gv - ma - xh * mb) * rs;
            }
        }
    }

    // ---------------------------------------------------------------- double references

    public static void referenceForward(int rows, int cols, double[] x, int xOff, double[] gamma, double[] beta, double eps,
                                        double[] y, int yOff, double[] mean, double[] rstd) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            double s = 0;
            for (int i = 0; i < cols; i++) s += x[xo + i];
            double mu = s / cols, q = 0;
            for (int i = 0; i < cols; i++) { double d = x[xo + i] - mu; q += d * d; }
            double rs = 1.0 / Math.sqrt(q / cols + eps);
            if (mean != null) mean[r] = mu;
            if (rstd != null) rstd[r] = rs;
            for (int i = 0; i < cols; i++) {
                double v = (x[xo + i] - mu) * rs;
                if (gamma != null) v *= gamma[i];
                if (beta != null) v += beta[i];
                y[yo + i] = v;
            }
        }
    }

    /** Writes gx; accumulates into gGamma / gBeta (nullable). */
    public static void referenceBackward(int rows, int cols, double[] x, int xOff, double[] gy, int gyOff, double[] gamma,
                                         double[] mean, double[] rstd, double[] gx, int gxOff, double[] gGamma, double[] gBeta) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, go = gyOff + r * cols, o = gxOff + r * cols;
            double mu = mean[r], rs = rstd[r], a = 0, b = 0;
            for (int i = 0; i < cols; i++) {
                double xh = (x[xo + i] - mu) * rs, gyi = gy[go + i];
                if (gGamma != null) gGamma[i] += gyi * xh;
                if (gBeta != null) gBeta[i] += gyi;
                double gv = gamma != null ? gyi * gamma[i] : gyi;
                a += gv; b += gv * xh;
            }
            a /= cols; b /= cols;
            for (int i = 0; i < cols; i++) {
                double xh = (x[xo + i] - mu) * rs;
                double gv = gamma != null ? gy[go + i] * gamma[i] : gy[go + i];
                gx[o + i] = (gv - a - xh * b) * rs;
            }
        }
    }
}
