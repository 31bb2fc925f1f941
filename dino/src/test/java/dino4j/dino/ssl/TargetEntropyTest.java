package dino4j.dino.ssl;

import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TargetEntropyTest {
    @Test
    void uniformRowsGiveLnKAndOneHotRowsZero() {
        int K = 8;
        float[] q = new float[2 * K];
        for (int k = 0; k < K; k++) q[k] = 1f / K;   // row 0 uniform: ln 8
        q[K + 3] = 1f;                                // row 1 one-hot: 0 (0·log 0 counts as 0)
        assertEquals(Math.log(K) / 2, SslTrainer.meanEntropy(Tensor.of(q, 2, K)), 1e-6);
        float[] h = {0.5f, 0.5f, 0, 0};
        assertEquals(Math.log(2), SslTrainer.meanEntropy(Tensor.of(h, 1, 4)), 1e-6);
    }
}
