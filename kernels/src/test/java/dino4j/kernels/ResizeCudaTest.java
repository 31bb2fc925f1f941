package dino4j.kernels;

import dino4j.kernels.ResizeKernels.Mode;
import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dino4j.kernels.CudaTestSupport.*;
import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * resize.cu: device-built weight tables bitwise against ResizeKernels.axisWeights; forward and adjoint against
 * the float64 references (relative L2 ≤ 1e-5); the adjoint identity ⟨resize(x), g⟩ = ⟨x, resizeBackward(g)⟩.
 */
@Tag("gpu")
class ResizeCudaTest {

    /** {H, W, OH, OW}: antialiased downsampling (224 → 14, 224 → 16), upsampling (28 → 32, 14 → 224), odd and degenerate sizes. */
    private static final int[][] SIZES = {{224, 224, 14, 14}, {224, 200, 16, 13}, {28, 28, 32, 32}, {14, 14, 224, 224},
            {5, 7, 5, 7}, {2, 2, 4, 4}, {7, 9, 16, 20}, {72, 40, 32, 17}, {9, 13, 4, 30}, {1, 5, 3, 1}, {37, 23, 11, 50}};

    @Test
    void deviceTablesAreBitIdenticalToCpu() {
        CudaContext c = gpu();
        int[][] axes = {{1, 1}, {1, 5}, {5, 1}, {2, 4}, {4, 2}, {7, 16}, {16, 7}, {224, 14}, {224, 16}, {28, 32}, {32, 28},
                {14, 224}, {72, 32}, {37, 50}, {3, 3}, {1000, 3}, {3, 1000}};
        for (Mode m : Mode.values())
            for (boolean aa : new boolean[]{false, true})
                for (int[] a : axes) {
                    int in = a[0], out = a[1], L = ResizeCuda.maxLen(m, aa, in, out);
                    ResizeKernels.AxisWeights w = ResizeKernels.axisWeights(m, aa, in, out);
                    String tag = m + " aa=" + aa + " " + in + "->" + out;
                    assertEquals(w.maxLen, L, tag + " maxLen");
                    DeviceBuffer st = poisoned(c, out), ln = poisoned(c, out), wt = poisoned(c, (long) out * L);
                    ResizeCuda.axisTable(c, m, aa, in, out, L, st.ptr(), ln.ptr(), wt.ptr());
                    int[] start = downloadInts(c, st, out), len = downloadInts(c, ln, out);
                    float[] wf = download(c, wt, out * L);
                    assertArrayEquals(w.start, start, tag + " start");
                    assertArrayEquals(w.len, len, tag + " len");
                    for (int d = 0; d < out; d++)
                        for (int j = 0; j < w.len[d]; j++)
                            assertEquals(Float.floatToRawIntBits((float) w.w[d * L + j]), Float.floatToRawIntBits(wf[d * L + j]),
                                    tag + " weight d=" + d + " j=" + j);
                    st.release(); ln.release(); wt.release();
                }
    }

    @Test
    void forwardBackwardAndAdjointMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(61);
        for (Mode m : Mode.values())
            for (boolean aa : new boolean[]{false, true})
                for (int[] s : SIZES) {
                    int P = 3, H = s[0], W = s[1], OH = s[2], OW = s[3];
                    String tag = m + " aa=" + aa + " " + Arrays.toString(s);
                    float[] x = randn(r, P * H * W), g = randn(r, P * OH * OW);
                    DeviceBuffer dx = upload(c, x), dy = poisoned(c, (long) P * OH * OW), dg = upload(c, g), dgx = poisoned(c, (long) P * H * W);
                    ResizeCuda.resize(c, m, aa, P, H, W, OH, OW, dx.ptr(), dy.ptr());
                    ResizeCuda.resizeBackward(c, m, aa, P, H, W, OH, OW, dg.ptr(), dgx.ptr());
                    float[] y = download(c, dy, P * OH * OW), gx = download(c, dgx, P * H * W);
                    double[] ry = new double[P * OH * OW], rgx = new double[P * H * W];
                    ResizeKernels.resize(m, aa, P, H, W, OH, OW, toDouble(x), 0, ry, 0);
                    ResizeKernels.resizeBackward(m, aa, P, H, W, OH, OW, toDouble(g), 0, rgx, 0);
                    assertRel(tag + " forward", y, ry, 1e-5);
                    assertRel(tag + " backward", gx, rgx, 1e-5);
                    // adjoint identity on the GPU results, in double
                    double lhs = dot(toDouble(y), toDouble(g)), rhs = dot(toDouble(x), toDouble(gx));
                    double scale = Math.sqrt(dot(toDouble(y), toDouble(y)) * dot(toDouble(g), toDouble(g))) + 1e-30;
                    assertTrue(Math.abs(lhs - rhs) <= 1e-5 * scale, tag + " adjoint: " + lhs + " vs " + rhs);
                    dx.release(); dy.release(); dg.release(); dgx.release();
                }
    }
}
