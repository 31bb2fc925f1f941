package dino4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Conformance of the float32 GEMM against the double reference: relative L2 error ≲ 1e-5. */
class GemmKernelsTest {
    private static final double TOL = 1e-5;

    @AfterAll static void restoreThreads() { Parallel.setThreads(Parallel.defaultThreads()); }

    /** Runs one case (padding, offsets, leading dims) and returns the relative L2 error. */
    private static double check(SplittableRandom rnd, boolean tA, boolean tB, int m, int n, int k,
                                float alpha, float beta, int pad) {
        int aRows = tA ? k : m, aCols = tA ? m : k;
        int bRows = tB ? n : k, bCols = tB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        int aOff = pad * 3 + 1, bOff = pad * 2 + 2, cOff = pad + 3;
        float[] a = new float[aOff + Math.max(0, aRows * lda) + 5];
        float[] b = new float[bOff + Math.max(0, bRows * ldb) + 5];
        float[] c = new float[cOff + Math.max(0, m * ldc) + 5];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < c.length; i++) c[i] = beta == 0f ? Float.NaN : (float) rnd.nextDouble(-1, 1);
        double[] ad = toD(a), bd = toD(b), cd = toD(c);
        GemmKernels.reference(tA, tB, m, n, k, alpha, ad, aOff, lda, bd, bOff, ldb, beta, cd, cOff, ldc);
        GemmKernels.sgemm(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        double num = 0, den = 0;
        for (int i = 0; i < c.length; i++) {
            boolean inside = false;
            int rel = i - cOff;
            if (rel >= 0 && rel < m * ldc && rel % ldc < n) inside = true;
            if (!inside) {
                // Outside the m×n window C must be untouched (NaN stays NaN, values bit-equal).
                assertEquals(Float.floatToRawIntBits((float) cd[i]), Float.floatToRawIntBits(c[i]),
                        "wrote outside C at " + i + " for " + desc(tA, tB, m, n, k, alpha, beta, pad));
                continue;
            }
            assertTrue(Float.isFinite(c[i]), "non-finite C at " + i + " for " + desc(tA, tB, m, n, k, alpha, beta, pad));
            double d = c[i] - cd[i];
            num += d * d;
            den += cd[i] * cd[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static String desc(boolean tA, boolean tB, int m, int n, int k, float alpha, float beta, int pad) {
        return "tA=" + tA + " tB=" + tB + " " + m + "x" + n + "x" + k + " alpha=" + alpha + " beta=" + beta + " pad=" + pad;
    }

    private static double[] toD(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    private static void sweep(int[][] shapes, int seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] ab = {{1f, 0f}, {0.5f, 1f}, {-1.5f, 0.25f}, {2f, -1f}};
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                boolean tA = (t & 1) != 0, tB = (t & 2) != 0;
                float[] x = ab[(s[0] + s[1] + s[2] + t) % ab.length];
                int pad = (s[0] + t) % 3 == 0 ? 0 : 1 + (s[1] % 5);
                double err = check(rnd, tA, tB, s[0], s[1], s[2], x[0], x[1], pad);
                assertTrue(err <= TOL, "rel L2 " + err + " for " + desc(tA, tB, s[0], s[1], s[2], x[0], x[1], pad));
            }
        }
    }

    private static final int[][] SMALL = {
            {1, 1, 1}, {1, 7, 3}, {7, 1, 5}, {2, 3, 1}, {5, 17, 9}, {6, 32, 8}, {6, 16, 1}, {13, 33, 31},
            {17, 31, 64}, {64, 64, 64}, {3, 100, 2}, {100, 3, 7}, {12, 48, 1}, {1, 300, 70}, {300, 1, 70},
            {33, 65, 129}, {7, 47, 300},
    };
    private static final int[][] LARGE = {
            {150, 97, 257}, {96, 200, 600}, {257, 130, 70}, {13, 2100, 40}, {200, 200, 200}, {145, 260, 513},
    };

    @Test void smallShapesAllTransposes() { sweep(SMALL, 1); }

    /** C = op(A)·op(B) + bias over every path: small, serial blocked, split over N or M, ragged tiles, K blocks. */
    @Test void biasSeedsTheAccumulators() {
        SplittableRandom rnd = new SplittableRandom(7);
        int[][] shapes = {{5, 17, 9}, {64, 64, 64}, {150, 97, 257}, {13, 2100, 40}, {700, 40, 300}, {8832, 57, 192}, {129, 576, 192}};
        for (int threads : new int[]{1, 2}) {
            Parallel.setThreads(threads);
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                for (int t = 0; t < 2; t++) {
                    boolean tB = t == 1;
                    float[] a = new float[m * k], b = new float[k * n], bias = new float[n + 3], c = new float[m * n];
                    for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
                    for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
                    for (int i = 0; i < bias.length; i++) bias[i] = (float) rnd.nextDouble(-2, 2);
                    java.util.Arrays.fill(c, Float.NaN);   // never read
                    GemmKernels.sgemmBias(false, tB, m, n, k, a, 0, k, b, 0, tB ? k : n, bias, 3, c, 0, n);
                    double[] cd = new double[m * n];
                    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) cd[i * n + j] = bias[3 + j];
                    GemmKernels.reference(false, tB, m, n, k, 1.0, toD(a), 0, k, toD(b), 0, tB ? k : n, 1.0, cd, 0, n);
                    double num = 0, den = 0;
                    for (int i = 0; i < cd.length; i++) { double d = c[i] - cd[i]; num += d * d; den += cd[i] * cd[i]; }
                    double err = Math.sqrt(num / den);
                    assertTrue(err <= TOL, "bias gemm rel L2 " + err + " for " + m + "x" + n + "x" + k + " tB=" + tB + " threads=" + threads);
                }
            }
        }
        Parallel.setThreads(Parallel.defaultThreads());
    }

    @Test void blockedShapesAllTransposes() { sweep(LARGE, 2); }

    /** Every micro-kernel path (general strided, in-place rows, packed panels) against the reference. */
    @Test void everyMicroKernelPath() {
        boolean pm = GemmKernels.PACKED_MICRO, pa = GemmKernels.PACK_A;
        int minNc = GemmKernels.PACK_A_MIN_NC;
        try {
            int[][] shapes = {{150, 97, 257}, {13, 2100, 40}, {145, 260, 513}, {97, 400, 70}};
            int seed = 20;
            for (boolean packedMicro : new boolean[]{false, true})
                for (boolean packA : new boolean[]{false, true})
                    for (int min : new int[]{Integer.MAX_VALUE, 0}) {
                        GemmKernels.PACKED_MICRO = packedMicro;
                        GemmKernels.PACK_A = packA;
                        GemmKernels.PACK_A_MIN_NC = min;
                        sweep(shapes, seed++);
                    }
        } finally {
            GemmKernels.PACKED_MICRO = pm;
            GemmKernels.PACK_A = pa;
            GemmKernels.PACK_A_MIN_NC = minNc;
        }
    }

    @Test void singleAndMultiThreadAgree() {
        int saved = Parallel.threads();
        try {
            for (int th : new int[] {1, 2, 3}) {
                Parallel.setThreads(th);
                sweep(new int[][] {{70, 90, 130}, {150, 97, 257}, {5, 400, 33}, {400, 5, 33}}, 10 + th);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test void zeroSizesAndAlphaZero() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int t = 0; t < 4; t++) {
            boolean tA = (t & 1) != 0, tB = (t & 2) != 0;
            assertTrue(check(rnd, tA, tB, 5, 7, 0, 1f, 0f, 1) <= TOL);   // k = 0, beta = 0: C = 0
            assertTrue(check(rnd, tA, tB, 5, 7, 0, 1f, 0.5f, 1) <= TOL); // k = 0: C = beta C
            assertTrue(check(rnd, tA, tB, 0, 7, 4, 1f, 0f, 1) <= TOL);
            assertTrue(check(rnd, tA, tB, 5, 0, 4, 1f, 0f, 1) <= TOL);
            assertTrue(check(rnd, tA, tB, 9, 40, 11, 0f, 2f, 2) <= TOL); // alpha = 0: C = beta C
        }
    }

    @Test void betaZeroIgnoresNaNInC() {
        int m = 37, n = 41, k = 19;
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        java.util.Arrays.fill(a, 1f);
        java.util.Arrays.fill(b, 2f);
        java.util.Arrays.fill(c, Float.NaN);
        GemmKernels.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        for (float v : c) assertEquals(2f * k, v);
    }

    @Test void batchedMatchesLoop() {
        SplittableRandom rnd = new SplittableRandom(4);
        int batch = 5, m = 9, n = 20, k = 13;
        for (int t = 0; t < 4; t++) {
            boolean tA = (t & 1) != 0, tB = (t & 2) != 0;
            int sa = m * k + 3, sb = k * n + 1, sc = m * n + 2;
            float[] a = new float[batch * sa], b = new float[batch * sb], c = new float[batch * sc];
            for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
            for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
            for (int i = 0; i < c.length; i++) c[i] = (float) rnd.nextDouble(-1, 1);
            float[] c2 = c.clone();
            int lda = tA ? m : k, ldb = tB ? k : n;
            GemmKernels.sgemmBatched(batch, tA, tB, m, n, k, 0.7f, a, 0, lda, sa, b, 0, ldb, sb, 0.3f, c, 0, n, sc);
            for (int i = 0; i < batch; i++) {
                GemmKernels.sgemm(tA, tB, m, n, k, 0.7f, a, i * sa, lda, b, i * sb, ldb, 0.3f, c2, i * sc, n);
            }
            for (int i = 0; i < c.length; i++) assertEquals(c2[i], c[i], 1e-6f);
        }
    }
}
