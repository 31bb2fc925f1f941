package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The LayerScale residual of a pre-norm block, fused: {@code out = x + y ⊙ γ} over rows of width C (γ per
 * channel), and its backward {@code gy = g ⊙ γ}, {@code gγ += Σ_rows g ⊙ y} (gx = g needs no work). One pass
 * instead of a multiply, an add and a separate reduction, with no intermediate tensors.
 * Reference: {@link #referenceForward} / {@link #referenceBackward} in double.
 */
public final class ResidualKernels {
    private ResidualKernels() {}

    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.LANES;
    /** Rows per task: the γ-gradient partials are per task, summed in task order (deterministic). */
    private static final int ROW_GRAIN = 64;

    public static void forward(int rows, int cols, float[] x, int xo, float[] y, int yo, float[] g, int go, float[] out, int oo) {
        Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, cols)), (r0, r1) -> {
            int ub = S.loopBound(cols);
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * cols, yr = yo + r * cols, or = oo + r * cols, c = 0;
                for (; c < ub; c += L)
                    FloatVector.fromArray(S, y, yr + c).fma(FloatVector.fromArray(S, g, go + c), FloatVector.fromArray(S, x, xr + c))
                            .intoArray(out, or + c);
                for (; c < cols; c++) out[or + c] = Math.fma(y[yr + c], g[go + c], x[xr + c]);
            }
        });
    }

    /** gy = gOut ⊙ γ (written); gGamma += Σ_rows gOut ⊙ y (accumulated, may be null). */
    public static void backward(int rows, int cols, float[] gOut, int gOff, float[] y, int yo, float[] g, int go,
                                float[] gy, int gyo, float[] gGamma, int ggo) {
        int tasks = Math.max(1, (rows + ROW_GRAIN - 1) / ROW_GRAIN);
        float[] partial = gGamma == null ? null : new float[tasks * cols];
        Parallel.forRange(tasks, 1, (t0, t1) -> {
            int ub = S.loopBound(cols);
            for (int t = t0; t < t1; t++) {
                int r0 = t * ROW_GRAIN, r1 = Math.min(rows, r0 + ROW_GRAIN), po = t * cols;
                for (int r = r0; r < r1; r++) {
                    int gr = gOff + r * cols, yr = yo + r * cols, gyr = gyo + r * cols, c = 0;
                    for (; c < ub; c += L) {
                        FloatVector gv = FloatVector.fromArray(S, gOut, gr + c);
                        if (gy != null) gv.mul(FloatVector.fromArray(S, g, go + c)).intoArray(gy, gyr + c);
                        if (partial != null)
                            gv.fma(FloatVector.fromArray(S, y, yr + c), FloatVector.fromArray(S, partial, po + c)).intoArray(partial, po + c);
                    }
                    for (; c < cols; c++) {
                        if (gy != null) gy[gyr + c] = gOut[gr + c] * g[go + c];
                        if (partial != null) partial[po + c] = Math.fma(gOut[gr + c], y[yr + c], partial[po + c]);
                    }
                }
            }
        });
        if (gGamma != null)
            for (int t = 0; t < tasks; t++) for (int c = 0; c < cols; c++) gGamma[ggo + c] += partial[t * cols + c];
    }

    public static void referenceForward(int rows, int cols, double[] x, int xo, double[] y, int yo, double[] g, int go, double[] out, int oo) {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) out[oo + r * cols + c] = x[xo + r * cols + c] + y[yo + r * cols + c] * g[go + c];
    }

    public static void referenceBackward(int rows, int cols, double[] gOut, int gOff, double[] y, int yo, double[] g, int go,
                                         double[] gy, int gyo, double[] gGamma, int ggo) {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) {
                double gv = gOut[gOff + r * cols + c];
                if (gy != null) gy[gyo + r * cols + c] = gv * g[go + c];
                if (gGamma != null) gGamma[ggo + c] += gv * y[yo + r * cols + c];
            }
    }
}
