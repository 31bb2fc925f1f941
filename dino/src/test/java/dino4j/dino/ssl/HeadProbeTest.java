package dino4j.dino.ssl;

import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class HeadProbeTest {
    @Test
    void meanPairwiseCosineMatchesThePairByPairSum() {
        Random r = new Random(5);
        int n = 7, d = 5;
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() + (i % d == 0 ? 1.5f : 0f);
        double sum = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                if (i == j) continue;
                double dot = 0, a = 0, b = 0;
                for (int k = 0; k < d; k++) { dot += x[i * d + k] * x[j * d + k]; a += x[i * d + k] * x[i * d + k]; b += x[j * d + k] * x[j * d + k]; }
                sum += dot / Math.sqrt(a * b);
            }
        assertEquals(sum / (n * (n - 1)), HeadProbe.meanPairwiseCosine(Tensor.of(x, n, d)), 1e-6);
        float[] same = {1, 2, 1, 2, 1, 2};
        assertEquals(1.0, HeadProbe.meanPairwiseCosine(Tensor.of(same, 3, 2)), 1e-9);
    }

    @Test
    void stdAcrossRowsIsThePerColumnSpreadAveraged() {
        // column 0: {1, 3} → std 1; column 1: {5, 5} → 0
        assertEquals(0.5, HeadProbe.stdAcrossRows(Tensor.of(new float[]{1, 5, 3, 5}, 2, 2)), 1e-9);
    }
}
