package dino4j.dino.eval;

import dino4j.dino.features.TestMatrices;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RankMeTest {
    /** n rows spread evenly over k orthonormal directions of R^d (random rotation): k equal singular values. */
    static Tensor evenOver(int k, int n, int d, long seed) {
        Random r = new Random(seed);
        double[][] basis = TestMatrices.orthonormalRows(k, d, r);
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i * d + j] = (float) (3 * basis[i % k][j]);
        return Tensor.of(x, n, d);
    }

    @Test
    void equalSingularValuesOverKDirectionsGiveRankK() {
        for (int k : new int[]{1, 5, 16})
            assertEquals(k, RankMe.of(evenOver(k, 64, 24, k)), 1e-3 * k, "k = " + k);
        // fewer rows than dimensions: the N×N Gram side
        assertEquals(7, RankMe.of(evenOver(7, 14, 40, 3)), 7e-3);
    }

    @Test
    void matchesTheClosedFormOfTwoColumns() {
        // Z = [a·u, b·v] with orthogonal unit columns u ⟂ v has singular values |a| and |b|
        int n = 50;
        float[] x = new float[n * 2];
        for (int i = 0; i < n; i++) { x[i * 2] = (float) (2.0 * (i % 2 == 0 ? 1 : -1) / Math.sqrt(n)); x[i * 2 + 1] = (float) (0.5 / Math.sqrt(n)); }
        double p = 2.0 / 2.5 + RankMe.EPS, q = 0.5 / 2.5 + RankMe.EPS;
        assertEquals(Math.exp(-p * Math.log(p) - q * Math.log(q)), RankMe.of(Tensor.of(x, n, 2)), 1e-5);
    }

    @Test
    void scaleDoesNotChangeItAndNoiseRaisesIt() {
        Tensor z = evenOver(4, 80, 16, 9);
        float[] big = z.f32().clone(), noisy = z.f32().clone();
        Random r = new Random(1);
        for (int i = 0; i < big.length; i++) { big[i] *= 1000; noisy[i] += (float) (0.3 * r.nextGaussian()); }
        assertEquals(RankMe.of(z), RankMe.of(Tensor.of(big, 80, 16)), 1e-4);
        double withNoise = RankMe.of(Tensor.of(noisy, 80, 16));
        assertTrue(withNoise > 4.5 && withNoise < 16, "noise spreads the spectrum: " + withNoise);
        assertEquals(1, RankMe.of(Tensor.of(new float[6], 3, 2)), 0, "all-zero embeddings");
    }

    @Test
    void tooWideFeaturesAreNotMeasuredAndLongOnesUseTheirFirstRows() {
        assertTrue(Double.isNaN(RankMe.orNaN(Tensor.of(new float[2 * (RankMe.MAX_WIDTH + 1)], 2, RankMe.MAX_WIDTH + 1))));
        // the first MAX_ROWS rows span 3 directions, the rows after them a fourth: only the first count
        int n = RankMe.MAX_ROWS + 64, d = 8;
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) x[i * d + (i < RankMe.MAX_ROWS ? i % 3 : 3)] = 1;
        assertEquals(3, RankMe.orNaN(Tensor.of(x, n, d)), 1e-3);
    }
}
