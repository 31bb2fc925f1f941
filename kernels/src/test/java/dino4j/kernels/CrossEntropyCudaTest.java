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

/** crossentropy.cu against a plain float64 loop (relative L2 ≤ 1e-5). */
@Tag("gpu")
class CrossEntropyCudaTest {

    /**
     * {R, K}: small rows (128-thread blocks), a row fully cached in shared memory by the backward (20000),
     * and rows larger than the cache (65536, 65539: part re-read from global memory).
     */
    private static final int[][] SHAPES = {{5, 1003}, {2, 1}, {4, 20000}, {3, 65536}, {2, 65539}};

    /** Targets: per row a random distribution times a row weight (Σt ≠ 1), with some exact zeros. */
    private static float[] targets(Random r, int R, int K) {
        float[] t = new float[R * K];
        for (int i = 0; i < R; i++) {
            double w = 0.3 + 1.5 * r.nextDouble(), sum = 0;
            double[] p = new double[K];
            for (int k = 0; k < K; k++) { p[k] = r.nextInt(5) == 0 ? 0 : Math.exp(3 * r.nextGaussian()); sum += p[k]; }
            if (sum == 0) { p[0] = 1; sum = 1; }
            for (int k = 0; k < K; k++) t[i * K + k] = (float) (w * p[k] / sum);
        }
        return t;
    }

    /** loss_r = −Σ t log_softmax(s·invT); gs = (softmax·Σt − t)·invT·g_r, all in double. */
    private static void reference(float[] s, float[] t, int R, int K, float invT, float[] g, double[] loss, double[] gs) {
        for (int i = 0; i < R; i++) {
            int o = i * K;
            double m = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < K; k++) m = Math.max(m, (double) s[o + k] * invT);
            double se = 0, st = 0;
            for (int k = 0; k < K; k++) { se += Math.exp((double) s[o + k] * invT - m); st += t[o + k]; }
            double lse = m + Math.log(se), l = 0;
            for (int k = 0; k < K; k++) {
                double lp = (double) s[o + k] * invT - lse;
                l -= t[o + k] * lp;
                gs[o + k] = (Math.exp(lp) * st - t[o + k]) * invT * g[i];
            }
            loss[i] = l;
        }
    }

    @Test
    void forwardAndBackwardMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(41);
        for (int[] sh : SHAPES)
            for (float invT : new float[]{10f, 1f / 0.07f}) {
                int R = sh[0], K = sh[1], n = R * K;
                String tag = R + "x" + K + " invT=" + invT;
                float[] s = randn(r, n), t = targets(r, R, K), g = randn(r, R);
                double[] loss = new double[R], gs = new double[n];
                reference(s, t, R, K, invT, g, loss, gs);
                DeviceBuffer ds = upload(c, s), dt = upload(c, t), dg = upload(c, g), dl = poisoned(c, R), dgs = poisoned(c, n);
                CrossEntropyCuda.forward(c, R, K, ds.ptr(), dt.ptr(), invT, dl.ptr());
                assertRel("ce forward " + tag, download(c, dl, R), loss, 1e-5);
                CrossEntropyCuda.backward(c, R, K, ds.ptr(), dt.ptr(), invT, dg.ptr(), dgs.ptr());
                assertRel("ce backward " + tag, download(c, dgs, n), gs, 1e-5);
                for (DeviceBuffer b : new DeviceBuffer[]{ds, dt, dg, dl, dgs}) b.release();
            }
    }

    @Test
    void unitMassTargetsGiveSoftmaxMinusTargets() {
        CudaContext c = gpu();
        Random r = new Random(42);
        int R = 3, K = 1027, n = R * K;
        float[] s = randn(r, n), t = new float[n], g = {1f, 1f, 1f};
        for (int i = 0; i < R; i++) t[i * K + r.nextInt(K)] = 1f;     // one-hot rows: Σt = 1
        double[] loss = new double[R], gs = new double[n];
        reference(s, t, R, K, 10f, g, loss, gs);
        DeviceBuffer ds = upload(c, s), dt = upload(c, t), dg = upload(c, g), dgs = poisoned(c, n);
        CrossEntropyCuda.backward(c, R, K, ds.ptr(), dt.ptr(), 10f, dg.ptr(), dgs.ptr());
        float[] got = download(c, dgs, n);
        assertRel("one-hot backward", got, gs, 1e-5);
        for (int i = 0; i < R; i++) {   // (softmax − t)/τ sums to 0 over a row
            double sum = 0;
            for (int k = 0; k < K; k++) sum += got[i * K + k];
            assertEquals(0.0, sum, 1e-4, "row " + i + " gradient sum");
        }
        for (DeviceBuffer b : new DeviceBuffer[]{ds, dt, dg, dgs}) b.release();
    }

    @Test
    void deterministic() {
        CudaContext c = gpu();
        Random r = new Random(43);
        int R = 3, K = 65539, n = R * K;
        float[] s = randn(r, n), t = targets(r, R, K), g = randn(r, R);
        DeviceBuffer ds = upload(c, s), dt = upload(c, t), dg = upload(c, g), dl = poisoned(c, R), dgs = poisoned(c, n);
        float[][] l = new float[2][], gs = new float[2][];
        for (int rep = 0; rep < 2; rep++) {
            CrossEntropyCuda.forward(c, R, K, ds.ptr(), dt.ptr(), 10f, dl.ptr());
            l[rep] = download(c, dl, R);
            CrossEntropyCuda.backward(c, R, K, ds.ptr(), dt.ptr(), 10f, dg.ptr(), dgs.ptr());
            gs[rep] = download(c, dgs, n);
            c.memset(dl.ptr(), 0xFF, 4L * R);
            c.memset(dgs.ptr(), 0xFF, 4L * n);
        }
        assertTrue(Arrays.equals(l[0], l[1]), "forward bit-identical");
        assertTrue(Arrays.equals(gs[0], gs[1]), "backward bit-identical");
        for (DeviceBuffer b : new DeviceBuffer[]{ds, dt, dg, dl, dgs}) b.release();
    }
}
