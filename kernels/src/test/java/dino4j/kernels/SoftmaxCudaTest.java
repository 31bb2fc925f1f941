package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.CudaTestSupport.*;
import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** softmax.cu against SoftmaxKernels' float64 references (relative L2 ≤ 1e-5). */
@Tag("gpu")
class SoftmaxCudaTest {

    /** Warp path (cols ≤ 1024, every compiled values-per-lane) and block path (256 and 1024 threads). */
    private static final int[][] SIZES = {{1, 1}, {3, 1}, {5, 7}, {4, 32}, {7, 33}, {3, 100}, {13, 384}, {2, 1000}, {9, 1024},
            {3, 1025}, {2, 4097}, {2, 8195}, {1, 65536 + 7}, {3, 65536 + 7}, {1, 200_001}};

    @Test
    void forwardAndBackwardMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(11);
        for (int[] s : SIZES)
            for (boolean log : new boolean[]{false, true}) {
                int rows = s[0], cols = s[1], n = rows * cols;
                String tag = (log ? "log_softmax " : "softmax ") + rows + "x" + cols;
                float[] x = randn(r, n, 3.0, 0.5), gy = randn(r, n);
                DeviceBuffer dx = upload(c, x), dy = poisoned(c, n), dg = upload(c, gy), dgx = poisoned(c, n);
                SoftmaxCuda.softmax(c, log, rows, cols, dx.ptr(), dy.ptr());
                float[] y = download(c, dy, n);
                double[] ref = new double[n];
                if (log) SoftmaxKernels.referenceLogSoftmax(rows, cols, toDouble(x), 0, ref, 0);
                else SoftmaxKernels.referenceSoftmax(rows, cols, toDouble(x), 0, ref, 0);
                assertRel(tag + " forward", y, ref, 1e-5);

                SoftmaxCuda.softmaxBackward(c, log, rows, cols, dy.ptr(), dg.ptr(), dgx.ptr());
                float[] gx = download(c, dgx, n);
                double[] gref = new double[n];
                if (log) SoftmaxKernels.referenceLogSoftmaxBackward(rows, cols, toDouble(y), 0, toDouble(gy), 0, gref, 0);
                else SoftmaxKernels.referenceSoftmaxBackward(rows, cols, toDouble(y), 0, toDouble(gy), 0, gref, 0);
                assertRel(tag + " backward", gx, gref, 1e-5);
                for (DeviceBuffer b : new DeviceBuffer[]{dx, dy, dg, dgx}) b.release();
            }
    }

    @Test
    void maskedRowsInPlaceAndDeterministic() {
        CudaContext c = gpu();
        Random r = new Random(12);
        for (int cols : new int[]{40, 1024, 3000, 65536 + 7}) {
            int rows = 3, n = rows * cols;
            float[] x = randn(r, n, 2.0, 0.0);
            for (int i = 0; i < n; i++) if (r.nextInt(4) == 0) x[i] = Float.NEGATIVE_INFINITY;   // attention-style mask
            x[0] = 1f;                                                                               // keep row 0 finite somewhere
            double[] ref = new double[n];
            SoftmaxKernels.referenceSoftmax(rows, cols, toDouble(x), 0, ref, 0);
            DeviceBuffer d = upload(c, x), o = poisoned(c, n);
            SoftmaxCuda.softmax(c, false, rows, cols, d.ptr(), o.ptr());
            float[] y1 = download(c, o, n);
            SoftmaxCuda.softmax(c, false, rows, cols, d.ptr(), d.ptr());      // in place
            float[] y2 = download(c, d, n);
            assertRel("masked softmax cols=" + cols, y1, ref, 1e-5);
            assertArrayEquals(y1, y2, 0f, "in-place / repeat must be bitwise identical, cols=" + cols);
            d.release();
            o.release();
        }
    }

    /**
     * An all −inf row: max taken as 0, every exp is 0, 0·(1/0) = NaN, as torch and SoftmaxKernels' reference /
     * scalar path document. (SoftmaxKernels' vectorised path differs here: VectorMath.exp clamps −inf to ~1e-38,
     * giving a uniform row; the GPU follows the documented semantics.)
     */
    @Test
    void allMinusInfinityRowGivesNaNAsTorch() {
        CudaContext c = gpu();
        for (int cols : new int[]{5, 2000})
            for (boolean log : new boolean[]{false, true}) {
                float[] x = new float[2 * cols];
                java.util.Arrays.fill(x, 0, cols, Float.NEGATIVE_INFINITY);     // row 0 all -inf, row 1 zeros
                DeviceBuffer d = upload(c, x), o = poisoned(c, 2L * cols);
                SoftmaxCuda.softmax(c, log, 2, cols, d.ptr(), o.ptr());
                float[] y = download(c, o, 2 * cols);
                for (int i = 0; i < cols; i++) assertTrue(Float.isNaN(y[i]), "log=" + log + " cols=" + cols + " i=" + i + ": " + y[i]);
                float expect = log ? (float) -Math.log(cols) : 1f / cols;
                for (int i = cols; i < 2 * cols; i++) assertEquals(expect, y[i], 1e-6f * Math.max(1f, Math.abs(expect)), "uniform row");
                d.release();
                o.release();
            }
    }
}
