package dino4j.dino.features;

import java.util.Random;

/** Matrices with a known spectrum for the linear-algebra tests. */
public final class TestMatrices {
    private TestMatrices() {}

    /** k random orthonormal rows of length d (Gram–Schmidt of Gaussian rows), k ≤ d. */
    public static double[][] orthonormalRows(int k, int d, Random r) {
        double[][] q = new double[k][d];
        for (int a = 0; a < k; a++) {
            for (int j = 0; j < d; j++) q[a][j] = r.nextGaussian();
            for (int b = 0; b < a; b++) {
                double p = 0;
                for (int j = 0; j < d; j++) p += q[a][j] * q[b][j];
                for (int j = 0; j < d; j++) q[a][j] -= p * q[b][j];
            }
            double nn = 0;
            for (int j = 0; j < d; j++) nn += q[a][j] * q[a][j];
            for (int j = 0; j < d; j++) q[a][j] /= Math.sqrt(nn);
        }
        return q;
    }
}
