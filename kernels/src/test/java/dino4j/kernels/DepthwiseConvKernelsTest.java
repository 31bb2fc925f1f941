package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;

class DepthwiseConvKernelsTest {

    /** {B, C, H, W, k, p} */
    private static final int[][] CASES = {{2, 5, 9, 13, 7, 3}, {1, 3, 20, 37, 3, 1}, {3, 4, 7, 7, 7, 3}, {1, 2, 5, 6, 5, 1},
            {2, 3, 4, 3, 7, 3}, {2, 3, 56, 56, 7, 3}, {1, 2, 5, 6, 3, 3} /* p > k-1: row fallback */, {1, 2, 4, 5, 1, 0}, {1, 2, 6, 17, 5, 0}};

    @Test
    void forwardAndBackwardMatchReference() {
        Random r = new Random(41);
        for (int[] c : CASES) {
            int B = c[0], C = c[1], H = c[2], W = c[3], k = c[4], p = c[5];
            int OH = DepthwiseConvKernels.outSize(H, k, p), OW = DepthwiseConvKernels.outSize(W, k, p);
            int nx = B * C * H * W, nw = C * k * k, ny = B * C * OH * OW;
            float[] x = randn(r, nx + 1), w = randn(r, nw + 2), b = randn(r, C + 1), gy = randn(r, ny + 3);
            float[] y = new float[ny + 1];
            DepthwiseConvKernels.forward(B, C, H, W, k, p, x, 1, w, 2, b, 1, y, 1);
            double[] yd = new double[ny];
            DepthwiseConvKernels.reference(B, C, H, W, k, p, toDouble(x), 1, toDouble(w), 2, toDouble(b), 1, yd, 0);
            String tag = Arrays.toString(c);
            assertRel("fwd " + tag, Arrays.copyOfRange(y, 1, ny + 1), yd, 1e-5);

            float[] gx = new float[nx], gw = new float[nw], gb = new float[C];
            Arrays.fill(gx, 5f);
            Arrays.fill(gw, 1f);
            Arrays.fill(gb, -1f);
            DepthwiseConvKernels.backward(B, C, H, W, k, p, x, 1, w, 2, gy, 3, gx, 0, gw, 0, gb, 0);
            double[] gxd = new double[nx], gwd = new double[nw], gbd = new double[C];
            Arrays.fill(gwd, 1.0);
            Arrays.fill(gbd, -1.0);
            DepthwiseConvKernels.referenceBackward(B, C, H, W, k, p, toDouble(x), 1, toDouble(w), 2, toDouble(gy), 3, gxd, 0, gwd, 0, gbd, 0);
            assertRel("gx " + tag, gx, gxd, 1e-5);
            assertRel("gw " + tag, gw, gwd, 1e-5);
            assertRel("gb " + tag, gb, gbd, 1e-5);
        }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(42);
        for (int[] c : new int[][]{{2, 2, 6, 8, 7, 3}, {1, 3, 5, 4, 3, 1}}) {
            int B = c[0], C = c[1], H = c[2], W = c[3], k = c[4], p = c[5];
            int OH = DepthwiseConvKernels.outSize(H, k, p), OW = DepthwiseConvKernels.outSize(W, k, p);
            int nx = B * C * H * W, nw = C * k * k, ny = B * C * OH * OW;
            double[] x = toDouble(randn(r, nx)), w = toDouble(randn(r, nw)), b = toDouble(randn(r, C)), rr = toDouble(randn(r, ny));
            double[] gx = new double[nx], gw = new double[nw], gb = new double[C];
            DepthwiseConvKernels.referenceBackward(B, C, H, W, k, p, x, 0, w, 0, rr, 0, gx, 0, gw, 0, gb, 0);
            checkFiniteDifferences("dw dx", xx -> { double[] y = new double[ny];
                DepthwiseConvKernels.reference(B, C, H, W, k, p, xx, 0, w, 0, b, 0, y, 0); return y; }, x, rr, gx, 1e-8);
            checkFiniteDifferences("dw dw", ww -> { double[] y = new double[ny];
                DepthwiseConvKernels.reference(B, C, H, W, k, p, x, 0, ww, 0, b, 0, y, 0); return y; }, w, rr, gw, 1e-8);
            checkFiniteDifferences("dw db", bb -> { double[] y = new double[ny];
                DepthwiseConvKernels.reference(B, C, H, W, k, p, x, 0, w, 0, bb, 0, y, 0); return y; }, b, rr, gb, 1e-8);
        }
    }

    private static double[] toNHWC(double[] a, int B, int C, int H, int W) {
        double[] r = new double[a.length];
        for (int b = 0; b < B; b++) for (int c = 0; c < C; c++) for (int h = 0; h < H; h++) for (int w = 0; w < W; w++)
            r[((b * H + h) * W + w) * C + c] = a[((b * C + c) * H + h) * W + w];
        return r;
    }

    @Test
    void channelsLastMatchesNchwReference() {
        Random r = new Random(43);
        for (int[] c : new int[][]{{2, 5, 9, 13, 7, 3}, {1, 35, 6, 7, 7, 3}, {2, 16, 5, 4, 3, 1}, {1, 3, 5, 6, 3, 3}}) {
            int B = c[0], C = c[1], H = c[2], W = c[3], k = c[4], p = c[5];
            int OH = DepthwiseConvKernels.outSize(H, k, p), OW = DepthwiseConvKernels.outSize(W, k, p);
            int nx = B * C * H * W, nw = C * k * k, ny = B * C * OH * OW;
            float[] x = randn(r, nx), w = randn(r, nw + 1), b = randn(r, C), gy = randn(r, ny);
            double[] yd = new double[ny], gxd = new double[nx], gwd = new double[nw], gbd = new double[C];
            DepthwiseConvKernels.reference(B, C, H, W, k, p, toDouble(x), 0, toDouble(w), 1, toDouble(b), 0, yd, 0);
            DepthwiseConvKernels.referenceBackward(B, C, H, W, k, p, toDouble(x), 0, toDouble(w), 1, toDouble(gy), 0, gxd, 0, gwd, 0, gbd, 0);
            double[] xl = toNHWC(toDouble(x), B, C, H, W), gyl = toNHWC(toDouble(gy), B, C, OH, OW);
            float[] xf = new float[nx], gyf = new float[ny];
            for (int i = 0; i < nx; i++) xf[i] = (float) xl[i];
            for (int i = 0; i < ny; i++) gyf[i] = (float) gyl[i];
            String tag = Arrays.toString(c);
            // double NHWC reference vs NCHW reference
            double[] yl = new double[ny], gxl = new double[nx], gwl = new double[nw], gbl = new double[C];
            DepthwiseConvKernels.referenceNHWC(B, H, W, C, k, p, xl, 0, toDouble(w), 1, toDouble(b), 0, yl, 0);
            DepthwiseConvKernels.referenceBackwardNHWC(B, H, W, C, k, p, xl, 0, toDouble(w), 1, gyl, 0, gxl, 0, gwl, 0, gbl, 0);
            assertRel("ref fwd " + tag, yl, toNHWC(yd, B, C, OH, OW), 1e-14);
            assertRel("ref gx " + tag, gxl, toNHWC(gxd, B, C, H, W), 1e-14);
            assertRel("ref gw " + tag, gwl, gwd, 1e-14);
            assertRel("ref gb " + tag, gbl, gbd, 1e-14);
            // fast NHWC vs reference
            float[] y = new float[ny + 2], gx = new float[nx], gw = new float[nw], gb = new float[C];
            Arrays.fill(gx, 3f);
            DepthwiseConvKernels.forwardNHWC(B, H, W, C, k, p, xf, 0, w, 1, b, 0, y, 2);
            DepthwiseConvKernels.backwardNHWC(B, H, W, C, k, p, xf, 0, w, 1, gyf, 0, gx, 0, gw, 0, gb, 0);
            assertRel("fwd nhwc " + tag, Arrays.copyOfRange(y, 2, ny + 2), toNHWC(yd, B, C, OH, OW), 1e-5);
            assertRel("gx nhwc " + tag, gx, toNHWC(gxd, B, C, H, W), 1e-5);
            assertRel("gw nhwc " + tag, gw, gwd, 1e-5);
            assertRel("gb nhwc " + tag, gb, gbd, 1e-5);
        }
    }
}
