package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.CudaTestSupport.*;
import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** layernorm.cu against LayerNormKernels' float64 references (relative L2 ≤ 1e-5). */
@Tag("gpu")
class LayerNormCudaTest {

    /** Every warp variant (cols ≤ 1536), the block path (256 / 1024 threads), and row counts that split into many chunks. */
    private static final int[][] SIZES = {{1, 1}, {3, 1}, {5, 7}, {7, 33}, {17, 384}, {4, 768}, {6, 1000}, {3, 1024}, {5, 1536},
            {3, 1537}, {2, 4101}, {2, 9000}, {300, 65}, {70_001, 5}, {129, 384}};

    @Test
    void forwardAndBackwardMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(21);
        float eps = 1e-6f;
        int variant = 0;
        for (int[] s : SIZES)
            for (int affine = 0; affine < 3; affine++, variant++) {   // 0: gamma+beta, 1: gamma only, 2: neither
                int rows = s[0], cols = s[1], n = rows * cols;
                boolean hasG = affine < 2, hasB = affine == 0;
                boolean wantG = variant % 2 == 0 || !hasG, wantB = variant % 3 != 1;
                String tag = rows + "x" + cols + " affine=" + affine;
                float[] x = randn(r, n, 1.5, 2.0), gy = randn(r, n);
                float[] gamma = hasG ? randn(r, cols, 0.5, 1.0) : null, beta = hasB ? randn(r, cols) : null;
                float[] gg0 = randn(r, cols), gb0 = randn(r, cols);            // accumulation targets
                DeviceBuffer dx = upload(c, x), dgy = upload(c, gy);
                DeviceBuffer dgam = hasG ? upload(c, gamma) : null, dbet = hasB ? upload(c, beta) : null;
                DeviceBuffer dy = poisoned(c, n), dm = poisoned(c, rows), drs = poisoned(c, rows), dgx = poisoned(c, n);
                DeviceBuffer dgg = upload(c, gg0), dgb = upload(c, gb0);

                LayerNormCuda.forward(c, rows, cols, dx.ptr(), hasG ? dgam.ptr() : null, hasB ? dbet.ptr() : null, eps,
                        dy.ptr(), dm.ptr(), drs.ptr());
                float[] y = download(c, dy, n), mean = download(c, dm, rows), rstd = download(c, drs, rows);
                double[] ry = new double[n], rm = new double[rows], rr = new double[rows];
                LayerNormKernels.referenceForward(rows, cols, toDouble(x), 0, toDouble(gamma), toDouble(beta), eps, ry, 0, rm, rr);
                assertRel(tag + " y", y, ry, 1e-5);
                assertRel(tag + " mean", mean, rm, 1e-5);
                assertRel(tag + " rstd", rstd, rr, 1e-5);

                LayerNormCuda.backward(c, rows, cols, dx.ptr(), dgy.ptr(), hasG ? dgam.ptr() : null, dm.ptr(), drs.ptr(), dgx.ptr(),
                        wantG ? dgg.ptr() : null, wantB ? dgb.ptr() : null);
                float[] gx = download(c, dgx, n), gg = download(c, dgg, cols), gb = download(c, dgb, cols);
                double[] rgx = new double[n], rgg = toDouble(gg0), rgb = toDouble(gb0);
                LayerNormKernels.referenceBackward(rows, cols, toDouble(x), 0, toDouble(gy), 0, toDouble(gamma),
                        toDouble(mean), toDouble(rstd), rgx, 0, wantG ? rgg : null, wantB ? rgb : null);
                assertRel(tag + " gx", gx, rgx, 1e-5);
                assertRel(tag + " gGamma (accumulated)", gg, rgg, 1e-5);
                assertRel(tag + " gBeta (accumulated)", gb, rgb, 1e-5);
                if (!wantG) assertArrayEquals(gg0, gg, 0f, tag + " gGamma untouched when not wanted");
                if (!wantB) assertArrayEquals(gb0, gb, 0f, tag + " gBeta untouched when not wanted");
                for (DeviceBuffer b : new DeviceBuffer[]{dx, dgy, dgam, dbet, dy, dm, drs, dgx, dgg, dgb}) if (b != null) b.release();
            }
    }

    @Test
    void nullStatsAndDeterministicParamGrads() {
        CudaContext c = gpu();
        Random r = new Random(22);
        int rows = 5000, cols = 384, n = rows * cols;
        float[] x = randn(r, n), gy = randn(r, n), gamma = randn(r, cols);
        DeviceBuffer dx = upload(c, x), dgy = upload(c, gy), dgam = upload(c, gamma), dy = poisoned(c, n);
        LayerNormCuda.forward(c, rows, cols, dx.ptr(), dgam.ptr(), null, 1e-5f, dy.ptr(), null, null);   // stats not wanted
        double[] ry = new double[n];
        LayerNormKernels.referenceForward(rows, cols, toDouble(x), 0, toDouble(gamma), null, 1e-5, ry, 0, null, null);
        assertRel("forward without mean/rstd", download(c, dy, n), ry, 1e-5);

        DeviceBuffer dm = poisoned(c, rows), drs = poisoned(c, rows), dgx = poisoned(c, n);
        LayerNormCuda.forward(c, rows, cols, dx.ptr(), dgam.ptr(), null, 1e-5f, dy.ptr(), dm.ptr(), drs.ptr());
        float[][] runs = new float[2][];
        for (int k = 0; k < 2; k++) {
            DeviceBuffer gg = upload(c, new float[cols]), gb = upload(c, new float[cols]);
            LayerNormCuda.backward(c, rows, cols, dx.ptr(), dgy.ptr(), dgam.ptr(), dm.ptr(), drs.ptr(), dgx.ptr(), gg.ptr(), gb.ptr());
            float[] a = download(c, gg, cols), b = download(c, gb, cols);
            runs[k] = new float[2 * cols];
            System.arraycopy(a, 0, runs[k], 0, cols);
            System.arraycopy(b, 0, runs[k], cols, cols);
            gg.release();
            gb.release();
        }
        assertArrayEquals(runs[0], runs[1], 0f, "parameter gradients must be bitwise reproducible");
        for (DeviceBuffer b : new DeviceBuffer[]{dx, dgy, dgam, dy, dm, drs, dgx}) b.release();
    }
}
