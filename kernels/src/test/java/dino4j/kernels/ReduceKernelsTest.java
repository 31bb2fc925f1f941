package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class ReduceKernelsTest {

    @Test
    void axisReductionsMatchReference() {
        Random r = new Random(11);
        int[][] shapes = {{3, 17, 1}, {2, 9, 37}, {1, 1000, 5}, {1, 100_003, 1}, {7, 1, 3}, {4, 300, 5000}, {1, 70, 1},
                {1, 17_664, 96}, {2, 5000, 384}, {1, 150, 4500}, {3, 129, 7}};   // the last four: one long axis split over threads
        for (int[] s : shapes) {
            int outer = s[0], axis = s[1], inner = s[2], n = outer * axis * inner;
            float[] x = randn(r, n + 2);
            for (int i = 0; i < x.length; i++) x[i] += 0.3f;    // non-zero mean
            double[] xd = toDouble(x);
            float[] o = new float[outer * inner + 1];
            double[] od = new double[outer * inner];
            String tag = java.util.Arrays.toString(s);

            ReduceKernels.sum(outer, axis, inner, x, 2, o, 1);
            ReduceKernels.sum(outer, axis, inner, xd, 2, od, 0);
            assertRel("sum " + tag, java.util.Arrays.copyOfRange(o, 1, o.length), od, 1e-6);

            ReduceKernels.mean(outer, axis, inner, x, 2, o, 1);
            ReduceKernels.mean(outer, axis, inner, xd, 2, od, 0);
            assertRel("mean " + tag, java.util.Arrays.copyOfRange(o, 1, o.length), od, 1e-6);

            ReduceKernels.max(outer, axis, inner, x, 2, o, 1);
            ReduceKernels.max(outer, axis, inner, xd, 2, od, 0);
            for (int i = 0; i < od.length; i++) assertEquals(od[i], o[1 + i], 0.0, "max " + tag);

            int[] am = ReduceKernels.argmax(outer, axis, inner, x, 2);
            int[] amd = ReduceKernels.argmax(outer, axis, inner, xd, 2);
            assertArrayEquals(amd, am, "argmax " + tag);
            for (int o2 = 0; o2 < outer; o2++)
                for (int i = 0; i < inner; i++)
                    assertEquals(od[o2 * inner + i], x[2 + (o2 * axis + am[o2 * inner + i]) * inner + i], 0.0);
        }
    }

    @Test
    void longAxisSumDoesNotDependOnThreadCount() {
        Random r = new Random(13);
        int threads = Parallel.threads();
        try {
            for (int[] s : new int[][]{{1, 17_664, 96}, {2, 5001, 384}, {1, 4097, 5000}}) {
                float[] x = randn(r, s[0] * s[1] * s[2]);
                float[] one = new float[s[0] * s[2]], two = new float[one.length], four = new float[one.length];
                Parallel.setThreads(1);
                ReduceKernels.sum(s[0], s[1], s[2], x, 0, one, 0);
                Parallel.setThreads(2);
                ReduceKernels.sum(s[0], s[1], s[2], x, 0, two, 0);
                Parallel.setThreads(4);
                ReduceKernels.sum(s[0], s[1], s[2], x, 0, four, 0);
                assertArrayEquals(one, two, java.util.Arrays.toString(s));
                assertArrayEquals(one, four, java.util.Arrays.toString(s));
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void argmaxTiesAndNaN() {
        float[] x = {1f, 3f, 3f, 2f, Float.NaN, 5f};
        assertArrayEquals(new int[]{1}, ReduceKernels.argmax(1, 4, 1, x, 0));
        assertArrayEquals(new int[]{4}, ReduceKernels.argmax(1, 6, 1, x, 0));
        float[] m = new float[1];
        ReduceKernels.max(1, 6, 1, x, 0, m, 0);
        assertTrue(Float.isNaN(m[0]));
    }

    @Test
    void scalarReductionsMatchReference() {
        Random r = new Random(12);
        for (int n : new int[]{0, 1, 15, 1031, 200_003, 1_000_001}) {
            float[] a = randn(r, n + 1), b = randn(r, n + 3);
            for (int i = 0; i < a.length; i++) a[i] += 1f;   // large mean: catches float accumulation drift
            double[] ad = toDouble(a), bd = toDouble(b);
            double s = ReduceKernels.sumAll(n, a, 1), sd = ReduceKernels.sumAll(n, ad, 1);
            double d = ReduceKernels.dot(n, a, 1, b, 3), dd = ReduceKernels.dot(n, ad, 1, bd, 3);
            double q = ReduceKernels.sumSquares(n, b, 2), qd = ReduceKernels.sumSquares(n, bd, 2);
            assertEquals(sd, s, 1e-6 * Math.max(1, Math.abs(sd)), "sum n=" + n);
            assertEquals(dd, d, 1e-6 * Math.max(1, Math.sqrt(n)), "dot n=" + n);
            assertEquals(qd, q, 1e-6 * Math.max(1, qd), "sumsq n=" + n);
        }
    }
}
