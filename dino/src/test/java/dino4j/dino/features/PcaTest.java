package dino4j.dino.features;

import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class PcaTest {
    @Test
    void recoversPlantedDirectionsInOrder() {
        // data = 5·u·a + 3·v·b + 1·w·c + small noise in 32 dims, u,v,w orthonormal: PCA must find u, v, w
        Random r = new Random(7);
        int n = 2000, d = 32;
        double[][] basis = new double[3][d];
        for (int t = 0; t < 3; t++) basis[t][t * 5 + 1] = 1;
        double[] scale = {5, 3, 1};
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < 3; t++) {
                double a = scale[t] * r.nextGaussian();
                for (int j = 0; j < d; j++) x[i * d + j] += (float) (a * basis[t][j]);
            }
            for (int j = 0; j < d; j++) x[i * d + j] += (float) (0.05 * r.nextGaussian() + 2.0);
        }
        Pca p = Pca.fit(Tensor.of(x, n, d), 3, null);
        for (int t = 0; t < 3; t++) {
            double dot = 0;
            for (int j = 0; j < d; j++) dot += p.components[t][j] * basis[t][j];
            assertEquals(1.0, Math.abs(dot), 1e-3, "component " + t);
            assertEquals(scale[t] * scale[t], p.variances[t], 0.1 * scale[t] * scale[t], "variance " + t);
        }
        assertEquals(2.0, p.mean[0], 0.01);
        double[][] w = p.project(Tensor.of(x, n, d), true);
        double var0 = 0;
        for (double[] row : w) var0 += row[0] * row[0];
        assertEquals(1.0, var0 / (n - 1), 0.02, "whitened projection has unit variance");
    }

    @Test
    void jacobiDiagonalises() {
        double[][] a = {{4, 1, 0.5}, {1, 3, 0.2}, {0.5, 0.2, 1}};
        double[] eig = new double[3];
        double[][] v = Pca.jacobi(a, eig);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 3; i++) {
                double av = 0;
                for (int j = 0; j < 3; j++) av += a[i][j] * v[j][c];
                assertEquals(eig[c] * v[i][c], av, 1e-10);
            }
    }
}
