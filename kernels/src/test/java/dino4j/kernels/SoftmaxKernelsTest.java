package dino4j.kernels;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.junit.jupiter.api.Test;

class SoftmaxKernelsTest {

    static final int[][] SIZES = {{1, 1}, {3, 7}, {5, 33}, {17, 100}, {4, 1029}, {300, 65}};


    @Test
    void vectorExpAccuracy() {
        // the Vector API EXP vs Math.exp over the range softmax uses (x - max <= 0)
        int n = 1 << 16;
        float[] x = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) x[i] = -87f + 97f * i / n;
        int bound = Simd.F.loopBound(n);
        for (int i = 0; i < bound; i += Simd.LANES)
            FloatVector.fromArray(Simd.F, x, i).lanewise(VectorOperators.EXP).intoArray(y, i);
        double maxRel = 0;
        for (int i = 0; i < bound; i++) {
            double e = Math.exp(x[i]);
            maxRel = Math.max(maxRel, Math.abs(y[i] - e) / e);
        }
        assertTrue(maxRel < 1e-6, "vector exp max rel err " + maxRel);
    }

    @Test
    void forwardMatchesReference() {
        Random r = new Random(3);
        for (int[] s : SIZES) for (boolean log : new boolean[] {false, true}) {
            int rows = s[0], cols = s[1], n = rows * cols, xo = 3, yo = 5;
            float[] x = new float[xo + n];
            System.arraycopy(randn(r, n, 8, 30), 0, x, xo, n);
            float[] y = new float[yo + n];
            double[] yd = new double[n];
            if (log) {
                SoftmaxKernels.logSoftmax(rows, cols, x, xo, y, yo);
                SoftmaxKernels.referenceLogSoftmax(rows, cols, toDouble(x), xo, yd, 0);
            } else {
                SoftmaxKernels.softmax(rows, cols, x, xo, y, yo);
                SoftmaxKernels.referenceSoftmax(rows, cols, toDouble(x), xo, yd, 0);
            }
            double e = relL2(y, yo, yd, 0, n);
            assertTrue(e < 1e-5, "log=" + log + " " + rows + "x" + cols + " err " + e);
            // in place
            float[] z = x.clone();
            if (log) SoftmaxKernels.logSoftmax(rows, cols, z, xo, z, xo); else SoftmaxKernels.softmax(rows, cols, z, xo, z, xo);
            for (int i = 0; i < n; i++) assertEquals(y[yo + i], z[xo + i]);
        }
    }

    @Test
    void backwardMatchesReference() {
        Random r = new Random(4);
        for (int[] s : SIZES) for (boolean log : new boolean[] {false, true}) {
            int rows = s[0], cols = s[1], n = rows * cols;
            float[] x = randn(r, n, 3, 0), gy = randn(r, n, 1, 0);
            float[] y = new float[n], gx = new float[n + 2];
            double[] yd = new double[n], gxd = new double[n];
            if (log) {
                SoftmaxKernels.logSoftmax(rows, cols, x, 0, y, 0);
                SoftmaxKernels.logSoftmaxBackward(rows, cols, y, 0, gy, 0, gx, 2);
                SoftmaxKernels.referenceLogSoftmax(rows, cols, toDouble(x), 0, yd, 0);
                SoftmaxKernels.referenceLogSoftmaxBackward(rows, cols, yd, 0, toDouble(gy), 0, gxd, 0);
            } else {
                SoftmaxKernels.softmax(rows, cols, x, 0, y, 0);
                SoftmaxKernels.softmaxBackward(rows, cols, y, 0, gy, 0, gx, 2);
                SoftmaxKernels.referenceSoftmax(rows, cols, toDouble(x), 0, yd, 0);
                SoftmaxKernels.referenceSoftmaxBackward(rows, cols, yd, 0, toDouble(gy), 0, gxd, 0);
            }
            double e = relL2(gx, 2, gxd, 0, n);
            assertTrue(e < 1e-5, "log=" + log + " " + rows + "x" + cols + " err " + e);
        }
    }

    @Test
    void referenceBackwardFiniteDifference() {
        Random r = new Random(5);
        int rows = 3, cols = 7, n = rows * cols;
        double[] x = new double[n], rr = new double[n];
        for (int i = 0; i < n; i++) { x[i] = 2 * r.nextGaussian(); rr[i] = r.nextGaussian(); }
        for (boolean log : new boolean[] {false, true}) {
            double[] y = new double[n], g = new double[n];
            if (log) {
                SoftmaxKernels.referenceLogSoftmax(rows, cols, x, 0, y, 0);
                SoftmaxKernels.referenceLogSoftmaxBackward(rows, cols, y, 0, rr, 0, g, 0);
            } else {
                SoftmaxKernels.referenceSoftmax(rows, cols, x, 0, y, 0);
                SoftmaxKernels.referenceSoftmaxBackward(rows, cols, y, 0, rr, 0, g, 0);
            }
            double h = 1e-6;
            for (int i = 0; i < n; i++) {
                double[] xp = x.clone(), xm = x.clone();
                xp[i] += h; xm[i] -= h;
                double[] yp = new double[n], ym = new double[n];
                if (log) {
                    SoftmaxKernels.referenceLogSoftmax(rows, cols, xp, 0, yp, 0);
                    SoftmaxKernels.referenceLogSoftmax(rows, cols, xm, 0, ym, 0);
                } else {
                    SoftmaxKernels.referenceSoftmax(rows, cols, xp, 0, yp, 0);
                    SoftmaxKernels.referenceSoftmax(rows, cols, xm, 0, ym, 0);
                }
                double lp = 0, lm = 0;
                for (int j = 0; j < n; j++) { lp += rr[j] * yp[j]; lm += rr[j] * ym[j]; }
                double fd = (lp - lm) / (2 * h);
                assertEquals(fd, g[i], 1e-7 * (1 + Math.abs(g[i])), "log=" + log + " i=" + i);
            }
        }
    }
}
