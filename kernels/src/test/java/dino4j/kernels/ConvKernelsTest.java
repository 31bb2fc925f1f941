package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class ConvKernelsTest {

    /** {B, C, H, W, O, kh, kw, sh, sw, ph, pw} */
    private static final int[][] CASES = {
            {2, 3, 9, 11, 5, 3, 2, 2, 1, 1, 0},     // general, asymmetric
            {1, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1},      // 3x3 same
            {2, 3, 18, 16, 7, 4, 4, 4, 4, 0, 0},    // patchify, H remainder 2 ignored
            {2, 5, 6, 6, 3, 2, 2, 2, 2, 0, 0},      // ConvNeXt downsample
            {1, 2, 7, 9, 3, 3, 3, 2, 3, 2, 1},      // strided with large padding
    };

    private static int[] out(int[] c) {
        return new int[]{ConvKernels.outSize(c[2], c[5], c[7], c[9]), ConvKernels.outSize(c[3], c[6], c[8], c[10])};
    }

    @Test
    void forwardAndBackwardMatchReference() {
        Random r = new Random(31);
        for (int[] c : CASES) {
            int B = c[0], C = c[1], H = c[2], W = c[3], O = c[4], kh = c[5], kw = c[6], sh = c[7], sw = c[8], ph = c[9], pw = c[10];
            int[] os = out(c);
            int nx = B * C * H * W, nw = O * C * kh * kw, ny = B * O * os[0] * os[1];
            float[] x = randn(r, nx + 3), w = randn(r, nw + 1), bias = randn(r, O + 2), gy = randn(r, ny + 4);
            float[] y = new float[ny + 2];
            ConvKernels.conv2dForward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 3, w, 1, bias, 2, y, 2);
            double[] yd = new double[ny];
            ConvKernels.reference(B, C, H, W, O, kh, kw, sh, sw, ph, pw, toDouble(x), 3, toDouble(w), 1, toDouble(bias), 2, yd, 0);
            String tag = Arrays.toString(c);
            assertRel("fwd " + tag, Arrays.copyOfRange(y, 2, ny + 2), yd, 1e-5);

            float[] gx = new float[nx + 1], gw = new float[nw], gb = new float[O];
            Arrays.fill(gx, 7f);          // gx is written
            Arrays.fill(gw, 1f);          // gw, gb accumulate
            Arrays.fill(gb, 1f);
            ConvKernels.conv2dBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 3, w, 1, gy, 4, gx, 1, gw, 0, gb, 0);
            double[] gxd = new double[nx], gwd = new double[nw], gbd = new double[O];
            Arrays.fill(gwd, 1.0);
            Arrays.fill(gbd, 1.0);
            ConvKernels.referenceBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, toDouble(x), 3, toDouble(w), 1,
                    toDouble(gy), 4, gxd, 0, gwd, 0, gbd, 0);
            assertRel("gx " + tag, Arrays.copyOfRange(gx, 1, nx + 1), gxd, 1e-5);
            assertRel("gw " + tag, gw, gwd, 1e-5);
            assertRel("gb " + tag, gb, gbd, 1e-5);

            // nullable outputs, no bias
            ConvKernels.conv2dForward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 3, Arrays.copyOfRange(w, 1, nw + 1), null, y);
            ConvKernels.conv2dBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 3, w, 1, gy, 4, null, 0, gw, 0, null, 0);
            ConvKernels.conv2dBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 3, w, 1, gy, 4, gx, 1, null, 0, null, 0);
            assertRel("gx (no gw) " + tag, Arrays.copyOfRange(gx, 1, nx + 1), gxd, 1e-5);
        }
    }

    @Test
    void im2colCol2imAreAdjoint() {
        Random r = new Random(32);
        int C = 3, H = 7, W = 8, kh = 3, kw = 2, sh = 2, sw = 1, ph = 1, pw = 1;
        int OH = ConvKernels.outSize(H, kh, sh, ph), OW = ConvKernels.outSize(W, kw, sw, pw);
        float[] x = randn(r, C * H * W), c = randn(r, C * kh * kw * OH * OW);
        float[] col = new float[c.length], xt = new float[x.length];
        ConvKernels.im2col(C, H, W, kh, kw, sh, sw, ph, pw, x, 0, col, 0);
        ConvKernels.col2im(C, H, W, kh, kw, sh, sw, ph, pw, c, 0, xt, 0);
        double lhs = dot(toDouble(col), toDouble(c)), rhs = dot(toDouble(x), toDouble(xt));
        assertEquals(lhs, rhs, 1e-5 * Math.abs(lhs) + 1e-6);
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(33);
        for (int[] c : new int[][]{CASES[0], CASES[4], {1, 2, 8, 9, 2, 4, 4, 4, 4, 0, 0}}) {
            int B = c[0], C = c[1], H = c[2], W = c[3], O = c[4], kh = c[5], kw = c[6], sh = c[7], sw = c[8], ph = c[9], pw = c[10];
            int[] os = out(c);
            int nx = B * C * H * W, nw = O * C * kh * kw, ny = B * O * os[0] * os[1];
            double[] x = toDouble(randn(r, nx)), w = toDouble(randn(r, nw)), b = toDouble(randn(r, O)), rr = toDouble(randn(r, ny));
            double[] gx = new double[nx], gw = new double[nw], gb = new double[O];
            ConvKernels.referenceBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 0, w, 0, rr, 0, gx, 0, gw, 0, gb, 0);
            checkFiniteDifferences("conv dx", xx -> { double[] y = new double[ny];
                ConvKernels.reference(B, C, H, W, O, kh, kw, sh, sw, ph, pw, xx, 0, w, 0, b, 0, y, 0); return y; }, x, rr, gx, 1e-8);
            checkFiniteDifferences("conv dw", ww -> { double[] y = new double[ny];
                ConvKernels.reference(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 0, ww, 0, b, 0, y, 0); return y; }, w, rr, gw, 1e-8);
            checkFiniteDifferences("conv db", bb -> { double[] y = new double[ny];
                ConvKernels.reference(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x, 0, w, 0, bb, 0, y, 0); return y; }, b, rr, gb, 1e-8);
        }
    }
}
