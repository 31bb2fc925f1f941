package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class GramKernelsTest {
    @Test
    void fastMatchesReferenceAcrossTileBoundaries() {
        Random r = new Random(21);
        // P spans several row and column tiles (TILE_I = 64, TILE_J = 256) with ragged ends
        int[][] shapes = {{2, 20, 32}, {1, 1, 5}, {3, 70, 17}, {1, 300, 24}};
        for (int[] s : shapes) {
            int N = s[0], P = s[1], D = s[2], n = N * P * D;
            float[] x = randn(r, n), t = randn(r, n);
            float[] sh = new float[n], th = new float[n], ns = new float[N * P], nt = new float[N * P];
            double loss = GramKernels.forward(x, 0, t, 0, N, P, D, sh, ns, th, nt);
            double ref = GramKernels.referenceForward(toDouble(x), 0, toDouble(t), 0, N, P, D);
            assertEquals(ref, loss, 1e-5 * Math.abs(ref) + 1e-9, "gram loss " + N + "x" + P + "x" + D);
            float[] gs = new float[n], gt = new float[n];
            GramKernels.backward(0.9f, sh, ns, th, nt, N, P, D, gs, gt);
            double[] rgs = new double[n], rgt = new double[n];
            GramKernels.referenceBackward(0.9, toDouble(x), 0, toDouble(t), 0, N, P, D, rgs, rgt);
            assertRel("gram grad s", gs, rgs, 1e-5);
            assertRel("gram grad t", gt, rgt, 1e-5);
        }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(22);
        int N = 2, P = 5, D = 4, n = N * P * D;
        double[] x = toDouble(randn(r, n)), t = toDouble(randn(r, n));
        double[] gs = new double[n], gt = new double[n];
        GramKernels.referenceBackward(1.0, x, 0, t, 0, N, P, D, gs, gt);
        checkFiniteDifferences("gram s", v -> new double[]{GramKernels.referenceForward(v, 0, t, 0, N, P, D)}, x, new double[]{1}, gs, 1e-6);
        checkFiniteDifferences("gram t", v -> new double[]{GramKernels.referenceForward(x, 0, v, 0, N, P, D)}, t, new double[]{1}, gt, 1e-6);
    }

    @Test
    void rowNormalisationBackwardMatchesFiniteDifferences() {
        Random r = new Random(23);
        int rows = 4, D = 7;
        double[] x = toDouble(randn(r, rows * D));
        double[] ry = toDouble(randn(r, rows * D));
        double[] xh = new double[rows * D], nr = new double[rows];
        GramKernels.referenceL2NormalizeRows(x, 0, rows, D, GramKernels.EPS, xh, 0, nr);
        double[] g = ry.clone();
        GramKernels.referenceL2NormalizeRowsBackward(xh, 0, nr, rows, D, GramKernels.EPS, g, 0);
        checkFiniteDifferences("l2 rows", v -> {
            double[] o = new double[rows * D];
            GramKernels.referenceL2NormalizeRows(v, 0, rows, D, GramKernels.EPS, o, 0, new double[rows]);
            return o;
        }, x, ry, g, 1e-6);
    }
}
