package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dino4j.kernels.CudaTestSupport.*;
import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** The elementwise CUDA family against the float64 references of {@link ElementwiseKernels} (rel L2 ≤ 1e-5). */
@Tag("gpu")
class ElementwiseCudaTest {
    private static final double TOL = 1e-5;

    // ------------------------------------------------------------------ helpers

    /** Inputs in each binary op's comfortable domain: POW has a positive base, DIV a divisor away from 0. */
    private static float[] lhs(BinaryOp op, Random r, int n) {
        return op == BinaryOp.POW ? uniform(r, n, 0.2, 3.0) : randn(r, n);
    }

    private static float[] rhs(BinaryOp op, Random r, int n) {
        if (op == BinaryOp.POW) return uniform(r, n, -2.5, 2.5);
        if (op == BinaryOp.DIV) {
            float[] b = uniform(r, n, 0.3, 3.0);
            for (int i = 0; i < n; i++) if (r.nextBoolean()) b[i] = -b[i];
            return b;
        }
        return randn(r, n);
    }

    private static int storage(int[] shape, int[] strides) {
        long max = 0;
        for (int i = 0; i < shape.length; i++) max += (long) (shape[i] - 1) * strides[i];
        return (int) max + 1;
    }

    /** GPU binary over strided operands vs the double reference with the same strides. */
    private static void checkBinary(CudaContext c, Random r, BinaryOp op, int[] shape, int[] as, int[] bs, String what) {
        float[] a = lhs(op, r, storage(shape, as)), b = rhs(op, r, storage(shape, bs));
        int n = (int) ElementwiseCuda.numel(shape, shape.length);
        DeviceBuffer da = upload(c, a), db = upload(c, b), out = poisoned(c, n);
        ElementwiseCuda.binary(c, op, shape.length, shape, da.ptr(), as, db.ptr(), bs, out.ptr());
        float[] got = download(c, out, n);
        double[] ref = new double[n];
        ElementwiseKernels.binary(op, shape, toDouble(a), 0, as, toDouble(b), 0, bs, ref, 0);
        assertRel(op + " " + what, got, ref, TOL);
    }

    private static float[] unaryInput(UnaryOp op, Random r, int n) {
        return switch (op) {
            case LOG, SQRT, RSQRT -> uniform(r, n, 0.05, 6.0);
            case RECIPROCAL -> {
                float[] x = uniform(r, n, 0.2, 4.0);
                for (int i = 0; i < n; i++) if (r.nextBoolean()) x[i] = -x[i];
                yield x;
            }
            case EXP -> uniform(r, n, -8, 8);
            case GELU, SILU, SIGMOID, TANH -> uniform(r, n, -9, 9);
            case SIN, COS -> uniform(r, n, -20, 20);
            default -> uniform(r, n, -4, 4);
        };
    }

    // ------------------------------------------------------------------ binary

    @Test
    void binarySameShapeEveryOp() {
        CudaContext c = gpu();
        Random r = new Random(11);
        for (BinaryOp op : BinaryOp.values())
            for (int n : new int[]{1, 7, 1029, 1_000_003}) checkBinary(c, r, op, new int[]{n}, new int[]{1}, new int[]{1}, "n=" + n);
        // 3-D contiguous coalesces to the float4 contiguous kernel
        for (BinaryOp op : BinaryOp.values())
            checkBinary(c, r, op, new int[]{3, 17, 9}, new int[]{153, 9, 1}, new int[]{153, 9, 1}, "[3,17,9]");
    }

    @Test
    void binaryMisalignedOperandsTakeTheScalarPath() {
        CudaContext c = gpu();
        Random r = new Random(12);
        int n = 10_001;
        for (BinaryOp op : BinaryOp.values()) {
            float[] a = lhs(op, r, n + 1), b = rhs(op, r, n + 1);
            DeviceBuffer da = upload(c, a), db = upload(c, b), out = poisoned(c, n + 1);
            ElementwiseCuda.binary(c, op, 1, new int[]{n}, da.at(4), new int[]{1}, db.ptr(), new int[]{1}, out.at(4));
            float[] got = Arrays.copyOfRange(download(c, out, n + 1), 1, n + 1);
            double[] ref = new double[n];
            ElementwiseKernels.binary(op, new int[]{n}, toDouble(a), 1, new int[]{1}, toDouble(b), 0, new int[]{1}, ref, 0);
            assertRel(op + " misaligned", got, ref, TOL);
        }
    }

    @Test
    void binaryBroadcastingEveryOp() {
        CudaContext c = gpu();
        Random r = new Random(13);
        for (BinaryOp op : BinaryOp.values()) {
            // [3,1,5] op [1,4,1] → [3,4,5]
            checkBinary(c, r, op, new int[]{3, 4, 5}, new int[]{5, 0, 1}, new int[]{0, 1, 0}, "[3,1,5]x[1,4,1]");
            // bias row: [R, C] op [C], float4 (C % 4 == 0) and scalar (odd C) rows kernel; and swapped
            checkBinary(c, r, op, new int[]{37, 64}, new int[]{64, 1}, new int[]{0, 1}, "bias C=64");
            checkBinary(c, r, op, new int[]{37, 67}, new int[]{67, 1}, new int[]{0, 1}, "bias C=67");
            checkBinary(c, r, op, new int[]{5, 9, 68}, new int[]{612, 68, 1}, new int[]{0, 0, 1}, "bias 3-D");
            checkBinary(c, r, op, new int[]{37, 64}, new int[]{0, 1}, new int[]{64, 1}, "row op matrix");
            // a per-row column [R, 1] and a scalar on either side
            checkBinary(c, r, op, new int[]{29, 40}, new int[]{40, 1}, new int[]{1, 0}, "column");
            checkBinary(c, r, op, new int[]{1001}, new int[]{1}, new int[]{0}, "scalar rhs");
            checkBinary(c, r, op, new int[]{7, 11}, new int[]{0, 0}, new int[]{11, 1}, "scalar lhs");
            checkBinary(c, r, op, new int[]{}, new int[]{}, new int[]{}, "rank 0");
            // transposed and strided views
            checkBinary(c, r, op, new int[]{33, 45}, new int[]{1, 33}, new int[]{45, 1}, "transposed lhs");
            checkBinary(c, r, op, new int[]{33, 45}, new int[]{1, 33}, new int[]{1, 33}, "both transposed");
            checkBinary(c, r, op, new int[]{6, 10}, new int[]{30, 3}, new int[]{1, 6}, "step-3 slice");
            checkBinary(c, r, op, new int[]{2, 3, 4, 5, 3}, new int[]{60, 1, 15, 3, 1}, new int[]{0, 20, 5, 1, 0}, "rank 5");
        }
        // a rank-8 permuted view
        int[] shape = {2, 3, 2, 3, 2, 2, 3, 2};
        int[] cont = ElementwiseCuda.contiguousStrides(shape, 8);
        int[] perm = {7, 0, 6, 1, 5, 2, 4, 3};
        int[] ps = new int[8];
        for (int i = 0; i < 8; i++) ps[i] = cont[perm[i]];
        int[] pshape = new int[8];
        for (int i = 0; i < 8; i++) pshape[i] = shape[perm[i]];
        checkBinary(c, r, BinaryOp.SUB, pshape, ps, ElementwiseCuda.contiguousStrides(pshape, 8), "rank 8 permuted");
    }

    @Test
    void binaryLargeBroadcast() {
        CudaContext c = gpu();
        Random r = new Random(14);
        checkBinary(c, r, BinaryOp.ADD, new int[]{1303, 768}, new int[]{768, 1}, new int[]{0, 1}, "big bias");
        checkBinary(c, r, BinaryOp.MUL, new int[]{8, 197, 3, 64}, new int[]{197 * 192, 64, 197 * 64, 1},
                new int[]{0, 0, 64, 1}, "big strided");
    }

    @Test
    void maxMinPowFollowJavaSpecialCases() {
        CudaContext c = gpu();
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        float[] a = {nan, 1f, -0f, 0f, 2f, -3f, 1f, -1f, 1f, 2f, 0f, -8f, 4f, inf};
        float[] b = {1f, nan, 0f, -0f, 3f, -3f, nan, inf, -inf, 0.5f, -1f, 1f / 3f, -0.5f, 0f};
        int n = a.length;
        DeviceBuffer da = upload(c, a), db = upload(c, b);
        for (BinaryOp op : new BinaryOp[]{BinaryOp.MAX, BinaryOp.MIN, BinaryOp.POW}) {
            DeviceBuffer out = poisoned(c, n);
            ElementwiseCuda.binary(c, op, 1, new int[]{n}, da.ptr(), new int[]{1}, db.ptr(), new int[]{1}, out.ptr());
            float[] got = download(c, out, n);
            for (int i = 0; i < n; i++) {
                float want = ElementwiseKernels.apply(op, a[i], b[i]);
                if (op == BinaryOp.POW && Float.isFinite(want) && want != 0f)
                    assertEquals(want, got[i], Math.abs(want) * 2e-7, op + "(" + a[i] + ", " + b[i] + ")");
                else
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), op + "(" + a[i] + ", " + b[i] + ") = " + got[i]);
            }
        }
    }

    @Test
    void addInPlaceBroadcastAndSameShape() {
        CudaContext c = gpu();
        Random r = new Random(15);
        int[] shape = {6, 7, 9};
        int n = 6 * 7 * 9;
        float[] dst = randn(r, n), src = randn(r, 7);
        DeviceBuffer dd = upload(c, dst), ds = upload(c, src);
        ElementwiseCuda.addInPlace(c, 3, shape, dd.ptr(), ds.ptr(), new int[]{0, 1, 0});
        float[] got = download(c, dd, n);
        double[] ref = new double[n];
        for (int i = 0; i < 6; i++) for (int j = 0; j < 7; j++) for (int k = 0; k < 9; k++) {
            int o = (i * 7 + j) * 9 + k;
            ref[o] = (double) dst[o] + src[j];
        }
        assertRel("addInPlace broadcast", got, ref, TOL);

        float[] s2 = randn(r, n);
        DeviceBuffer d2 = upload(c, dst), ds2 = upload(c, s2);
        ElementwiseCuda.addInPlace(c, 3, shape, d2.ptr(), ds2.ptr(), new int[]{63, 9, 1});
        float[] got2 = download(c, d2, n);
        for (int i = 0; i < n; i++) assertEquals(dst[i] + s2[i], got2[i], 0f, "same-shape add is exact");
    }

    // ------------------------------------------------------------------ unary

    @Test
    void unaryForwardAndBackwardEveryOp() {
        CudaContext c = gpu();
        Random r = new Random(21);
        for (int n : new int[]{1, 5, 1037, 100_003}) {
            for (UnaryOp op : UnaryOp.values()) {
                float[] x = unaryInput(op, r, n), gy = randn(r, n);
                DeviceBuffer dx = upload(c, x), dg = upload(c, gy), y = poisoned(c, n), gx = poisoned(c, n);
                ElementwiseCuda.unary(c, op, n, dx.ptr(), y.ptr());
                ElementwiseCuda.unaryBackward(c, op, n, dx.ptr(), dg.ptr(), gx.ptr());
                double[] xd = toDouble(x), yd = new double[n], gxd = new double[n];
                ElementwiseKernels.unary(op, n, xd, 0, yd, 0);
                ElementwiseKernels.unaryBackward(op, n, xd, 0, toDouble(gy), 0, gxd, 0);
                assertRel(op + " fwd n=" + n, download(c, y, n), yd, TOL);
                assertRel(op + " bwd n=" + n, download(c, gx, n), gxd, TOL);
            }
        }
    }

    @Test
    void unaryLargeAndMisaligned() {
        CudaContext c = gpu();
        Random r = new Random(22);
        int n = 1_000_003;
        for (UnaryOp op : new UnaryOp[]{UnaryOp.GELU, UnaryOp.EXP, UnaryOp.SILU, UnaryOp.RSQRT}) {
            float[] x = unaryInput(op, r, n + 1), gy = randn(r, n + 1);
            DeviceBuffer dx = upload(c, x), dg = upload(c, gy), y = poisoned(c, n + 1), gx = poisoned(c, n + 1);
            // offset by one float: the scalar (non-float4) path
            ElementwiseCuda.unary(c, op, n, dx.at(4), y.at(4));
            ElementwiseCuda.unaryBackward(c, op, n, dx.at(4), dg.at(4), gx.at(4));
            double[] xd = toDouble(x), yd = new double[n], gxd = new double[n];
            ElementwiseKernels.unary(op, n, xd, 1, yd, 0);
            ElementwiseKernels.unaryBackward(op, n, xd, 1, toDouble(gy), 1, gxd, 0);
            assertRel(op + " fwd misaligned", Arrays.copyOfRange(download(c, y, n + 1), 1, n + 1), yd, TOL);
            assertRel(op + " bwd misaligned", Arrays.copyOfRange(download(c, gx, n + 1), 1, n + 1), gxd, TOL);
        }
    }

    @Test
    void swigluMatchesTheCpuKernel() {
        CudaContext c = gpu();
        Random r = new Random(23);
        int n = 300_007;
        float[] a = unaryInput(UnaryOp.SILU, r, n), b = randn(r, n), gy = randn(r, n);
        DeviceBuffer da = upload(c, a), db = upload(c, b), dg = upload(c, gy);
        DeviceBuffer y = poisoned(c, n), ga = poisoned(c, n), gb = poisoned(c, n);
        ElementwiseCuda.swiglu(c, n, da.ptr(), db.ptr(), y.ptr());
        ElementwiseCuda.swigluBackward(c, n, da.ptr(), db.ptr(), dg.ptr(), ga.ptr(), gb.ptr());
        double[] yd = new double[n], gad = new double[n], gbd = new double[n];
        ElementwiseKernels.swiglu(n, toDouble(a), 0, toDouble(b), 0, yd, 0);
        ElementwiseKernels.swigluBackward(n, toDouble(a), 0, toDouble(b), 0, toDouble(gy), 0, gad, 0, gbd, 0);
        assertRel("swiglu fwd", download(c, y, n), yd, TOL);
        assertRel("swiglu ga", download(c, ga, n), gad, TOL);
        assertRel("swiglu gb", download(c, gb, n), gbd, TOL);
    }

    @Test
    void geluIsAccurateInBothTails() {
        CudaContext c = gpu();
        int n = 4001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -12f + 24f * i / (n - 1);
        DeviceBuffer dx = upload(c, x), y = poisoned(c, n);
        ElementwiseCuda.unary(c, UnaryOp.GELU, n, dx.ptr(), y.ptr());
        float[] got = download(c, y, n);
        for (int i = 0; i < n; i++) {
            double want = x[i] * ElementwiseKernels.normalCdf(x[i]);
            assertEquals(want, got[i], 1e-6 * Math.abs(want) + 1e-37, "gelu(" + x[i] + ")");
        }
    }

    @Test
    void sinCosReduceHugeArgumentsExactly() {
        CudaContext c = gpu();
        Random r = new Random(23);
        int n = 20_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double m = 1 + r.nextDouble();
            x[i] = (float) (Math.scalb(m, r.nextInt(127)) * (r.nextBoolean() ? 1 : -1));
        }
        x[0] = Float.MAX_VALUE; x[1] = -Float.MAX_VALUE; x[2] = 268435456f; x[3] = 268435440f; x[4] = 0f; x[5] = -0f;
        x[6] = Float.MIN_VALUE; x[7] = 1e-30f; x[8] = 3.1415927f; x[9] = 1.5707964f;
        DeviceBuffer dx = upload(c, x), ones = upload(c, uniform(r, n, 1, 1));
        for (UnaryOp op : new UnaryOp[]{UnaryOp.SIN, UnaryOp.COS}) {
            DeviceBuffer y = poisoned(c, n), gx = poisoned(c, n);
            ElementwiseCuda.unary(c, op, n, dx.ptr(), y.ptr());
            ElementwiseCuda.unaryBackward(c, op, n, dx.ptr(), ones.ptr(), gx.ptr());
            float[] got = download(c, y, n), grad = download(c, gx, n);
            for (int i = 0; i < n; i++) {
                double fx = op == UnaryOp.SIN ? Math.sin(x[i]) : Math.cos(x[i]);
                double dfx = op == UnaryOp.SIN ? Math.cos(x[i]) : -Math.sin(x[i]);
                // the double reduction is exact to ~1e-15: the float result is the rounded double (±1 ulp at ties)
                assertEquals((float) fx, got[i], Math.ulp((float) fx), op + "(" + x[i] + ")");
                assertEquals((float) dfx, grad[i], Math.ulp((float) dfx), op + "'(" + x[i] + ")");
            }
            for (float special : new float[]{Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                DeviceBuffer s = upload(c, new float[]{special}), o = poisoned(c, 1);
                ElementwiseCuda.unary(c, op, 1, s.ptr(), o.ptr());
                assertTrue(Float.isNaN(download(c, o, 1)[0]), op + "(" + special + ") is NaN");
            }
        }
    }

    @Test
    void unarySpecialValuesMatchCpu() {
        CudaContext c = gpu();
        float[] x = {Float.NaN, -0f, 0f, -1f, 2f};
        DeviceBuffer dx = upload(c, x), ones = upload(c, new float[]{1, 1, 1, 1, 1});
        // (ABS is left out: the CPU's own vector and scalar-tail paths disagree on its gradient at NaN and -0)
        for (UnaryOp op : new UnaryOp[]{UnaryOp.RELU, UnaryOp.NEG, UnaryOp.SQUARE}) {
            DeviceBuffer y = poisoned(c, 5), gx = poisoned(c, 5);
            ElementwiseCuda.unary(c, op, 5, dx.ptr(), y.ptr());
            ElementwiseCuda.unaryBackward(c, op, 5, dx.ptr(), ones.ptr(), gx.ptr());
            float[] want = new float[5], wantG = new float[5];
            ElementwiseKernels.unary(op, 5, x, 0, want, 0);
            ElementwiseKernels.unaryBackward(op, 5, x, 0, new float[]{1, 1, 1, 1, 1}, 0, wantG, 0);
            float[] got = download(c, y, 5), gotG = download(c, gx, 5);
            for (int i = 0; i < 5; i++) {
                assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), op + "(" + x[i] + ") = " + got[i]);
                assertEquals(Float.floatToIntBits(wantG[i]), Float.floatToIntBits(gotG[i]), op + "'(" + x[i] + ") = " + gotG[i]);
            }
        }
    }

    // ------------------------------------------------------------------ fill, copies

    @Test
    void fillWritesEveryElement() {
        CudaContext c = gpu();
        for (int n : new int[]{1, 6, 1_000_003}) {
            DeviceBuffer out = poisoned(c, n + 1);
            ElementwiseCuda.fill(c, n, 2.5f, out.ptr());
            float[] got = download(c, out, n);
            for (int i = 0; i < n; i++) assertEquals(2.5f, got[i], 0f);
            DeviceBuffer out2 = poisoned(c, n + 1);
            ElementwiseCuda.fill(c, n, -1.25f, out2.at(4));                 // misaligned
            float[] got2 = download(c, out2, n + 1);
            assertTrue(Float.isNaN(got2[0]), "fill wrote before its start");
            for (int i = 1; i <= n; i++) assertEquals(-1.25f, got2[i], 0f);
        }
    }

    /** Reference gather: dst[idx·dstStrides] = src[idx·srcStrides] over shape, on long-typed element copies. */
    private static void refCopy(int[] shape, long[] src, int[] ss, long[] dst, int[] ds) {
        int rank = shape.length;
        long total = ElementwiseCuda.numel(shape, rank);
        int[] idx = new int[rank];
        for (long t = 0; t < total; t++) {
            long rem = t, os = 0, od = 0;
            for (int k = rank - 1; k >= 0; k--) {
                idx[k] = (int) (rem % shape[k]);
                rem /= shape[k];
                os += (long) idx[k] * ss[k];
                od += (long) idx[k] * ds[k];
            }
            dst[(int) od] = src[(int) os];
        }
    }

    private static Object typed(int elemBytes, long[] v) {
        switch (elemBytes) {
            case 1 -> { byte[] a = new byte[v.length]; for (int i = 0; i < v.length; i++) a[i] = (byte) v[i]; return a; }
            case 2 -> { short[] a = new short[v.length]; for (int i = 0; i < v.length; i++) a[i] = (short) v[i]; return a; }
            case 4 -> { int[] a = new int[v.length]; for (int i = 0; i < v.length; i++) a[i] = (int) v[i]; return a; }
            default -> { return v.clone(); }
        }
    }

    private static long[] widen(Object a) {
        return switch (a) {
            case byte[] x -> { long[] r = new long[x.length]; for (int i = 0; i < x.length; i++) r[i] = x[i]; yield r; }
            case short[] x -> { long[] r = new long[x.length]; for (int i = 0; i < x.length; i++) r[i] = x[i]; yield r; }
            case int[] x -> { long[] r = new long[x.length]; for (int i = 0; i < x.length; i++) r[i] = x[i]; yield r; }
            case long[] x -> x.clone();
            default -> throw new IllegalArgumentException();
        };
    }

    private static Object empty(int elemBytes, int n) {
        return switch (elemBytes) {
            case 1 -> new byte[n]; case 2 -> new short[n]; case 4 -> new int[n]; default -> new long[n];
        };
    }

    /** Copies a strided view of random elements of each size and compares exactly (poisoned destination). */
    private static void checkCopy(CudaContext c, Random r, int elemBytes, int[] shape, int[] ss, int[] ds, int dstLen, String what) {
        int rank = shape.length;
        int srcLen = storage(shape, ss);
        long[] src = new long[srcLen];
        for (int i = 0; i < srcLen; i++) src[i] = r.nextLong();
        Object srcT = typed(elemBytes, src);
        long[] srcW = widen(srcT);
        DeviceBuffer dsrc = c.alloc((long) elemBytes * srcLen), ddst = c.alloc((long) elemBytes * dstLen);
        c.staging().upload(dsrc.ptr(), srcT, 0, srcLen, "test");
        c.memset(ddst.ptr(), 0x5A, (long) elemBytes * dstLen);
        long[] want = widen(typed(elemBytes, filled(dstLen, elemBytes)));
        refCopy(shape, srcW, ss, want, ds);
        ElementwiseCuda.copyStridedTo(c, elemBytes, rank, shape, dsrc.ptr(), ss, ddst.ptr(), ds);
        c.synchronize();
        Object got = empty(elemBytes, dstLen);
        c.staging().download(ddst.ptr(), got, 0, dstLen, "test");
        assertArrayEquals(want, widen(got), "copy " + what + " (" + elemBytes + " bytes)");
    }

    /** The 0x5A byte pattern as elements of the given size. */
    private static long[] filled(int n, int elemBytes) {
        long v = 0;
        for (int i = 0; i < elemBytes; i++) v = (v << 8) | 0x5A;
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void copyStridedEveryElementSize() {
        CudaContext c = gpu();
        Random r = new Random(31);
        for (int eb : new int[]{1, 2, 4, 8}) {
            // contiguous (memcpy), a transpose (tiled), a batched transpose, a 3-D permutation, broadcast, slices
            int[][][] cases = {
                    {{5, 7}, {7, 1}},
                    {{67, 45}, {1, 67}},
                    {{3, 40, 50}, {2000, 1, 40}},
                    {{4, 5, 6}, {1, 24, 4}},
                    {{6, 9}, {0, 1}},
                    {{6, 9}, {1, 0}},
                    {{5, 4}, {30, 3}},
                    {{2, 3, 4, 5, 6}, {360, 1, 90, 18, 3}},
            };
            for (int[][] cs : cases) {
                int[] shape = cs[0], ss = cs[1];
                int n = (int) ElementwiseCuda.numel(shape, shape.length);
                checkCopy(c, r, eb, shape, ss, ElementwiseCuda.contiguousStrides(shape, shape.length), n,
                        Arrays.toString(shape) + " strides " + Arrays.toString(ss));
            }
        }
    }

    @Test
    void copyStridedToServesCatIntoSlices() {
        CudaContext c = gpu();
        Random r = new Random(32);
        // cat([4,3,5], [4,2,5]) along axis 1 → out [4,5,5]; each part lands in its slice (dst strides of out)
        int[] outStrides = {25, 5, 1};
        int outLen = 100;
        float[] p1 = randn(r, 60), p2 = randn(r, 40);
        DeviceBuffer d1 = upload(c, p1), d2 = upload(c, p2), out = poisoned(c, outLen);
        ElementwiseCuda.copyStridedTo(c, 4, 3, new int[]{4, 3, 5}, d1.ptr(), new int[]{15, 5, 1}, out.ptr(), outStrides);
        ElementwiseCuda.copyStridedTo(c, 4, 3, new int[]{4, 2, 5}, d2.ptr(), new int[]{10, 5, 1}, out.at(4L * 15), outStrides);
        float[] got = download(c, out, outLen);
        for (int i = 0; i < 4; i++) for (int j = 0; j < 5; j++) for (int k = 0; k < 5; k++) {
            float want = j < 3 ? p1[(i * 3 + j) * 5 + k] : p2[(i * 2 + j - 3) * 5 + k];
            assertEquals(want, got[(i * 5 + j) * 5 + k], 0f);
        }
        // a transposed source into a transposed-strided destination slice (general kernel) and into a row slice (tiled)
        checkCopy(c, r, 4, new int[]{40, 36}, new int[]{1, 40}, new int[]{1, 50}, 50 * 36, "transposed dst");
        checkCopy(c, r, 4, new int[]{40, 36}, new int[]{1, 40}, new int[]{48, 1}, 40 * 48, "tiled into row slice");
        // src: a [70, 3, 33] buffer viewed as [3, 33, 70]; dst rows padded to 80 and batches to 2700 (no dims merge)
        checkCopy(c, r, 8, new int[]{3, 33, 70}, new int[]{33, 1, 99}, new int[]{2700, 80, 1}, 3 * 2700, "batched tiled, lead strided");
    }

    @Test
    void copyLargeTranspose() {
        CudaContext c = gpu();
        Random r = new Random(33);
        // [B, N, H, D] → [B, H, N, D] (attention heads) and a plain [1000, 1003] transpose
        checkCopy(c, r, 4, new int[]{4, 6, 197, 64}, new int[]{197 * 384, 64, 384, 1}, ElementwiseCuda.contiguousStrides(new int[]{4, 6, 197, 64}, 4),
                4 * 6 * 197 * 64, "heads permute");
        checkCopy(c, r, 4, new int[]{1000, 1003}, new int[]{1, 1000}, new int[]{1003, 1}, 1000 * 1003, "big transpose");
    }

    // ------------------------------------------------------------------ indexing

    @Test
    void indexSelectGathersRows() {
        CudaContext c = gpu();
        Random r = new Random(41);
        for (int cols : new int[]{1, 33, 64, 1000}) {
            int rows = 50, sel = 77;
            float[] x = randn(r, rows * cols);
            int[] idx = new int[sel];
            for (int i = 0; i < sel; i++) idx[i] = r.nextInt(rows);
            DeviceBuffer dx = upload(c, x), di = upload(c, idx), out = poisoned(c, (long) sel * cols);
            ElementwiseCuda.indexSelect(c, sel, cols, dx.ptr(), di.ptr(), out.ptr());
            float[] got = download(c, out, sel * cols);
            for (int i = 0; i < sel; i++)
                for (int j = 0; j < cols; j++) assertEquals(x[idx[i] * cols + j], got[i * cols + j], 0f, "cols=" + cols);
        }
    }

    @Test
    void indexAddMatchesTheCpuLoopBitForBit() {
        CudaContext c = gpu();
        Random r = new Random(42);
        // {baseRows, cols, n, sorted}: sorted indices give long runs of one row (the kernel's register cache)
        for (int[] sz : new int[][]{{40, 37, 3000, 0}, {1000, 300, 5000, 0}, {3, 1, 17, 0}, {7, 129, 0, 0}, {50, 64, 2500, 1}}) {
            int baseRows = sz[0], cols = sz[1], n = sz[2];
            float[] base = randn(r, baseRows * cols), src = randn(r, Math.max(1, n * cols));
            int[] idx = new int[Math.max(1, n)];
            for (int i = 0; i < n; i++) idx[i] = r.nextInt(Math.min(baseRows, 1 + r.nextInt(baseRows)));   // skewed, many repeats
            if (sz[3] == 1) Arrays.sort(idx, 0, n);
            float[] want = base.clone();
            double[] ref = toDouble(base);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < cols; j++) {
                    want[idx[i] * cols + j] += src[i * cols + j];
                    ref[idx[i] * cols + j] += src[i * cols + j];
                }
            DeviceBuffer db = upload(c, base), di = upload(c, idx), ds = upload(c, src), out = poisoned(c, (long) baseRows * cols);
            ElementwiseCuda.indexAdd(c, baseRows, cols, db.ptr(), di.ptr(), n, ds.ptr(), out.ptr());
            float[] got = download(c, out, baseRows * cols);
            assertArrayEquals(want, got, "indexAdd " + Arrays.toString(sz));
            assertRel("indexAdd vs float64", got, ref, TOL);
            // in place: out is base
            ElementwiseCuda.indexAdd(c, baseRows, cols, db.ptr(), di.ptr(), n, ds.ptr(), db.ptr());
            assertArrayEquals(want, download(c, db, baseRows * cols), "indexAdd in place " + Arrays.toString(sz));
        }
    }

    @Test
    void launcherRejectsBadArguments() {
        CudaContext c = gpu();
        CUdeviceptr p = c.alloc(64).ptr();
        assertThrows(IllegalArgumentException.class, () -> ElementwiseCuda.binary(c, BinaryOp.ADD, 9, new int[9], p, new int[9], p, new int[9], p));
        assertThrows(IllegalArgumentException.class, () -> ElementwiseCuda.copyStrided(c, 3, 1, new int[]{4}, p, new int[]{1}, p));
        assertThrows(IllegalArgumentException.class, () -> ElementwiseCuda.unary(c, UnaryOp.EXP, -1, p, p));
        assertThrows(IllegalArgumentException.class, () -> ElementwiseCuda.binary(c, BinaryOp.ADD, 1, new int[]{4}, null, new int[]{1}, p, new int[]{1}, p));
    }
}
