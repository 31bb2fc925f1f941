package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class KoLeoKernelsTest {
    @Test
    void fastMatchesReference() {
        Random r = new Random(11);
        int[][] shapes = {{16, 32}, {2, 3}, {33, 70}, {64, 384}};
        for (int[] s : shapes) {
            int N = s[0], D = s[1];
            float[] x = randn(r, N * D);
            float[] xh = new float[N * D], nr = new float[N], d = new float[N];
            int[] nn = new int[N];
            double loss = KoLeoKernels.forward(x, 0, N, D, xh, nr, nn, d);
            double[] xd = toDouble(x), rxh = new double[N * D], rnr = new double[N], rd = new double[N];
            int[] rnn = new int[N];
            double ref = KoLeoKernels.referenceForward(xd, 0, N, D, rxh, rnr, rnn, rd);
            assertEquals(ref, loss, 1e-5 * Math.abs(ref) + 1e-6, "koleo loss " + N + "x" + D);
            assertArrayEquals(rnn, nn, "neighbours " + N + "x" + D);
            float[] gx = new float[N * D];
            KoLeoKernels.backward(0.7f, xh, nr, nn, d, N, D, gx, 0);
            double[] rg = new double[N * D];
            KoLeoKernels.referenceBackward(0.7, rxh, rnr, rnn, rd, N, D, rg, 0);
            assertRel("koleo grad " + N + "x" + D, gx, rg, 1e-5);
        }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(12);
        int N = 8, D = 6;
        double[] x = toDouble(randn(r, N * D));
        x[5] *= 3; // vary the norms
        double[] xh = new double[N * D], nr = new double[N], d = new double[N];
        int[] nn = new int[N];
        KoLeoKernels.referenceForward(x, 0, N, D, xh, nr, nn, d);
        double[] g = new double[N * D];
        KoLeoKernels.referenceBackward(1.3, xh, nr, nn, d, N, D, g, 0);
        // nearest neighbours are piecewise constant: small steps do not change them for generic data
        checkFiniteDifferences("koleo", v -> new double[]{KoLeoKernels.referenceLoss(v, 0, N, D)}, x, new double[]{1.3}, g, 1e-6);
    }
}
