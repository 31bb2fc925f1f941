package dino4j.dino.features;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SymmetricEigenTest {
    static double[][] randomSymmetric(int n, Random r) {
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i][j] = a[j][i] = r.nextGaussian();
        return a;
    }

    static void assertSpectraEqual(double[] want, double[] got, double tol, String what) {
        double[] w = want.clone();
        Arrays.sort(w);
        double scale = 0;
        for (double x : w) scale = Math.max(scale, Math.abs(x));
        for (int i = 0; i < w.length; i++)
            assertEquals(w[i], got[i], tol * Math.max(scale, 1e-300), what + ": eigenvalue " + i + " of " + w.length);
    }

    @Test
    void matchesJacobiOnRandomSymmetricMatrices() {
        Random r = new Random(7);
        for (int n : new int[]{1, 2, 3, 5, 8, 17, 40, 64}) {
            double[][] a = randomSymmetric(n, r);
            double[][] copy = new double[n][];
            for (int i = 0; i < n; i++) copy[i] = a[i].clone();
            double[] jacobi = new double[n];
            Pca.jacobi(a, jacobi);
            assertSpectraEqual(jacobi, SymmetricEigen.eigenvalues(a), 1e-11, "n = " + n);
            for (int i = 0; i < n; i++) assertArrayEquals(copy[i], a[i], "the input stays unchanged");
        }
    }

    @Test
    void handlesRepeatedZeroAndAlreadyDiagonalSpectra() {
        // Q diag(λ) Qᵀ with λ repeated and zeros, Q from Gram–Schmidt of a random matrix
        int n = 12;
        Random r = new Random(3);
        double[][] q = TestMatrices.orthonormalRows(n, n, r);
        double[] lambda = {5, 5, 5, 2, 2, 0, 0, 0, 0, -1, 1e-3, 7};
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int k = 0; k < n; k++) a[i][j] += q[k][i] * lambda[k] * q[k][j];
        assertSpectraEqual(lambda, SymmetricEigen.eigenvalues(a), 1e-12, "repeated");
        double[][] diag = new double[4][4];
        double[] dv = {3, -2, 0, 3};
        for (int i = 0; i < 4; i++) diag[i][i] = dv[i];
        assertSpectraEqual(dv, SymmetricEigen.eigenvalues(diag), 0, "diagonal");
        assertSpectraEqual(new double[5], SymmetricEigen.eigenvalues(new double[5][5]), 0, "zero");
    }
}
