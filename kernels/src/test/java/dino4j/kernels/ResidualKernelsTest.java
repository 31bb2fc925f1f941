package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;

class ResidualKernelsTest {
    @Test
    void fastMatchesReferenceAndReferenceMatchesFiniteDifferences() {
        Random r = new Random(4);
        for (int[] rc : new int[][]{{1, 1}, {3, 17}, {130, 48}, {257, 384}}) {
            int rows = rc[0], cols = rc[1];
            float[] x = randn(r, rows * cols), y = randn(r, rows * cols), g = randn(r, cols), go = randn(r, rows * cols);
            float[] out = new float[rows * cols];
            ResidualKernels.forward(rows, cols, x, 0, y, 0, g, 0, out, 0);
            double[] outD = new double[rows * cols];
            ResidualKernels.referenceForward(rows, cols, toDouble(x), 0, toDouble(y), 0, toDouble(g), 0, outD, 0);
            assertRel("forward " + rows + "x" + cols, out, outD, 1e-6);

            float[] gy = new float[rows * cols], gg = new float[cols];
            java.util.Arrays.fill(gg, 0.5f);   // accumulates
            ResidualKernels.backward(rows, cols, go, 0, y, 0, g, 0, gy, 0, gg, 0);
            double[] gyD = new double[rows * cols], ggD = new double[cols];
            java.util.Arrays.fill(ggD, 0.5);
            ResidualKernels.referenceBackward(rows, cols, toDouble(go), 0, toDouble(y), 0, toDouble(g), 0, gyD, 0, ggD, 0);
            assertRel("grad y", gy, gyD, 1e-6);
            assertRel("grad gamma", gg, ggD, 1e-5);
        }
        // the double reference backward against central differences of the reference forward (loss Σ r∘out)
        int rows = 4, cols = 5;
        double[] x = toDouble(randn(r, rows * cols)), y = toDouble(randn(r, rows * cols)), g = toDouble(randn(r, cols));
        double[] rr = toDouble(randn(r, rows * cols));
        double[] gyD = new double[rows * cols], ggD = new double[cols];
        ResidualKernels.referenceBackward(rows, cols, rr, 0, y, 0, g, 0, gyD, 0, ggD, 0);
        checkFiniteDifferences("residual dy", v -> {
            double[] o = new double[rows * cols];
            ResidualKernels.referenceForward(rows, cols, x, 0, v, 0, g, 0, o, 0);
            return o;
        }, y, rr, gyD, 1e-6);
        checkFiniteDifferences("residual dgamma", v -> {
            double[] o = new double[rows * cols];
            ResidualKernels.referenceForward(rows, cols, x, 0, y, 0, v, 0, o, 0);
            return o;
        }, g, rr, ggD, 1e-6);
    }
}
