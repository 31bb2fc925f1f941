package dino4j.kernels;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerNormKernelsTest {

    static final int[][] SIZES = {{1, 1}, {3, 7}, {17, 129}, {64, 384}, {600, 48}};


    @Test
    void forwardAndBackwardMatchReference() {
        Random r = new Random(6);
        for (int[] s : SIZES) for (boolean affine : new boolean[] {false, true}) {
            int rows = s[0], cols = s[1], n = rows * cols, xo = 2, yo = 3;
            float eps = 1e-5f;
            float[] x = new float[xo + n];
            System.arraycopy(randn(r, n, 2, 5), 0, x, xo, n);
            float[] gamma = affine ? randn(r, cols, 0.5, 1) : null, beta = affine ? randn(r, cols, 0.5, 0) : null;
            float[] y = new float[yo + n], mean = new float[rows], rstd = new float[rows];
            LayerNormKernels.forward(rows, cols, x, xo, gamma, beta, eps, y, yo, mean, rstd);
            double[] yd = new double[n], md = new double[rows], rd = new double[rows];
            LayerNormKernels.referenceForward(rows, cols, toDouble(x), xo, toDouble(gamma), toDouble(beta), eps, yd, 0, md, rd);
            String tag = rows + "x" + cols + " affine=" + affine;
            assertTrue(relL2(y, yo, yd, 0, n) < 1e-5, tag + " y err " + relL2(y, yo, yd, 0, n));
            assertTrue(relL2(mean, 0, md, 0, rows) < 1e-6, tag + " mean");
            assertTrue(relL2(rstd, 0, rd, 0, rows) < 1e-5, tag + " rstd");

            float[] gy = new float[n + 1];
            System.arraycopy(randn(r, n, 1, 0), 0, gy, 1, n);
            float[] gx = new float[n + 4];
            float[] gg = affine ? randn(r, cols, 1, 0) : null, gb = affine ? randn(r, cols, 1, 0) : null;
            double[] ggd = toDouble(gg), gbd = toDouble(gb);
            LayerNormKernels.backward(rows, cols, x, xo, gy, 1, gamma, mean, rstd, gx, 4, gg, gb);
            double[] gxd = new double[n];
            LayerNormKernels.referenceBackward(rows, cols, toDouble(x), xo, toDouble(gy), 1, toDouble(gamma), md, rd, gxd, 0, ggd, gbd);
            assertTrue(relL2(gx, 4, gxd, 0, n) < 1e-5, tag + " gx err " + relL2(gx, 4, gxd, 0, n));
            if (affine) {
                assertTrue(relL2(gg, 0, ggd, 0, cols) < 1e-5, tag + " gGamma err " + relL2(gg, 0, ggd, 0, cols));
                assertTrue(relL2(gb, 0, gbd, 0, cols) < 1e-5, tag + " gBeta err " + relL2(gb, 0, gbd, 0, cols));
            }
        }
    }

    @Test
    void backwardIsDeterministic() {
        Random r = new Random(7);
        int rows = 1000, cols = 40, n = rows * cols;
        float[] x = randn(r, n, 1, 0), gy = randn(r, n, 1, 0), gamma = randn(r, cols, 1, 1);
        float[] y = new float[n], mean = new float[rows], rstd = new float[rows];
        LayerNormKernels.forward(rows, cols, x, 0, gamma, null, 1e-6f, y, 0, mean, rstd);
        float[] ref = null;
        for (int rep = 0; rep < 5; rep++) {
            float[] gg = new float[cols], gx = new float[n];
            LayerNormKernels.backward(rows, cols, x, 0, gy, 0, gamma, mean, rstd, gx, 0, gg, null);
            if (ref == null) ref = gg; else assertArrayEquals(ref, gg);
        }
    }

    @Test
    void referenceBackwardFiniteDifference() {
        Random r = new Random(8);
        int rows = 3, cols = 6, n = rows * cols;
        double eps = 1e-5;
        double[] x = new double[n], rr = new double[n], gamma = new double[cols], beta = new double[cols];
        for (int i = 0; i < n; i++) { x[i] = r.nextGaussian(); rr[i] = r.nextGaussian(); }
        for (int i = 0; i < cols; i++) { gamma[i] = 1 + 0.5 * r.nextGaussian(); beta[i] = r.nextGaussian(); }
        double[] y = new double[n], mean = new double[rows], rstd = new double[rows];
        LayerNormKernels.referenceForward(rows, cols, x, 0, gamma, beta, eps, y, 0, mean, rstd);
        double[] gx = new double[n], gg = new double[cols], gb = new double[cols];
        LayerNormKernels.referenceBackward(rows, cols, x, 0, rr, 0, gamma, mean, rstd, gx, 0, gg, gb);
        double h = 1e-6;
        double[][] params = {x, gamma, beta};
        double[][] grads = {gx, gg, gb};
        for (int p = 0; p < 3; p++) {
            for (int i = 0; i < params[p].length; i++) {
                double old = params[p][i];
                params[p][i] = old + h;
                double lp = loss(rows, cols, x, gamma, beta, eps, rr);
                params[p][i] = old - h;
                double lm = loss(rows, cols, x, gamma, beta, eps, rr);
                params[p][i] = old;
                double fd = (lp - lm) / (2 * h);
                assertEquals(fd, grads[p][i], 1e-7 * (1 + Math.abs(fd)), "param " + p + " idx " + i);
            }
        }
    }

    private static double loss(int rows, int cols, double[] x, double[] gamma, double[] beta, double eps, double[] rr) {
        double[] y = new double[rows * cols];
        LayerNormKernels.referenceForward(rows, cols, x, 0, gamma, beta, eps, y, 0, null, null);
        double l = 0;
        for (int i = 0; i < y.length; i++) l += rr[i] * y[i];
        return l;
    }
}
