package dino4j.kernels;

import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared helpers of the kernel conformance tests. */
final class FamilyTestSupport {
    private FamilyTestSupport() {}

    static float[] randn(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** shift + scale·N(0,1) samples. */
    static float[] randn(Random r, int n, double scale, double shift) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (shift + scale * r.nextGaussian());
        return x;
    }

    /** Relative L2 error of a[aOff, aOff+n) against ref[rOff, rOff+n). */
    static double relL2(float[] a, int aOff, double[] ref, int rOff, int n) {
        double num = 0, den = 0;
        for (int i = 0; i < n; i++) { double d = a[aOff + i] - ref[rOff + i]; num += d * d; den += ref[rOff + i] * ref[rOff + i]; }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    static float[] uniform(Random r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return a;
    }

    static double[] toDouble(float[] a) {
        if (a == null) return null;
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    static double relL2(float[] got, double[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) { double e = got[i] - ref[i]; num += e * e; den += ref[i] * ref[i]; }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    static void assertRel(String what, float[] got, double[] ref, double tol) {
        double e = relL2(got, ref);
        assertTrue(e <= tol, what + ": relative L2 error " + e + " > " + tol);
    }

    static void assertRel(String what, double[] got, double[] ref, double tol) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) { double e = got[i] - ref[i]; num += e * e; den += ref[i] * ref[i]; }
        double e = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        assertTrue(e <= tol, what + ": relative L2 error " + e + " > " + tol);
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /**
     * Central finite differences in float64 of loss(x) = Σ r∘f(x), compared with the analytic gradient
     * {@code grad} (what the reference backward produced for gy = r). Checks every coordinate.
     */
    static void checkFiniteDifferences(String what, Function<double[], double[]> f, double[] x, double[] r,
                                       double[] grad, double tol) {
        final double h = 1e-5;
        double maxErr = 0, scale = 0;
        double[] fd = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double x0 = x[i];
            x[i] = x0 + h; double lp = dot(r, f.apply(x));
            x[i] = x0 - h; double lm = dot(r, f.apply(x));
            x[i] = x0;
            fd[i] = (lp - lm) / (2 * h);
            maxErr = Math.max(maxErr, Math.abs(fd[i] - grad[i]));
            scale = Math.max(scale, Math.abs(fd[i]));
        }
        assertTrue(maxErr <= tol * Math.max(1.0, scale),
                what + ": finite-difference max error " + maxErr + " (grad scale " + scale + ")");
    }
}
