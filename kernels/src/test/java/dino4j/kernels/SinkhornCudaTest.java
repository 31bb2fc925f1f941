package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dino4j.kernels.CudaTestSupport.*;
import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** sinkhorn.cu against SinkhornKernels.referenceSinkhorn (float64; relative L2 ≤ 1e-5). */
@Tag("gpu")
class SinkhornCudaTest {

    /** {B, K}: odd sizes, one row, several row chunks (B=130), 512- and 1024-thread row blocks. */
    private static final int[][] SHAPES = {{3, 1003}, {1, 5}, {37, 129}, {130, 8195}, {24, 65536}};

    private static double[] reference(float[] x, int B, int K, float temp, int btot, int iters) {
        double[] ref = new double[B * K];
        SinkhornKernels.referenceSinkhorn(toDouble(x), 0, ref, 0, B, K, temp, btot, iters);
        return ref;
    }

    private static float[] run(CudaContext c, float[] x, int B, int K, float temp, int btot, int iters) {
        DeviceBuffer dx = upload(c, x), out = poisoned(c, (long) B * K);
        SinkhornCuda.sinkhorn(c, dx.ptr(), out.ptr(), B, K, temp, btot, iters);
        float[] q = download(c, out, B * K);
        dx.release();
        out.release();
        return q;
    }

    @Test
    void matchesReference() {
        CudaContext c = gpu();
        Random r = new Random(31);
        for (int[] s : SHAPES) {
            int B = s[0], K = s[1];
            float[] x = uniform(r, B * K, -1, 1);   // teacher logits of a weight-normalised head: cosines
            for (float temp : new float[]{0.04f, 0.07f, 1f})
                for (int iters : new int[]{0, 1, 3}) {
                    String tag = "sinkhorn " + B + "x" + K + " T=" + temp + " it=" + iters;
                    assertRel(tag, run(c, x, B, K, temp, B, iters), reference(x, B, K, temp, B, iters), 1e-5);
                }
            // Btot only scales Q when no row normalisation follows (iters = 0); with it, it cancels
            for (int iters : new int[]{0, 3})
                assertRel("btot 3B " + B + "x" + K + " it=" + iters, run(c, x, B, K, 0.05f, 3 * B, iters),
                        reference(x, B, K, 0.05f, 3 * B, iters), 1e-5);
        }
    }

    @Test
    void rowsAreDistributions() {
        CudaContext c = gpu();
        Random r = new Random(32);
        int B = 9, K = 4099;
        float[] q = run(c, uniform(r, B * K, -1, 1), B, K, 0.06f, B, 3);
        for (int b = 0; b < B; b++) {
            double sum = 0;
            for (int k = 0; k < K; k++) { assertTrue(q[b * K + k] > 0, "positive"); sum += q[b * K + k]; }
            assertEquals(1.0, sum, 1e-5, "row " + b);
        }
    }

    @Test
    void inPlace() {
        CudaContext c = gpu();
        Random r = new Random(33);
        for (int[] s : new int[][]{{3, 1003}, {24, 65536}}) {
            int B = s[0], K = s[1];
            float[] x = uniform(r, B * K, -1, 1);
            DeviceBuffer d = upload(c, x);
            SinkhornCuda.sinkhorn(c, d.ptr(), d.ptr(), B, K, 0.07f);
            assertRel("in place " + B + "x" + K, download(c, d, B * K), reference(x, B, K, 0.07f, B, 3), 1e-5);
            d.release();
        }
    }

    @Test
    void deterministic() {
        CudaContext c = gpu();
        Random r = new Random(34);
        for (int[] s : new int[][]{{130, 8195}, {24, 65536}, {3, 1003}}) {
            int B = s[0], K = s[1];
            float[] x = uniform(r, B * K, -1, 1);
            for (int iters : new int[]{0, 3}) {
                float[] a = run(c, x, B, K, 0.07f, B, iters), b = run(c, x, B, K, 0.07f, B, iters);
                assertTrue(Arrays.equals(a, b), "bit-identical reruns " + B + "x" + K + " it=" + iters);
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        CudaContext c = gpu();
        DeviceBuffer d = c.alloc(64);
        assertThrows(IllegalArgumentException.class, () -> SinkhornCuda.sinkhorn(c, d.ptr(), d.ptr(), 0, 4, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> SinkhornCuda.sinkhorn(c, d.ptr(), d.ptr(), 2, 4, 0f));
        assertThrows(IllegalArgumentException.class, () -> SinkhornCuda.sinkhorn(c, null, d.ptr(), 2, 4, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> SinkhornCuda.sinkhorn(c, d.ptr(), d.ptr(), 2, 4, 0.1f, 2, -1));
        d.release();
    }
}
