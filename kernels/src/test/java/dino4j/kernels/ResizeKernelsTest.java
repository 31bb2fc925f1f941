package dino4j.kernels;

import dino4j.kernels.ResizeKernels.Mode;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class ResizeKernelsTest {

    private static final int[][] SIZES = {{5, 7, 5, 7}, {2, 2, 4, 4}, {7, 9, 16, 20}, {32, 32, 16, 16}, {72, 40, 32, 17}, {9, 13, 4, 30}, {1, 5, 3, 1}};

    @Test
    void identityWhenSizesEqual() {
        Random r = new Random(51);
        float[] x = randn(r, 3 * 6 * 11);
        for (Mode m : Mode.values())
            for (boolean aa : new boolean[]{false, true}) {
                float[] y = new float[x.length];
                ResizeKernels.resize(m, aa, 3, 6, 11, 6, 11, x, 0, y, 0);
                assertArrayEquals(x, y, 0f, m + " aa=" + aa);
            }
    }

    @Test
    void bilinearTwoByTwoToFourByFourAsPyTorch() {
        float[] x = {1, 2, 3, 4}, y = new float[16];
        ResizeKernels.resize(Mode.BILINEAR, false, 1, 2, 2, 4, 4, x, 0, y, 0);
        float[] expect = {1f, 1.25f, 1.75f, 2f, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3f, 3.25f, 3.75f, 4f};
        assertArrayEquals(expect, y, 1e-6f);
        // antialias=True upsampling is the same as plain bilinear
        ResizeKernels.resize(Mode.BILINEAR, true, 1, 2, 2, 4, 4, x, 0, y, 0);
        assertArrayEquals(expect, y, 1e-6f);
    }

    @Test
    void handComputedBicubicAndAntialias() {
        // bicubic A=-0.75, [1,2] -> 4: y0 = 1 + W(1.25) = 0.89453125, symmetric y3 = 3 - y0
        float[] y = new float[4];
        ResizeKernels.resize(Mode.BICUBIC, false, 1, 1, 2, 1, 4, new float[]{1, 2}, 0, y, 0);
        assertEquals(0.89453125f, y[0], 1e-6f);
        assertEquals(2.10546875f, y[3], 1e-6f);
        assertEquals(3f, y[1] + y[2], 1e-6f);
        // bilinear antialias 4 -> 2 of [0,1,2,3]: weights (3,3,1)/7 and (1,3,3)/7
        ResizeKernels.resize(Mode.BILINEAR, true, 1, 1, 4, 1, 2, new float[]{0, 1, 2, 3}, 0, y, 0);
        assertEquals(5f / 7f, y[0], 1e-6f);
        assertEquals(16f / 7f, y[1], 1e-6f);
        // bilinear without antialias 4 -> 2: samples at 0.5 and 2.5
        ResizeKernels.resize(Mode.BILINEAR, false, 1, 1, 4, 1, 2, new float[]{0, 1, 2, 3}, 0, y, 0);
        assertEquals(0.5f, y[0], 1e-6f);
        assertEquals(2.5f, y[1], 1e-6f);
    }

    @Test
    void weightsSumToOne() {
        for (Mode m : Mode.values())
            for (boolean aa : new boolean[]{false, true})
                for (int[] s : new int[][]{{1, 5}, {5, 1}, {7, 16}, {16, 7}, {72, 32}, {32, 72}, {224, 14}, {3, 3}}) {
                    ResizeKernels.AxisWeights w = ResizeKernels.axisWeights(m, aa, s[0], s[1]);
                    for (int d = 0; d < s[1]; d++) {
                        double sum = 0;
                        for (int j = 0; j < w.len[d]; j++) sum += w.w[d * w.maxLen + j];
                        assertEquals(1.0, sum, 1e-12, m + " aa=" + aa + " " + Arrays.toString(s) + " d=" + d);
                        assertTrue(w.start[d] >= 0 && w.start[d] + w.len[d] <= s[0]);
                    }
                }
    }

    @Test
    void fastMatchesReferenceAndAdjoint() {
        Random r = new Random(52);
        for (Mode m : Mode.values())
            for (boolean aa : new boolean[]{false, true})
                for (int[] s : SIZES) {
                    int P = 3, H = s[0], W = s[1], OH = s[2], OW = s[3];
                    String tag = m + " aa=" + aa + " " + Arrays.toString(s);
                    float[] x = randn(r, P * H * W + 1), gy = randn(r, P * OH * OW + 2);
                    float[] y = new float[P * OH * OW + 1], gx = new float[P * H * W + 3];
                    ResizeKernels.resize(m, aa, P, H, W, OH, OW, x, 1, y, 1);
                    ResizeKernels.resizeBackward(m, aa, P, H, W, OH, OW, gy, 2, gx, 3);
                    double[] yd = new double[P * OH * OW], gxd = new double[P * H * W];
                    ResizeKernels.resize(m, aa, P, H, W, OH, OW, toDouble(x), 1, yd, 0);
                    ResizeKernels.resizeBackward(m, aa, P, H, W, OH, OW, toDouble(gy), 2, gxd, 0);
                    assertRel("fwd " + tag, Arrays.copyOfRange(y, 1, y.length), yd, 1e-6);
                    assertRel("bwd " + tag, Arrays.copyOfRange(gx, 3, gx.length), gxd, 1e-6);
                    // <A x, g> == <x, A^T g> in double
                    double lhs = dot(yd, Arrays.copyOfRange(toDouble(gy), 2, gy.length));
                    double rhs = dot(Arrays.copyOfRange(toDouble(x), 1, x.length), gxd);
                    assertEquals(lhs, rhs, 1e-12 * Math.max(1, Math.abs(lhs)), "adjoint " + tag);
                }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(53);
        for (Mode m : Mode.values())
            for (boolean aa : new boolean[]{false, true}) {
                int P = 2, H = 9, W = 6, OH = 4, OW = 11;
                double[] x = toDouble(randn(r, P * H * W)), rr = toDouble(randn(r, P * OH * OW)), g = new double[P * H * W];
                ResizeKernels.resizeBackward(m, aa, P, H, W, OH, OW, rr, 0, g, 0);
                checkFiniteDifferences("resize " + m + " aa=" + aa, xx -> { double[] y = new double[P * OH * OW];
                    ResizeKernels.resize(m, aa, P, H, W, OH, OW, xx, 0, y, 0); return y; }, x, rr, g, 1e-8);
            }
    }
}
