package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.CudaTestSupport.*;
import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * residual.cu against ResidualKernels' float64 references (relative L2 ≤ 1e-5) and bitwise against the CPU
 * kernels (same fma / reduction order by construction).
 */
@Tag("gpu")
class ResidualCudaTest {

    private static final int[][] SIZES = {{1, 1}, {3, 7}, {64, 33}, {65, 384}, {130, 1537}, {1000, 768}};

    @Test
    void forwardAndBackwardMatchReferenceAndCpu() {
        CudaContext c = gpu();
        Random r = new Random(41);
        int variant = 0;
        for (int[] s : SIZES)
            for (int mode = 0; mode < 3; mode++, variant++) {     // 0: gy + gGamma, 1: gy only, 2: gGamma only
                int rows = s[0], cols = s[1], n = rows * cols;
                boolean wantGy = mode != 2, wantGg = mode != 1;
                String tag = rows + "x" + cols + " mode=" + mode;
                float[] x = randn(r, n), y = randn(r, n), gam = randn(r, cols, 0.1, 0.0), g = randn(r, n), gg0 = randn(r, cols);
                DeviceBuffer dx = upload(c, x), dy = upload(c, y), dgam = upload(c, gam), dg = upload(c, g);
                DeviceBuffer dout = poisoned(c, n), dgy = poisoned(c, n), dgg = upload(c, gg0);

                ResidualCuda.forward(c, rows, cols, dx.ptr(), dy.ptr(), dgam.ptr(), dout.ptr());
                float[] out = download(c, dout, n);
                double[] rout = new double[n];
                ResidualKernels.referenceForward(rows, cols, toDouble(x), 0, toDouble(y), 0, toDouble(gam), 0, rout, 0);
                assertRel(tag + " forward", out, rout, 1e-5);
                float[] cout = new float[n];
                ResidualKernels.forward(rows, cols, x, 0, y, 0, gam, 0, cout, 0);
                assertArrayEquals(cout, out, 0f, tag + " forward bitwise vs ResidualKernels");

                ResidualCuda.backward(c, rows, cols, dg.ptr(), dy.ptr(), dgam.ptr(), wantGy ? dgy.ptr() : null, wantGg ? dgg.ptr() : null);
                float[] gy = download(c, dgy, n), gg = download(c, dgg, cols);
                double[] rgy = new double[n], rgg = toDouble(gg0);
                ResidualKernels.referenceBackward(rows, cols, toDouble(g), 0, toDouble(y), 0, toDouble(gam), 0, rgy, 0, rgg, 0);
                float[] cgy = new float[n], cgg = gg0.clone();
                ResidualKernels.backward(rows, cols, g, 0, y, 0, gam, 0, cgy, 0, cgg, 0);
                if (wantGy) {
                    assertRel(tag + " gy", gy, rgy, 1e-5);
                    assertArrayEquals(cgy, gy, 0f, tag + " gy bitwise vs ResidualKernels");
                }
                if (wantGg) {
                    assertRel(tag + " gGamma (accumulated)", gg, rgg, 1e-5);
                    assertArrayEquals(cgg, gg, 0f, tag + " gGamma bitwise vs ResidualKernels");
                } else {
                    assertArrayEquals(gg0, gg, 0f, tag + " gGamma untouched when not wanted");
                }
                for (DeviceBuffer b : new DeviceBuffer[]{dx, dy, dgam, dg, dout, dgy, dgg}) b.release();
            }
    }

    @Test
    void inPlaceForward() {
        CudaContext c = gpu();
        Random r = new Random(42);
        int rows = 37, cols = 130, n = rows * cols;
        float[] x = randn(r, n), y = randn(r, n), gam = randn(r, cols);
        DeviceBuffer dx = upload(c, x), dy = upload(c, y), dgam = upload(c, gam);
        ResidualCuda.forward(c, rows, cols, dx.ptr(), dy.ptr(), dgam.ptr(), dx.ptr());
        float[] cpu = new float[n];
        ResidualKernels.forward(rows, cols, x, 0, y, 0, gam, 0, cpu, 0);
        assertArrayEquals(cpu, download(c, dx, n), 0f);
        dx.release(); dy.release(); dgam.release();
    }
}
