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

/** gram.cu against GramKernels' float64 references (relative L2 ≤ 1e-5). */
@Tag("gpu")
class GramCudaTest {

    /** {N, P, D}: P and D not multiples of the 64×64 / 16 tiles, D = 384, exactly one tile. */
    private static final int[][] SHAPES = {{2, 197, 64}, {2, 1029, 64}, {1, 197, 100}, {3, 65, 384}, {1, 64, 16}};

    /** Device results of one forward + backward. */
    private record Out(float loss, float[] sHat, float[] sNorm, float[] tHat, float[] tNorm, float[] gS, float[] gT) {}

    private static Out run(CudaContext c, float[] s, float[] t, int N, int P, int D, float gLoss, boolean withT) {
        int n = N * P * D, rows = N * P;
        DeviceBuffer ds = upload(c, s), dt = upload(c, t);
        DeviceBuffer sh = poisoned(c, n), sn = poisoned(c, rows), th = poisoned(c, n), tn = poisoned(c, rows), loss = poisoned(c, 1);
        DeviceBuffer gs = poisoned(c, n), gt = withT ? poisoned(c, n) : null;
        GramCuda.forward(c, ds.ptr(), dt.ptr(), N, P, D, sh.ptr(), sn.ptr(), th.ptr(), tn.ptr(), loss.ptr());
        GramCuda.backward(c, gLoss, sh.ptr(), sn.ptr(), th.ptr(), tn.ptr(), N, P, D, gs.ptr(), withT ? gt.ptr() : null);
        Out o = new Out(download(c, loss, 1)[0], download(c, sh, n), download(c, sn, rows), download(c, th, n), download(c, tn, rows),
                download(c, gs, n), withT ? download(c, gt, n) : null);
        for (DeviceBuffer b : new DeviceBuffer[]{ds, dt, sh, sn, th, tn, loss, gs, gt}) if (b != null) b.release();
        return o;
    }

    /** Gram teacher = student + noise (E small, as in training) or independent. */
    private static float[] teacher(Random r, float[] s, boolean related) {
        float[] t = randn(r, s.length);
        if (related) for (int i = 0; i < s.length; i++) t[i] = s[i] + 0.3f * t[i];
        return t;
    }

    @Test
    void forwardAndBackwardMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(51);
        for (int[] sh : SHAPES)
            for (boolean related : new boolean[]{false, true}) {
                int N = sh[0], P = sh[1], D = sh[2], n = N * P * D;
                String tag = N + "x" + P + "x" + D + (related ? " related" : " independent");
                float[] s = randn(r, n, 1.0, 0.2), t = teacher(r, s, related);
                float gLoss = 1.7f;
                Out o = run(c, s, t, N, P, D, gLoss, true);

                double[] sd = toDouble(s), td = toDouble(t);
                double refLoss = GramKernels.referenceForward(sd, 0, td, 0, N, P, D);
                assertRel("gram loss " + tag, new float[]{o.loss}, new double[]{refLoss}, 1e-5);
                double[] rh = new double[n], rn = new double[N * P];
                GramKernels.referenceL2NormalizeRows(sd, 0, N * P, D, GramKernels.EPS, rh, 0, rn);
                assertRel("sHat " + tag, o.sHat, rh, 1e-5);
                assertRel("sNorm " + tag, o.sNorm, rn, 1e-5);
                GramKernels.referenceL2NormalizeRows(td, 0, N * P, D, GramKernels.EPS, rh, 0, rn);
                assertRel("tHat " + tag, o.tHat, rh, 1e-5);
                assertRel("tNorm " + tag, o.tNorm, rn, 1e-5);

                double[] gs = new double[n], gt = new double[n];
                GramKernels.referenceBackward(gLoss, sd, 0, td, 0, N, P, D, gs, gt);
                assertRel("gram gS " + tag, o.gS, gs, 1e-5);
                assertRel("gram gT " + tag, o.gT, gt, 1e-5);
            }
    }

    @Test
    void withoutTeacherGradientPanelsAndDeterminism() {
        CudaContext c = gpu();
        Random r = new Random(52);
        int N = 2, P = 1029, D = 64, n = N * P * D;
        float[] s = randn(r, n), t = teacher(r, s, true);
        Out a = run(c, s, t, N, P, D, 0.9f, true), b = run(c, s, t, N, P, D, 0.9f, true);
        assertEquals(Float.floatToRawIntBits(a.loss), Float.floatToRawIntBits(b.loss), "loss bit-identical");
        assertTrue(Arrays.equals(a.gS, b.gS) && Arrays.equals(a.gT, b.gT), "gradients bit-identical");

        Out noT = run(c, s, t, N, P, D, 0.9f, false);   // gT == null: same gS
        assertTrue(Arrays.equals(a.gS, noT.gS), "gS without gT");

        long saved = GramCuda.panelFloats;
        try {
            GramCuda.panelFloats = 1;   // 64-row panels: 17 of them; every output still one full GEMM
            assertEquals(64, GramCuda.panelRows(N, P));
            Out panels = run(c, s, t, N, P, D, 0.9f, true);
            assertTrue(Arrays.equals(a.gS, panels.gS) && Arrays.equals(a.gT, panels.gT), "panelled backward identical");
        } finally {
            GramCuda.panelFloats = saved;
        }
    }

    @Test
    void zeroRowsUseTheClampedNorm() {
        CudaContext c = gpu();
        Random r = new Random(53);
        int N = 1, P = 70, D = 33, n = N * P * D;
        float[] s = randn(r, n), t = randn(r, n);
        Arrays.fill(s, 5 * D, 6 * D, 0f);   // a zero student row: x̂ = 0, gradient g / eps
        Arrays.fill(t, 9 * D, 10 * D, 0f);
        Out o = run(c, s, t, N, P, D, 1f, true);
        double[] gs = new double[n], gt = new double[n];
        GramKernels.referenceBackward(1.0, toDouble(s), 0, toDouble(t), 0, N, P, D, gs, gt);
        assertRel("loss", new float[]{o.loss}, new double[]{GramKernels.referenceForward(toDouble(s), 0, toDouble(t), 0, N, P, D)}, 1e-5);
        assertRel("gS", o.gS, gs, 1e-5);
        assertRel("gT", o.gT, gt, 1e-5);
    }
}
