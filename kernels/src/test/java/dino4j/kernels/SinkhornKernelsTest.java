package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class SinkhornKernelsTest {
    @Test
    void fastMatchesReference() {
        Random r = new Random(7);
        int[][] shapes = {{12, 64}, {1, 5}, {37, 129}, {200, 1000}, {3, 17}};
        for (int[] s : shapes) {
            int B = s[0], K = s[1];
            float[] t = uniform(r, B * K, -1, 1);
            for (double temp : new double[]{0.07, 0.04, 1.0}) {
                for (int iters : new int[]{0, 1, 3}) {
                    float[] out = new float[B * K];
                    SinkhornKernels.sinkhorn(t, 0, out, 0, B, K, (float) temp, B, iters);
                    double[] ref = new double[B * K];
                    SinkhornKernels.referenceSinkhorn(toDouble(t), 0, ref, 0, B, K, temp, B, iters);
                    assertRel("sinkhorn " + B + "x" + K + " T=" + temp + " it=" + iters, out, ref, 1e-5);
                }
            }
        }
    }

    /** Logits spread like N(0, 1) at τ = 0.04 span e^±110: a global shift underflows whole prototypes. */
    @Test
    void lowTemperatureWideLogitsKeepEveryPrototype() {
        Random r = new Random(11);
        int B = 38, K = 4096;
        float[] t = new float[B * K];
        for (int i = 0; i < t.length; i++) t[i] = (float) r.nextGaussian();
        float[] out = new float[B * K];
        SinkhornKernels.sinkhorn(t, 0, out, 0, B, K, 0.04f, B, 3);
        double[] ref = new double[B * K];
        SinkhornKernels.referenceSinkhorn(toDouble(t), 0, ref, 0, B, K, 0.04, B, 3);
        assertRel("sinkhorn N(0,1) logits, T=0.04", out, ref, 1e-5);
    }

    @Test
    void rowsAreDistributionsAndBtotScalesOnly() {
        Random r = new Random(3);
        int B = 20, K = 50;
        float[] t = uniform(r, B * K, -1, 1);
        float[] out = new float[B * K];
        SinkhornKernels.sinkhorn(t, 0, out, 0, B, K, 0.1f);
        for (int b = 0; b < B; b++) {
            double s = 0;
            for (int k = 0; k < K; k++) { s += out[b * K + k]; assertTrue(out[b * K + k] > 0); }
            assertEquals(1.0, s, 1e-5);
        }
        // a different Btot leaves the (row-normalised) result unchanged: rows are normalised last
        double[] a = new double[B * K], b2 = new double[B * K];
        SinkhornKernels.referenceSinkhorn(toDouble(t), 0, a, 0, B, K, 0.1, B, 3);
        SinkhornKernels.referenceSinkhorn(toDouble(t), 0, b2, 0, B, K, 0.1, 4 * B, 3);
        assertRel("btot", b2, a, 1e-12);
    }

    @Test
    void offsetsAndInPlace() {
        Random r = new Random(5);
        int B = 6, K = 33;
        float[] buf = new float[3 + B * K];
        float[] t = uniform(r, B * K, -1, 1);
        System.arraycopy(t, 0, buf, 3, B * K);
        SinkhornKernels.sinkhorn(buf, 3, buf, 3, B, K, 0.07f);
        double[] ref = new double[B * K];
        SinkhornKernels.referenceSinkhorn(toDouble(t), 0, ref, 0, B, K, 0.07, B, 3);
        float[] got = java.util.Arrays.copyOfRange(buf, 3, 3 + B * K);
        assertRel("in place", got, ref, 1e-5);
    }
}
