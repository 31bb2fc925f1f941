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
 * optim.cu: AdamW over several steps and the EMA, against the float64 twins (relative L2 ≤ 1e-5) and
 * bitwise against OptimizerKernels (the kernels use explicitly rounded operations in the CPU's order).
 */
@Tag("gpu")
class OptimizerCudaTest {

    private static final int[] SIZES = {1, 7, 1000, (1 << 20) + 3};

    @Test
    void adamwSeveralStepsMatchesReferenceAndCpu() {
        CudaContext c = gpu();
        Random r = new Random(31);
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.04f;
        for (int n : SIZES) {
            float[] p = randn(r, n), m = new float[n], v = new float[n];
            double[] rp = toDouble(p), rm = new double[n], rv = new double[n];
            float[] cp = p.clone(), cm = new float[n], cv = new float[n];
            DeviceBuffer dp = upload(c, p), dm = upload(c, m), dv = upload(c, v);
            for (int step = 1; step <= 6; step++) {
                float[] g = randn(r, n, step == 3 ? 1e-3 : 1.0, 0.0);    // one step with tiny gradients
                DeviceBuffer dg = upload(c, g);
                OptimizerCuda.adamw(c, n, dp.ptr(), dg.ptr(), dm.ptr(), dv.ptr(), lr, b1, b2, eps, wd, step);
                OptimizerKernels.adamw(n, rp, 0, toDouble(g), 0, rm, rv, lr, b1, b2, eps, wd, step);
                OptimizerKernels.adamw(n, cp, 0, g, 0, cm, cv, lr, b1, b2, eps, wd, step);
                float[] gp = download(c, dp, n), gm = download(c, dm, n), gv = download(c, dv, n);
                String tag = "n=" + n + " step=" + step;
                assertRel(tag + " param", gp, rp, 1e-5);
                assertRel(tag + " m", gm, rm, 1e-5);
                assertRel(tag + " v", gv, rv, 1e-5);
                assertArrayEquals(cp, gp, 0f, tag + " param bitwise vs OptimizerKernels");
                assertArrayEquals(cm, gm, 0f, tag + " m bitwise vs OptimizerKernels");
                assertArrayEquals(cv, gv, 0f, tag + " v bitwise vs OptimizerKernels");
                dg.release();
            }
            dp.release(); dm.release(); dv.release();
        }
    }

    @Test
    void adamwLargeStepCount() {
        CudaContext c = gpu();
        Random r = new Random(32);
        int n = 4099;
        long step = 3_000_000_000L;     // past int range: bias corrections ≈ 1
        float[] p = randn(r, n), m = randn(r, n, 0.1, 0), v = uniform(r, n, 0.0, 0.5), g = randn(r, n);
        double[] rp = toDouble(p), rm = toDouble(m), rv = toDouble(v);
        DeviceBuffer dp = upload(c, p), dm = upload(c, m), dv = upload(c, v), dg = upload(c, g);
        OptimizerCuda.adamw(c, n, dp.ptr(), dg.ptr(), dm.ptr(), dv.ptr(), 2e-4f, 0.9f, 0.95f, 1e-8f, 0.05f, step);
        OptimizerKernels.adamw(n, rp, 0, toDouble(g), 0, rm, rv, 2e-4f, 0.9f, 0.95f, 1e-8f, 0.05f, Integer.MAX_VALUE);
        assertRel("param", download(c, dp, n), rp, 1e-5);
        assertRel("m", download(c, dm, n), rm, 1e-5);
        assertRel("v", download(c, dv, n), rv, 1e-5);
        for (DeviceBuffer b : new DeviceBuffer[]{dp, dm, dv, dg}) b.release();
    }

    @Test
    void emaMatchesReferenceAndCpu() {
        CudaContext c = gpu();
        Random r = new Random(33);
        for (int n : SIZES) {
            float[] t = randn(r, n), s = randn(r, n);
            float mom = 0.996f;
            DeviceBuffer dt = upload(c, t), ds = upload(c, s);
            OptimizerCuda.ema(c, n, dt.ptr(), ds.ptr(), mom);
            float[] got = download(c, dt, n);
            double[] ref = toDouble(t);
            OptimizerKernels.ema(n, ref, 0, toDouble(s), 0, mom);
            float[] cpu = t.clone();
            OptimizerKernels.ema(n, cpu, 0, s, 0, mom);
            assertRel("ema n=" + n, got, ref, 1e-5);
            assertArrayEquals(cpu, got, 0f, "ema bitwise vs OptimizerKernels, n=" + n);
            dt.release();
            ds.release();
        }
    }
}
