package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class ElementwiseKernelsTest {

    @Test
    void doubleErfMatchesKnownValues() {
        assertEquals(0.5204998778130465, ElementwiseKernels.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, ElementwiseKernels.erf(1.0), 1e-15);
        assertEquals(0.9953222650189527, ElementwiseKernels.erf(2.0), 1e-15);
        assertEquals(-0.8427007929497149, ElementwiseKernels.erf(-1.0), 1e-15);
        assertEquals(0.033894853524689274, ElementwiseKernels.erfc(1.5), 1e-14 * 0.034);
        assertEquals(2.209049699858544e-05, ElementwiseKernels.erfc(3.0), 1e-14 * 2.2e-5);
        assertEquals(1.541725790028002e-08, ElementwiseKernels.erfc(4.0), 1e-14 * 1.5e-8);
        assertEquals(1.5374597944280349e-12, ElementwiseKernels.erfc(5.0), 1e-14 * 1.5e-12);
        assertEquals(1.9661051464753108, ElementwiseKernels.erfc(-1.5), 1e-15);
        // the two evaluation regimes agree across the switch point
        for (double x = 1.4; x <= 2.5; x += 0.05) {
            double a = ElementwiseKernels.erfSeries(x), b = 1.0 - ElementwiseKernels.erfcCf(x);
            assertEquals(b, a, 1e-15, "x=" + x);
        }
    }

    private static float[] inputFor(UnaryOp op, Random r, int n) {
        return switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> uniform(r, n, 0.1, 4.0);
            case EXP -> uniform(r, n, -5, 5);
            case GELU, SILU, SIGMOID, TANH -> uniform(r, n, -9, 9);
            default -> uniform(r, n, -4, 4);
        };
    }

    @Test
    void unaryForwardAndBackwardMatchReference() {
        Random r = new Random(1);
        for (int n : new int[]{1, 7, 1037, 100_003}) {
            for (UnaryOp op : UnaryOp.values()) {
                float[] x = inputFor(op, r, n);
                float[] gy = randn(r, n);
                float[] y = new float[n + 3], gx = new float[n + 3];
                ElementwiseKernels.unary(op, n, x, 0, y, 3);
                ElementwiseKernels.unaryBackward(op, n, x, 0, gy, 0, gx, 3);
                double[] xd = toDouble(x), yd = new double[n], gxd = new double[n];
                ElementwiseKernels.unary(op, n, xd, 0, yd, 0);
                ElementwiseKernels.unaryBackward(op, n, xd, 0, toDouble(gy), 0, gxd, 0);
                assertRel(op + " fwd n=" + n, java.util.Arrays.copyOfRange(y, 3, n + 3), yd, 1e-6);
                assertRel(op + " bwd n=" + n, java.util.Arrays.copyOfRange(gx, 3, n + 3), gxd, 1e-6);
            }
        }
    }

    @Test
    void swigluIsTheCompositionBitForBitAndMatchesTheReference() {
        Random r = new Random(5);
        for (int n : new int[]{1, 37, 100_003}) {
            float[] a = uniform(r, n, -12, 12), b = randn(r, n), gy = randn(r, n);
            float[] y = new float[n], ga = new float[n], gb = new float[n];
            ElementwiseKernels.swiglu(n, a, 0, b, 0, y, 0);
            ElementwiseKernels.swigluBackward(n, a, 0, b, 0, gy, 0, ga, 0, gb, 0);
            // the composition silu(a) then ·b, and its backward in autograd's order
            float[] s = new float[n], gs = new float[n], ga2 = new float[n];
            ElementwiseKernels.unary(UnaryOp.SILU, n, a, 0, s, 0);
            for (int i = 0; i < n; i++) gs[i] = gy[i] * b[i];
            ElementwiseKernels.unaryBackward(UnaryOp.SILU, n, a, 0, gs, 0, ga2, 0);
            for (int i = 0; i < n; i++) {
                assertEquals(s[i] * b[i], y[i], 0f, "y[" + i + "]");
                assertEquals(ga2[i], ga[i], 0f, "ga[" + i + "]");
                assertEquals(gy[i] * s[i], gb[i], 0f, "gb[" + i + "]");
            }
            double[] yd = new double[n], gad = new double[n], gbd = new double[n];
            ElementwiseKernels.swiglu(n, toDouble(a), 0, toDouble(b), 0, yd, 0);
            ElementwiseKernels.swigluBackward(n, toDouble(a), 0, toDouble(b), 0, toDouble(gy), 0, gad, 0, gbd, 0);
            assertRel("swiglu fwd n=" + n, y, yd, 1e-6);
            assertRel("swiglu ga n=" + n, ga, gad, 1e-6);
            assertRel("swiglu gb n=" + n, gb, gbd, 1e-6);
        }
    }

    @Test
    void geluIsAccurateElementwiseOverWideRange() {
        int n = 20001;
        float[] x = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) x[i] = -10f + 20f * i / (n - 1);
        ElementwiseKernels.unary(UnaryOp.GELU, n, x, 0, y, 0);
        for (int i = 0; i < n; i++) {
            double ref = ElementwiseKernels.apply(UnaryOp.GELU, (double) x[i]);
            assertTrue(Math.abs(y[i] - ref) <= 5e-7 * Math.abs(ref) + 1e-37,
                    "gelu(" + x[i] + ") = " + y[i] + " vs " + ref);
        }
        // exact-erf GELU, not the tanh approximation
        assertEquals(0.8413447460685429, ElementwiseKernels.apply(UnaryOp.GELU, 1.0), 1e-15);
        assertEquals(-0.15865525393145707, ElementwiseKernels.apply(UnaryOp.GELU, -1.0), 1e-15);
    }

    @Test
    void saturatingGradientsKeepRelativeAccuracyInTheTails() {
        // 1 − tanh², σ(1 − σ) lose all relative accuracy once the function saturates; the kernels must not
        int n = 4001;
        float[] x = new float[n], g = new float[n], gx = new float[n];
        for (int i = 0; i < n; i++) { x[i] = -15f + 30f * i / (n - 1); g[i] = 1f; }
        for (UnaryOp op : new UnaryOp[]{UnaryOp.TANH, UnaryOp.SIGMOID, UnaryOp.SILU}) {
            ElementwiseKernels.unaryBackward(op, n, x, 0, g, 0, gx, 0);
            for (int i = 0; i < n; i++) {
                double ref = ElementwiseKernels.derivative(op, x[i]);
                // SiLU' = σ(x)(1 + xσ(−x)) has a root near x = −1.28: there the error is measured against σ(x)
                double slack = op == UnaryOp.SILU ? 2e-7 / (1 + Math.exp(-x[i])) : 1e-37;
                assertTrue(Math.abs(gx[i] - ref) <= 2e-6 * Math.abs(ref) + slack,
                        op + "'(" + x[i] + ") = " + gx[i] + " vs " + ref);
            }
        }
    }

    @Test
    void unaryReferenceDerivativesMatchFiniteDifferences() {
        Random r = new Random(2);
        for (UnaryOp op : UnaryOp.values()) {
            float[] xf = inputFor(op, r, 64);
            for (int i = 0; i < xf.length; i++) if (op == UnaryOp.RELU || op == UnaryOp.ABS) if (Math.abs(xf[i]) < 1e-3) xf[i] = 0.5f;
            double[] x = toDouble(xf), rr = toDouble(randn(r, 64)), g = new double[64];
            ElementwiseKernels.unaryBackward(op, 64, x, 0, rr, 0, g, 0);
            checkFiniteDifferences(op.toString(), xx -> {
                double[] y = new double[xx.length];
                ElementwiseKernels.unary(op, xx.length, xx, 0, y, 0);
                return y;
            }, x, rr, g, 1e-6);
        }
    }

    private static void checkBinary(BinaryOp op, int[] shape, int[] as, int aLen, int[] bs, int bLen, Random r) {
        float[] a = uniform(r, aLen + 2, 0.5, 2.0), b = uniform(r, bLen + 1, 0.5, 2.0);
        if (op != BinaryOp.POW) { a = randn(r, aLen + 2); b = uniform(r, bLen + 1, 0.5, 2.0); }
        int n = 1;
        for (int d : shape) n *= d;
        float[] out = new float[n + 1];
        ElementwiseKernels.binary(op, shape, a, 2, as, b, 1, bs, out, 1);
        double[] outD = new double[n];
        ElementwiseKernels.binary(op, shape, toDouble(a), 2, as, toDouble(b), 1, bs, outD, 0);
        // independent index-by-index check of the double twin
        int[] idx = new int[shape.length];
        for (int i = 0; i < n; i++) {
            int ai = 2, bi = 1;
            for (int d = 0; d < shape.length; d++) { ai += idx[d] * as[d]; bi += idx[d] * bs[d]; }
            assertEquals(ElementwiseKernels.apply(op, (double) a[ai], (double) b[bi]), outD[i], 0.0);
            for (int d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
        }
        assertRel(op + " " + java.util.Arrays.toString(shape) + " " + java.util.Arrays.toString(as) + " "
                + java.util.Arrays.toString(bs), java.util.Arrays.copyOfRange(out, 1, n + 1), outD, 1e-6);
    }

    @Test
    void binaryBroadcastPatternsMatchReference() {
        Random r = new Random(3);
        for (BinaryOp op : BinaryOp.values()) {
            checkBinary(op, new int[]{3, 5, 7}, new int[]{35, 7, 1}, 105, new int[]{35, 7, 1}, 105, r);       // same shape
            checkBinary(op, new int[]{3, 5, 7}, new int[]{35, 7, 1}, 105, new int[]{0, 0, 0}, 1, r);          // scalar
            checkBinary(op, new int[]{4, 33}, new int[]{33, 1}, 132, new int[]{0, 1}, 33, r);                 // bias row
            checkBinary(op, new int[]{4, 33}, new int[]{33, 1}, 132, new int[]{1, 0}, 4, r);                  // column
            checkBinary(op, new int[]{4, 33}, new int[]{0, 1}, 33, new int[]{1, 0}, 4, r);                    // outer product
            checkBinary(op, new int[]{5, 3, 6}, new int[]{1, 30, 5}, 90, new int[]{6, 0, 1}, 30, r);          // permuted a, middle bcast
            checkBinary(op, new int[]{2, 1, 9}, new int[]{9, 9, 1}, 18, new int[]{0, 0, 1}, 9, r);            // size-1 dim
            checkBinary(op, new int[]{100_003}, new int[]{1}, 100_003, new int[]{1}, 100_003, r);            // large contiguous
            checkBinary(op, new int[]{3, 70_001}, new int[]{70_001, 1}, 210_003, new int[]{0, 1}, 70_001, r); // large rows, bcast
            checkBinary(op, new int[]{70_001, 3}, new int[]{3, 1}, 210_003, new int[]{1, 0}, 70_001, r);      // many short rows
        }
    }

    @Test
    void copyStridedGathersViews() {
        Random r = new Random(4);
        float[] src = randn(r, 200);
        int[][] shapes = {{5, 3, 4}, {2, 3, 4}, {3, 4, 6}, {7}, {2, 3}};
        int[][] strides = {{1, 20, 5}, {40, 10, 2}, {0, 5, 1}, {3}, {0, 0}};
        int[] offs = {0, 3, 7, 2, 9};
        for (int t = 0; t < shapes.length; t++) {
            int[] shape = shapes[t], st = strides[t];
            int n = 1;
            for (int d : shape) n *= d;
            float[] dst = new float[n + 1];
            double[] dstD = new double[n];
            ElementwiseKernels.copyStrided(shape, src, offs[t], st, dst, 1);
            ElementwiseKernels.copyStrided(shape, toDouble(src), offs[t], st, dstD, 0);
            int[] idx = new int[shape.length];
            for (int i = 0; i < n; i++) {
                int si = offs[t];
                for (int d = 0; d < shape.length; d++) si += idx[d] * st[d];
                assertEquals(src[si], dst[1 + i], 0f);
                assertEquals(src[si], dstD[i], 0.0);
                for (int d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
            }
        }
        // big permute (parallel path): transpose 300x500
        float[] big = randn(r, 150_000), t = new float[150_000];
        ElementwiseKernels.copyStrided(new int[]{500, 300}, big, 0, new int[]{1, 500}, t, 0);
        for (int i = 0; i < 500; i++) for (int j = 0; j < 300; j++) assertEquals(big[j * 500 + i], t[i * 300 + j], 0f);
        // batched transpose of the last two axes with an offset (tiled path): [4, 50, 70] view of [4, 70, 50]
        float[] bt = new float[4 * 50 * 70];
        ElementwiseKernels.copyStrided(new int[]{4, 50, 70}, big, 5, new int[]{3500, 1, 50}, bt, 0);
        for (int b = 0; b < 4; b++) for (int i = 0; i < 50; i++) for (int j = 0; j < 70; j++)
            assertEquals(big[5 + b * 3500 + j * 50 + i], bt[(b * 50 + i) * 70 + j], 0f);
    }

    @Test
    void blasOneHelpers() {
        Random r = new Random(5);
        int n = 100_019;
        float[] x = randn(r, n), y = randn(r, n), y0 = y.clone();
        ElementwiseKernels.axpy(n, 0.7f, x, 0, y, 0);
        for (int i = 0; i < n; i++) assertEquals(y0[i] + 0.7f * x[i], y[i], 1e-6f);
        ElementwiseKernels.scale(n, -2f, x, 0, y, 0);
        for (int i = 0; i < n; i++) assertEquals(-2f * x[i], y[i], 0f);
        ElementwiseKernels.addScalar(n, 1.5f, x, 0, y, 0);
        for (int i = 0; i < n; i++) assertEquals(x[i] + 1.5f, y[i], 0f);
        float[] acc = y.clone();
        ElementwiseKernels.accumulate(n, x, 0, acc, 0);
        for (int i = 0; i < n; i++) assertEquals(y[i] + x[i], acc[i], 0f);
        ElementwiseKernels.fill(n - 2, 3f, acc, 1);
        assertEquals(3f, acc[1]); assertEquals(3f, acc[n - 2]); assertNotEquals(3f, acc[n - 1]);
        double[] xd = toDouble(x), yd = new double[n];
        ElementwiseKernels.scale(n, 2.0, xd, 0, yd, 0);
        ElementwiseKernels.axpy(n, -1.0, xd, 0, yd, 0);
        ElementwiseKernels.accumulate(n, xd, 0, yd, 0);
        ElementwiseKernels.addScalar(n, 1.0, yd, 0, yd, 0);
        for (int i = 0; i < n; i++) assertEquals(2.0 * x[i] + 1.0, yd[i], 1e-12);
    }

    @Test
    void storageConversions() {
        float[] f = {1f, -2.5f, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), Float.intBitsToFloat(0x3F808001),
                Float.intBitsToFloat(0x7F7FFFFF), 3.14159f};
        short[] h = new short[f.length];
        ElementwiseKernels.f32ToBf16(f, 0, h, 0, f.length);
        assertEquals((short) 0x3F80, h[0]);
        assertEquals((short) 0xC020, h[1]);
        assertEquals((short) 0x8000, h[3]);
        assertEquals((short) 0x7F80, h[4]);
        assertEquals((short) 0xFF80, h[5]);
        assertEquals((short) 0x3F80, h[7]);   // tie -> even
        assertEquals((short) 0x3F82, h[8]);   // tie -> even (up)
        assertEquals((short) 0x3F81, h[9]);   // above tie -> up
        assertEquals((short) 0x7F80, h[10]);  // overflow rounds to inf
        float[] back = new float[f.length];
        ElementwiseKernels.bf16ToF32(h, 0, back, 0, f.length);
        assertTrue(Float.isNaN(back[6]));
        assertEquals(-2.5f, back[1]);
        assertEquals(3.140625f, back[11]);
        short[] h16 = new short[f.length];
        ElementwiseKernels.f32ToF16(f, 0, h16, 0, f.length);
        float[] b16 = new float[f.length];
        ElementwiseKernels.f16ToF32(h16, 0, b16, 0, f.length);
        assertEquals(-2.5f, b16[1]);
        assertTrue(Float.isNaN(b16[6]));
        assertEquals(Float.POSITIVE_INFINITY, b16[10]);
        assertEquals(3.140625f, b16[11]);
    }
}
