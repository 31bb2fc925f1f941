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

/** The reduce CUDA family against {@link ReduceKernels} (float64 references, rel L2 ≤ 1e-5; max and argmax exact). */
@Tag("gpu")
class ReduceCudaTest {
    private static final double TOL = 1e-5;

    /** (outer, len, inner): warp rows, block rows (with and without splits), columns (with and without splits). */
    private static final int[][] SHAPES = {
            {37, 129, 1}, {1, 1, 1}, {5, 1024, 1}, {3, 1027, 1}, {1000, 2000, 1}, {3, 100_003, 1},
            {7, 33, 65}, {1, 100_000, 3}, {2, 5000, 768}, {600, 3, 31}, {4, 1, 9}, {1, 250_000, 40},
    };

    private static long[] downloadLongs(CudaContext c, DeviceBuffer b, int n) {
        c.synchronize();
        long[] a = new long[n];
        c.staging().download(b.ptr(), a, 0, n, "test output");
        return a;
    }

    @Test
    void sumMeanMaxOverEveryPath() {
        CudaContext c = gpu();
        Random r = new Random(51);
        for (int[] s : SHAPES) {
            int outer = s[0], len = s[1], inner = s[2], n = outer * len * inner, m = outer * inner;
            float[] x = randn(r, n, 1.0, 0.3);
            DeviceBuffer dx = upload(c, x);
            double[] xd = toDouble(x);
            for (String kind : new String[]{"sum", "mean", "max"}) {
                DeviceBuffer out = poisoned(c, m);
                ReduceCuda.reduce(c, kind, outer, len, inner, dx.ptr(), out.ptr());
                float[] got = download(c, out, m);
                String what = kind + " " + Arrays.toString(s);
                if (kind.equals("max")) {
                    float[] want = new float[m];
                    ReduceKernels.max(outer, len, inner, x, 0, want, 0);
                    assertArrayEquals(want, got, what);
                } else {
                    double[] ref = new double[m];
                    if (kind.equals("sum")) ReduceKernels.sum(outer, len, inner, xd, 0, ref, 0);
                    else ReduceKernels.mean(outer, len, inner, xd, 0, ref, 0);
                    assertRel(what, got, ref, TOL);
                }
            }
        }
    }

    @Test
    void reductionsAreDeterministicAndAlignmentIndependentInValue() {
        CudaContext c = gpu();
        Random r = new Random(52);
        for (int[] s : new int[][]{{3, 100_003, 1}, {1, 100_000, 3}, {64, 1000, 1}, {16, 4096, 1}}) {
            int outer = s[0], len = s[1], inner = s[2], n = outer * len * inner, m = outer * inner;
            float[] x = randn(r, n + 1, 1.0, -0.2);
            DeviceBuffer dx = upload(c, x), o1 = poisoned(c, m), o2 = poisoned(c, m), o3 = poisoned(c, m);
            ReduceCuda.reduce(c, "sum", outer, len, inner, dx.ptr(), o1.ptr());
            ReduceCuda.reduce(c, "sum", outer, len, inner, dx.ptr(), o2.ptr());
            assertArrayEquals(download(c, o1, m), download(c, o2, m), "same bits twice " + Arrays.toString(s));
            // misaligned by one float: the scalar (non-float4) path
            ReduceCuda.reduce(c, "mean", outer, len, inner, dx.at(4), o3.ptr());
            double[] ref = new double[m];
            ReduceKernels.mean(outer, len, inner, toDouble(x), 1, ref, 0);
            assertRel("mean misaligned " + Arrays.toString(s), download(c, o3, m), ref, TOL);
        }
    }

    @Test
    void maxPropagatesNaNAndEmptyAxes() {
        CudaContext c = gpu();
        Random r = new Random(53);
        // NaN in a row (warp path) and in a column (cols path)
        float[] x = randn(r, 6 * 40);
        x[2 * 40 + 17] = Float.NaN;
        DeviceBuffer dx = upload(c, x), out = poisoned(c, 6);
        ReduceCuda.reduce(c, "max", 6, 40, 1, dx.ptr(), out.ptr());
        float[] got = download(c, out, 6);
        float[] want = new float[6];
        ReduceKernels.max(6, 40, 1, x, 0, want, 0);
        assertArrayEquals(want, got);
        assertTrue(Float.isNaN(got[2]));
        DeviceBuffer out2 = poisoned(c, 40);
        ReduceCuda.reduce(c, "max", 1, 6, 40, dx.ptr(), out2.ptr());
        float[] want2 = new float[40];
        ReduceKernels.max(1, 6, 40, x, 0, want2, 0);
        assertArrayEquals(want2, download(c, out2, 40));
        // len == 0: sum 0, mean NaN, max -inf (both paths)
        for (int inner : new int[]{1, 5}) {
            for (String kind : new String[]{"sum", "mean", "max"}) {
                DeviceBuffer o = poisoned(c, 4 * inner);
                ReduceCuda.reduce(c, kind, 4, 0, inner, dx.ptr(), o.ptr());
                float[] g = download(c, o, 4 * inner);
                float expect = switch (kind) { case "sum" -> 0f; case "mean" -> Float.NaN; default -> Float.NEGATIVE_INFINITY; };
                for (float v : g) assertEquals(expect, v, 0f, kind + " over an empty axis");
            }
        }
    }

    @Test
    void argmaxIsExactWithTiesAndNaN() {
        CudaContext c = gpu();
        Random r = new Random(54);
        for (int[] s : new int[][]{{37, 129, 1}, {3, 5000, 1}, {7, 33, 65}, {2, 1000, 40}, {5, 1, 3}, {9, 1, 1}}) {
            int outer = s[0], len = s[1], inner = s[2], n = outer * len * inner, m = outer * inner;
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = r.nextInt(6) - 3;          // many ties: the first maximum must win
            for (int k = 0; k < Math.max(1, m / 5); k++) x[r.nextInt(n)] = Float.NaN;
            if (n > 3) { x[1] = -0f; x[2] = 0f; }
            DeviceBuffer dx = upload(c, x), out = c.alloc(8L * m);
            c.memset(out.ptr(), 0xFF, 8L * m);
            ReduceCuda.argmax(c, outer, len, inner, dx.ptr(), out.ptr());
            long[] got = downloadLongs(c, out, m);
            int[] want = ReduceKernels.argmax(outer, len, inner, x, 0);
            for (int i = 0; i < m; i++) assertEquals(want[i], got[i], "argmax " + Arrays.toString(s) + " at " + i);
            // and without NaN, against the float64 reference
            for (int i = 0; i < n; i++) if (Float.isNaN(x[i])) x[i] = 2.5f;
            DeviceBuffer dx2 = upload(c, x);
            ReduceCuda.argmax(c, outer, len, inner, dx2.ptr(), out.ptr());
            long[] got2 = downloadLongs(c, out, m);
            int[] want2 = ReduceKernels.argmax(outer, len, inner, toDouble(x), 0);
            for (int i = 0; i < m; i++) assertEquals(want2[i], got2[i], "argmax (no NaN) " + Arrays.toString(s) + " at " + i);
        }
    }

    @Test
    void sumAllAndSumSquaresSmallAndLarge() {
        CudaContext c = gpu();
        Random r = new Random(55);
        for (int n : new int[]{0, 1, 7, 4099, 1_000_003, 33_554_437}) {
            float[] x = randn(r, Math.max(1, n), 1.0, 0.25);
            DeviceBuffer dx = upload(c, x), o1 = poisoned(c, 1), o2 = poisoned(c, 1), o3 = poisoned(c, 1);
            ReduceCuda.sumAll(c, n, dx.ptr(), o1.ptr());
            ReduceCuda.sumSquares(c, n, dx.ptr(), o2.ptr());
            ReduceCuda.sumAll(c, n, dx.ptr(), o3.ptr());
            double s = 0, q = 0;
            for (int i = 0; i < n; i++) { s += x[i]; q += (double) x[i] * x[i]; }
            float gs = download(c, o1, 1)[0], gq = download(c, o2, 1)[0], gs2 = download(c, o3, 1)[0];
            assertRel("sumAll n=" + n, new float[]{gs}, new double[]{s}, TOL);
            assertRel("sumSquares n=" + n, new float[]{gq}, new double[]{q}, TOL);
            assertEquals(Float.floatToIntBits(gs), Float.floatToIntBits(gs2), "sumAll is deterministic");
            if (n > 1) {
                // misaligned start: the scalar path
                DeviceBuffer o4 = poisoned(c, 1);
                ReduceCuda.sumAll(c, n - 1, dx.at(4), o4.ptr());
                assertRel("sumAll misaligned n=" + n, download(c, o4, 1), new double[]{s - x[0]}, TOL);
            }
        }
    }

    @Test
    void launcherRejectsBadArguments() {
        CudaContext c = gpu();
        DeviceBuffer b = c.alloc(64);
        assertThrows(IllegalArgumentException.class, () -> ReduceCuda.reduce(c, "min", 1, 2, 1, b.ptr(), b.ptr()));
        assertThrows(IllegalArgumentException.class, () -> ReduceCuda.reduce(c, "sum", -1, 2, 1, b.ptr(), b.ptr()));
        assertThrows(IllegalArgumentException.class, () -> ReduceCuda.sumAll(c, -1, b.ptr(), b.ptr()));
        assertThrows(IllegalArgumentException.class, () -> ReduceCuda.argmax(c, 1, 1, 1, null, b.ptr()));
    }
}
