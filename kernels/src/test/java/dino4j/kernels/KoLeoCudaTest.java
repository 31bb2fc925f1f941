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

/** koleo.cu against KoLeoKernels' float64 references (relative L2 ≤ 1e-5, neighbours exact). */
@Tag("gpu")
class KoLeoCudaTest {

    /** {N, D}: one partial tile, several tiles and column splits, D = 384. */
    private static final int[][] SHAPES = {{37, 64}, {2, 3}, {300, 100}, {200, 384}};

    private record Out(float loss, float[] xhat, float[] norms, int[] nn, float[] dist, float[] gx) {}

    private static Out run(CudaContext c, float[] x, int N, int D, float gLoss) {
        DeviceBuffer dx = upload(c, x), xh = poisoned(c, (long) N * D), nr = poisoned(c, N), nn = poisoned(c, N), d = poisoned(c, N);
        DeviceBuffer loss = poisoned(c, 1), gx = poisoned(c, (long) N * D);
        KoLeoCuda.forward(c, dx.ptr(), N, D, xh.ptr(), nr.ptr(), nn.ptr(), d.ptr(), loss.ptr());
        KoLeoCuda.backward(c, gLoss, xh.ptr(), nr.ptr(), nn.ptr(), d.ptr(), N, D, gx.ptr());
        Out o = new Out(download(c, loss, 1)[0], download(c, xh, N * D), download(c, nr, N), downloadInts(c, nn, N),
                download(c, d, N), download(c, gx, N * D));
        for (DeviceBuffer b : new DeviceBuffer[]{dx, xh, nr, nn, d, loss, gx}) b.release();
        return o;
    }

    @Test
    void forwardAndBackwardMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(61);
        for (int[] s : SHAPES) {
            int N = s[0], D = s[1];
            String tag = N + "x" + D;
            float[] x = randn(r, N * D, 1.0, 0.1);
            for (int i = 0; i < N; i += 5) for (int k = 0; k < D; k++) x[i * D + k] *= 3;   // varied norms
            Out o = run(c, x, N, D, 0.7f);

            double[] xh = new double[N * D], nr = new double[N], dist = new double[N];
            int[] nn = new int[N];
            double refLoss = KoLeoKernels.referenceForward(toDouble(x), 0, N, D, xh, nr, nn, dist);
            assertRel("xhat " + tag, o.xhat, xh, 1e-5);
            assertRel("norms " + tag, o.norms, nr, 1e-5);
            // a float dot product may order a near-tie (gap < 1e-5) differently from float64: accept only that
            for (int i = 0; i < N; i++)
                if (o.nn[i] != nn[i])
                    assertTrue(o.nn[i] != i && dot(xh, i, nn[i], D) - dot(xh, i, o.nn[i], D) < 1e-5,
                            tag + " row " + i + ": neighbour " + o.nn[i] + " instead of " + nn[i]);
            // distances, loss and gradient of the reference for the neighbours the kernel chose
            double loss = 0;
            for (int i = 0; i < N; i++) {
                double q = 0;
                for (int k = 0; k < D; k++) { double u = xh[i * D + k] - xh[o.nn[i] * D + k] + KoLeoKernels.EPS; q += u * u; }
                dist[i] = Math.sqrt(q);
                loss -= Math.log(dist[i] + KoLeoKernels.EPS) / N;
            }
            if (Arrays.equals(o.nn, nn)) assertEquals(refLoss, loss, 1e-12 * Math.abs(refLoss));
            assertRel("dist " + tag, o.dist, dist, 1e-5);
            assertRel("loss " + tag, new float[]{o.loss}, new double[]{loss}, 1e-5);
            double[] g = new double[N * D];
            KoLeoKernels.referenceBackward(0.7, xh, nr, o.nn, dist, N, D, g, 0);
            assertRel("gx " + tag, o.gx, g, 1e-5);
        }
    }

    private static double dot(double[] xh, int i, int j, int D) {
        double s = 0;
        for (int k = 0; k < D; k++) s += xh[i * D + k] * xh[j * D + k];
        return s;
    }

    @Test
    void exactTiesPickTheFirstIndex() {
        CudaContext c = gpu();
        Random r = new Random(62);
        int N = 150, D = 48;   // copies spread over different 64-column tiles and splits
        float[] x = randn(r, N * D);
        int[] copiesOf3 = {70, 140}, copiesOf100 = {20, 101};
        for (int j : copiesOf3) System.arraycopy(x, 3 * D, x, j * D, D);
        for (int j : copiesOf100) System.arraycopy(x, 100 * D, x, j * D, D);
        for (int k = 0; k < D; k++) x[101 * D + k] *= 2;   // same direction, different norm: x̂ identical
        Out o = run(c, x, N, D, 1f);
        double[] xh = new double[N * D], nr = new double[N], dist = new double[N];
        int[] nn = new int[N];
        KoLeoKernels.referenceForward(toDouble(x), 0, N, D, xh, nr, nn, dist);
        assertEquals(70, o.nn[3]);
        assertEquals(3, o.nn[70]);
        assertEquals(3, o.nn[140]);
        assertEquals(20, o.nn[100]);
        assertEquals(100, o.nn[20]);
        assertEquals(nn[101], o.nn[101]);
        int[] cpu = new int[N];
        KoLeoKernels.forward(x, 0, N, D, new float[N * D], new float[N], cpu, new float[N]);
        for (int i : new int[]{3, 70, 140, 100, 20}) assertEquals(cpu[i], o.nn[i], "CPU kernel row " + i);
    }

    @Test
    void deterministic() {
        CudaContext c = gpu();
        Random r = new Random(63);
        int N = 300, D = 100;
        float[] x = randn(r, N * D);
        Out a = run(c, x, N, D, 0.7f), b = run(c, x, N, D, 0.7f);
        assertEquals(Float.floatToRawIntBits(a.loss), Float.floatToRawIntBits(b.loss), "loss bit-identical");
        assertArrayEquals(a.nn, b.nn);
        assertTrue(Arrays.equals(a.dist, b.dist) && Arrays.equals(a.gx, b.gx), "dist and gx bit-identical");
    }
}
