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

/**
 * conv.cu: im2col / col2im (bitwise against ConvKernels per image; conv2d = W·col + bias and its input
 * gradient through col2im against ConvKernels' float64 direct loops, the GEMMs done here in double) and the
 * depthwise forward / backward against DepthwiseConvKernels' float64 references (relative L2 ≤ 1e-5).
 */
@Tag("gpu")
class ConvCudaTest {

    /** {B, C, H, W, O, kh, kw, sh, sw, ph, pw}: the ViT patch embed, a 3×3 same conv, and odd strides / paddings. */
    private static final int[][] DENSE = {
            {2, 3, 224, 224, 8, 16, 16, 16, 16, 0, 0},
            {2, 5, 13, 11, 4, 3, 3, 1, 1, 1, 1},
            {1, 3, 10, 9, 3, 3, 2, 2, 3, 1, 2},
            {2, 2, 37, 30, 3, 16, 16, 16, 16, 0, 0},     // remainder pixels outside every patch
            {1, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0},
            {1, 4, 7, 7, 2, 5, 5, 2, 2, 2, 2}};

    @Test
    void im2colGemmConvAndCol2imMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(71);
        for (int[] s : DENSE) {
            int B = s[0], C = s[1], H = s[2], W = s[3], O = s[4], kh = s[5], kw = s[6], sh = s[7], sw = s[8], ph = s[9], pw = s[10];
            int OH = ConvKernels.outSize(H, kh, sh, ph), OW = ConvKernels.outSize(W, kw, sw, pw), K = C * kh * kw, T = OH * OW;
            String tag = Arrays.toString(s);
            float[] x = randn(r, B * C * H * W), w = randn(r, O * K, 0.1, 0), bias = randn(r, O), gy = randn(r, B * O * T);
            DeviceBuffer dx = upload(c, x), dcol = poisoned(c, (long) B * K * T);
            ConvCuda.im2col(c, B, C, H, W, kh, kw, sh, sw, ph, pw, dx.ptr(), dcol.ptr());
            float[] col = download(c, dcol, B * K * T);
            // bitwise equal to the CPU im2col, image by image
            float[] cpuCol = new float[K * T];
            for (int b = 0; b < B; b++) {
                ConvKernels.im2col(C, H, W, kh, kw, sh, sw, ph, pw, x, b * C * H * W, cpuCol, 0);
                assertArrayEquals(cpuCol, Arrays.copyOfRange(col, b * K * T, (b + 1) * K * T), 0f, tag + " im2col b=" + b);
            }
            // conv2d = W[O, K]·col[b] + bias, in double, against the direct-loop reference
            double[] y = new double[B * O * T], ref = new double[B * O * T];
            for (int b = 0; b < B; b++)
                for (int o = 0; o < O; o++)
                    for (int t = 0; t < T; t++) {
                        double acc = bias[o];
                        for (int k = 0; k < K; k++) acc += (double) w[o * K + k] * col[(b * K + k) * T + t];
                        y[(b * O + o) * T + t] = acc;
                    }
            ConvKernels.reference(B, C, H, W, O, kh, kw, sh, sw, ph, pw, toDouble(x), 0, toDouble(w), 0, toDouble(bias), 0, ref, 0);
            assertRel(tag + " conv via im2col", y, ref, 1e-5);

            // input gradient: gcol[b] = Wᵀ·gy[b] (rounded to float), then col2im, against the reference
            float[] gcol = new float[B * K * T];
            for (int b = 0; b < B; b++)
                for (int k = 0; k < K; k++)
                    for (int t = 0; t < T; t++) {
                        double acc = 0;
                        for (int o = 0; o < O; o++) acc += (double) w[o * K + k] * gy[(b * O + o) * T + t];
                        gcol[(b * K + k) * T + t] = (float) acc;
                    }
            DeviceBuffer dgcol = upload(c, gcol), dgx = poisoned(c, (long) B * C * H * W);
            ConvCuda.col2im(c, B, C, H, W, kh, kw, sh, sw, ph, pw, dgcol.ptr(), dgx.ptr(), false);
            float[] gx = download(c, dgx, B * C * H * W);
            double[] rgx = new double[B * C * H * W];
            ConvKernels.referenceBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, toDouble(x), 0, toDouble(w), 0, toDouble(gy), 0,
                    rgx, 0, null, 0, null, 0);
            assertRel(tag + " gx via col2im", gx, rgx, 1e-5);
            // col2im bitwise against the CPU (which accumulates): accumulate onto x itself
            DeviceBuffer dacc = upload(c, x);
            ConvCuda.col2im(c, B, C, H, W, kh, kw, sh, sw, ph, pw, dgcol.ptr(), dacc.ptr(), true);
            float[] acc = download(c, dacc, B * C * H * W), cpu = x.clone();
            for (int b = 0; b < B; b++) ConvKernels.col2im(C, H, W, kh, kw, sh, sw, ph, pw, gcol, b * K * T, cpu, b * C * H * W);
            assertArrayEquals(cpu, acc, 0f, tag + " col2im (accumulate) bitwise vs ConvKernels");
            // adjoint identity ⟨im2col(x), gcol⟩ = ⟨x, col2im(gcol)⟩
            double lhs = dot(toDouble(col), toDouble(gcol)), rhs = dot(toDouble(x), toDouble(gx));
            double scale = Math.sqrt(dot(toDouble(col), toDouble(col)) * dot(toDouble(gcol), toDouble(gcol))) + 1e-30;
            assertTrue(Math.abs(lhs - rhs) <= 1e-6 * scale, tag + " im2col / col2im adjoint: " + lhs + " vs " + rhs);
            for (DeviceBuffer b : new DeviceBuffer[]{dx, dcol, dgcol, dgx, dacc}) b.release();
        }
    }

    /** {B, C, H, W, k, p}: ConvNeXt 7×7 / pad 3 on several plane sizes, other k and p (p > k − 1 too). */
    private static final int[][] DEPTHWISE = {{2, 3, 13, 13, 7, 3}, {2, 4, 56, 40, 7, 3}, {1, 5, 7, 7, 7, 3}, {3, 2, 9, 17, 3, 1},
            {2, 3, 11, 8, 5, 0}, {1, 2, 6, 5, 3, 3}, {1, 1, 1, 1, 1, 0}, {2, 2, 33, 70, 7, 3}};

    @Test
    void depthwiseForwardBackwardMatchReference() {
        CudaContext c = gpu();
        Random r = new Random(72);
        int variant = 0;
        for (int[] s : DEPTHWISE)
            for (int opt = 0; opt < 3; opt++, variant++) {
                int B = s[0], C = s[1], H = s[2], W = s[3], k = s[4], p = s[5];
                int OH = DepthwiseConvKernels.outSize(H, k, p), OW = DepthwiseConvKernels.outSize(W, k, p);
                boolean hasBias = opt != 1, wantX = opt != 2, wantW = opt != 1 || variant % 2 == 0, wantB = opt != 0;
                String tag = Arrays.toString(s) + " opt=" + opt;
                int nx = B * C * H * W, ny = B * C * OH * OW;
                float[] x = randn(r, nx), w = randn(r, C * k * k, 0.2, 0), bias = randn(r, C), gy = randn(r, ny);
                float[] gw0 = randn(r, C * k * k), gb0 = randn(r, C);
                DeviceBuffer dx = upload(c, x), dw = upload(c, w), db = upload(c, bias), dy = poisoned(c, ny), dgy = upload(c, gy);
                DeviceBuffer dgx = poisoned(c, nx), dgw = upload(c, gw0), dgb = upload(c, gb0);

                ConvCuda.depthwiseForward(c, B, C, H, W, k, p, dx.ptr(), dw.ptr(), hasBias ? db.ptr() : null, dy.ptr());
                double[] ry = new double[ny];
                DepthwiseConvKernels.reference(B, C, H, W, k, p, toDouble(x), 0, toDouble(w), 0, hasBias ? toDouble(bias) : null, 0, ry, 0);
                assertRel(tag + " forward", download(c, dy, ny), ry, 1e-5);

                ConvCuda.depthwiseBackward(c, B, C, H, W, k, p, dx.ptr(), dw.ptr(), dgy.ptr(),
                        wantX ? dgx.ptr() : null, wantW ? dgw.ptr() : null, wantB ? dgb.ptr() : null);
                double[] rgx = new double[nx], rgw = toDouble(gw0), rgb = toDouble(gb0);
                DepthwiseConvKernels.referenceBackward(B, C, H, W, k, p, toDouble(x), 0, toDouble(w), 0, toDouble(gy), 0,
                        rgx, 0, rgw, 0, rgb, 0);
                if (wantX) assertRel(tag + " gx", download(c, dgx, nx), rgx, 1e-5);
                float[] gw = download(c, dgw, C * k * k), gb = download(c, dgb, C);
                if (wantW) assertRel(tag + " gw (accumulated)", gw, rgw, 1e-5);
                else assertArrayEquals(gw0, gw, 0f, tag + " gw untouched");
                if (wantB) assertRel(tag + " gb (accumulated)", gb, rgb, 1e-5);
                else assertArrayEquals(gb0, gb, 0f, tag + " gb untouched");
                for (DeviceBuffer b : new DeviceBuffer[]{dx, dw, db, dy, dgy, dgx, dgw, dgb}) b.release();
            }
    }
}
