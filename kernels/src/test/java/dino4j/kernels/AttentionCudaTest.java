package dino4j.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import java.util.Random;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * GPU conformance of {@link AttentionCuda} (float32) against {@link AttentionKernels}' float64 references
 * (small N) and its float32 Vector kernels (N = 1029): forward out and lse, backward gq/gk/gv, with and
 * without RoPE, prefix tokens, three layouts (fused qkv / dqkv buffer; separate aligned buffers; padded,
 * unaligned strides and offsets), head dims on and off the compiled sizes (12, 16, 32, 64, 100, 128).
 * Outputs are poisoned first: a missed element fails, and padding elements must stay poisoned.
 */
@Tag("gpu")
class AttentionCudaTest {
    static final boolean VERBOSE = Boolean.getBoolean("dino4j.test.verbose");

    enum Layout { PACKED, CONTIG, PADDED }

    record Cfg(int B, int H, int N, int Dh, int prefix, int gh, int gw, Layout layout) {
        boolean rope() { return gh > 0; }
    }

    static final Cfg[] CFGS = {
            new Cfg(2, 3, 1, 16, 0, 1, 1, Layout.PACKED),      // N = 1, one rotated token
            new Cfg(2, 3, 1, 64, 1, 0, 0, Layout.CONTIG),      // N = 1, no rope
            new Cfg(2, 3, 7, 16, 1, 2, 3, Layout.PACKED),
            new Cfg(2, 3, 7, 64, 5, 1, 2, Layout.PADDED),
            new Cfg(2, 3, 7, 128, 0, 0, 0, Layout.CONTIG),
            new Cfg(2, 3, 67, 64, 1, 6, 11, Layout.PACKED),
            new Cfg(2, 3, 67, 128, 5, 2, 31, Layout.PADDED),
            new Cfg(2, 3, 67, 16, 0, 1, 67, Layout.CONTIG),
            new Cfg(2, 3, 130, 64, 5, 5, 25, Layout.PACKED),
            new Cfg(2, 3, 130, 128, 1, 3, 43, Layout.CONTIG),
            new Cfg(2, 3, 130, 16, 0, 0, 0, Layout.PADDED),
            new Cfg(2, 3, 130, 32, 1, 3, 43, Layout.PACKED),
            new Cfg(2, 3, 67, 12, 1, 6, 11, Layout.CONTIG),    // half = 6: rotation partners not 16-byte aligned
            new Cfg(2, 3, 67, 100, 5, 2, 31, Layout.PACKED),   // dh = 100 on the 128 kernels, half = 50
            new Cfg(2, 3, 201, 64, 5, 14, 14, Layout.PACKED),  // ViT-S/16 at 224²: two query tiles, idle warps
    };

    /** Host data of one configuration; q, k, v (and the gradients) may share one array (PACKED). */
    static final class Data {
        final Cfg c;
        final int D, tStride, bStride, hStride, qOff, kOff, vOff, gqOff, gkOff, gvOff, outOff, gOutOff;
        final float[] q, k, v, gOut;
        final RopeTable rope;
        final RopeKernels.RefTable refRope;
        final float scale;

        Data(Cfg c, long seed) {
            this.c = c;
            Random r = new Random(seed);
            D = c.H * c.Dh;
            hStride = c.Dh;
            switch (c.layout) {
                case PACKED -> {
                    tStride = 3 * D; bStride = c.N * 3 * D;
                    qOff = 0; kOff = D; vOff = 2 * D; gqOff = 0; gkOff = D; gvOff = 2 * D; outOff = 0; gOutOff = 0;
                }
                case CONTIG -> {
                    tStride = D; bStride = c.N * D;
                    qOff = kOff = vOff = gqOff = gkOff = gvOff = outOff = gOutOff = 0;
                }
                default -> {   // padding between tokens and batches, odd offsets: the scalar (unaligned) paths
                    tStride = D + 3; bStride = c.N * tStride + 5;
                    qOff = 1; kOff = 2; vOff = 7; gqOff = 3; gkOff = 0; gvOff = 5; outOff = 3; gOutOff = 1;
                }
            }
            if (c.layout == Layout.PACKED) {
                q = FamilyTestSupport.randn(r, c.B * bStride);
                k = q; v = q;
            } else {
                q = FamilyTestSupport.randn(r, qOff + c.B * bStride);
                k = FamilyTestSupport.randn(r, kOff + c.B * bStride);
                v = FamilyTestSupport.randn(r, vOff + c.B * bStride);
            }
            gOut = FamilyTestSupport.randn(r, gOutOff + c.B * c.N * D);
            if (c.rope()) {
                double[] per = RopeKernels.periods(c.Dh, 100);
                rope = RopeKernels.table(c.gh, c.gw, per, 0.02, -0.03, 1.05, 0.97, 1.3);
                refRope = RopeKernels.referenceTable(c.gh, c.gw, per, 0.02, -0.03, 1.05, 0.97, 1.3);
            } else { rope = null; refRope = null; }
            scale = (float) (1.0 / Math.sqrt(c.Dh));
        }

        int gradLen() { return c.layout == Layout.PACKED ? q.length : Math.max(gqOff, Math.max(gkOff, gvOff)) + c.B * bStride; }
        int outLen() { return outOff + c.B * c.N * D; }
    }

    /** Device copies of one configuration's inputs. */
    static final class Dev {
        final DeviceBuffer qb, kb, vb, gOutb, sinb, cosb;
        final CUdeviceptr q, k, v, gOut, sin, cos;

        Dev(CudaContext c, Data d) {
            qb = CudaTestSupport.upload(c, d.q);
            kb = d.k == d.q ? qb : CudaTestSupport.upload(c, d.k);
            vb = d.v == d.q ? qb : CudaTestSupport.upload(c, d.v);
            gOutb = CudaTestSupport.upload(c, d.gOut);
            q = qb.at(4L * d.qOff); k = kb.at(4L * d.kOff); v = vb.at(4L * d.vOff); gOut = gOutb.at(4L * d.gOutOff);
            sinb = d.rope == null ? null : CudaTestSupport.upload(c, d.rope.sin());
            cosb = d.rope == null ? null : CudaTestSupport.upload(c, d.rope.cos());
            sin = sinb == null ? null : sinb.ptr();
            cos = cosb == null ? null : cosb.ptr();
        }
    }

    record Fwd(float[] out, float[] lse) {}

    static Fwd runForward(CudaContext c, Data d, Dev x, DeviceBuffer outb, DeviceBuffer lseb) {
        Cfg g = d.c;
        AttentionCuda.forward(c, g.B, g.H, g.N, g.Dh, d.scale, x.q, x.k, x.v, d.bStride, d.tStride, d.hStride,
                x.sin, x.cos, g.prefix, outb.at(4L * d.outOff), lseb.ptr());
        return new Fwd(CudaTestSupport.download(c, outb, d.outLen()), CudaTestSupport.download(c, lseb, g.B * g.H * g.N));
    }

    /** Runs the backward into poisoned gradient buffers; returns {gq, gk, gv} host arrays (one array thrice when PACKED). */
    static float[][] runBackward(CudaContext c, Data d, Dev x, DeviceBuffer outb, DeviceBuffer lseb) {
        Cfg g = d.c;
        int gl = d.gradLen();
        DeviceBuffer gqb = CudaTestSupport.poisoned(c, gl);
        DeviceBuffer gkb = g.layout == Layout.PACKED ? gqb : CudaTestSupport.poisoned(c, gl);
        DeviceBuffer gvb = g.layout == Layout.PACKED ? gqb : CudaTestSupport.poisoned(c, gl);
        AttentionCuda.backward(c, g.B, g.H, g.N, g.Dh, d.scale, x.q, x.k, x.v, d.bStride, d.tStride, d.hStride,
                x.sin, x.cos, g.prefix, outb.at(4L * d.outOff), x.gOut, lseb.ptr(),
                gqb.at(4L * d.gqOff), gkb.at(4L * d.gkOff), gvb.at(4L * d.gvOff));
        float[] gq = CudaTestSupport.download(c, gqb, gl);
        float[] gk = gkb == gqb ? gq : CudaTestSupport.download(c, gkb, gl);
        float[] gv = gvb == gqb ? gq : CudaTestSupport.download(c, gvb, gl);
        return new float[][] {gq, gk, gv};
    }

    /** Relative L2 over the (b, t, h, d) slots of one gradient; floored at unit RMS when N = 1 (dq, dk are ~0 there). */
    static double gradErr(Data d, float[] g, int off, double[] ref, int refOff) {
        Cfg c = d.c;
        double num = 0, den = 0;
        for (int b = 0; b < c.B; b++) for (int t = 0; t < c.N; t++) for (int h = 0; h < c.H; h++) for (int e = 0; e < c.Dh; e++) {
            int rel = b * d.bStride + t * d.tStride + h * d.hStride + e;
            double diff = g[off + rel] - ref[refOff + rel];
            num += diff * diff;
            den += ref[refOff + rel] * ref[refOff + rel];
        }
        double floor = c.N == 1 ? Math.sqrt((double) c.B * c.N * c.H * c.Dh) : 1e-300;
        return Math.sqrt(num) / Math.max(Math.sqrt(den), floor);
    }

    /** Elements of g outside the (b, t, h, d) slots of all three gradients must still hold the poison (all bits set). */
    static void assertPaddingUntouched(Data d, float[] g, int[] offs, String what) {
        Cfg c = d.c;
        boolean[] slot = new boolean[g.length];
        for (int off : offs)
            for (int b = 0; b < c.B; b++) for (int t = 0; t < c.N; t++) for (int h = 0; h < c.H; h++) for (int e = 0; e < c.Dh; e++)
                slot[off + b * d.bStride + t * d.tStride + h * d.hStride + e] = true;
        for (int i = 0; i < g.length; i++)
            if (!slot[i]) assertEquals(-1, Float.floatToRawIntBits(g[i]), what + ": element " + i + " outside the slots was written");
    }

    @Test
    void forwardAndBackwardMatchFloat64Reference() {
        CudaContext c = CudaTestSupport.gpu();
        long seed = 100;
        for (Cfg g : CFGS) {
            Data d = new Data(g, seed++);
            Dev x = new Dev(c, d);
            int B = g.B, H = g.H, N = g.N, n = B * N * d.D;
            DeviceBuffer outb = CudaTestSupport.poisoned(c, d.outLen()), lseb = CudaTestSupport.poisoned(c, B * H * N);
            Fwd f = runForward(c, d, x, outb, lseb);

            double[] qd = FamilyTestSupport.toDouble(d.q);
            double[] kd = d.k == d.q ? qd : FamilyTestSupport.toDouble(d.k), vd = d.v == d.q ? qd : FamilyTestSupport.toDouble(d.v);
            double[] outd = new double[d.outLen()], lsed = new double[B * H * N];
            AttentionKernels.referenceForward(B, H, N, g.Dh, d.scale, qd, d.qOff, kd, d.kOff, vd, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.refRope, g.prefix, outd, d.outOff, lsed);
            double eo = FamilyTestSupport.relL2(f.out, d.outOff, outd, d.outOff, n);
            double el = FamilyTestSupport.relL2(f.lse, 0, lsed, 0, lsed.length);
            if (VERBOSE) System.out.printf("%s out %.2e lse %.2e%n", g, eo, el);
            assertTrue(eo <= 1e-5, g + ": out relative L2 error " + eo);
            assertTrue(el <= 1e-5, g + ": lse relative L2 error " + el);
            for (int i = 0; i < d.outOff; i++) assertEquals(-1, Float.floatToRawIntBits(f.out[i]), g + ": out written before its offset");

            float[][] gr = runBackward(c, d, x, outb, lseb);
            int gl = d.gradLen();
            double[] gqd = new double[gl], gkd = g.layout == Layout.PACKED ? gqd : new double[gl], gvd = g.layout == Layout.PACKED ? gqd : new double[gl];
            AttentionKernels.referenceBackward(B, H, N, g.Dh, d.scale, qd, d.qOff, kd, d.kOff, vd, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.refRope, g.prefix, outd, d.outOff,
                    FamilyTestSupport.toDouble(d.gOut), d.gOutOff, lsed, gqd, d.gqOff, gkd, d.gkOff, gvd, d.gvOff);
            double[][] refs = {gqd, gkd, gvd};
            int[] offs = {d.gqOff, d.gkOff, d.gvOff};
            for (int w = 0; w < 3; w++) {
                double e = gradErr(d, gr[w], offs[w], refs[w], offs[w]);
                if (VERBOSE) System.out.printf("%s g%c %.2e%n", g, "qkv".charAt(w), e);
                assertTrue(e <= 1e-5, g + ": g" + "qkv".charAt(w) + " relative L2 error " + e);
            }
            if (g.layout == Layout.PADDED)
                for (int w = 0; w < 3; w++) assertPaddingUntouched(d, gr[w], new int[] {offs[w]}, g + " g" + "qkv".charAt(w));
        }
    }

    /** N = 1029 (a 32×32 grid + 5 prefix tokens), Dh = 64: against the CPU float32 Vector kernels. */
    @Test
    void largeSequenceMatchesCpuKernels() {
        CudaContext c = CudaTestSupport.gpu();
        Cfg g = new Cfg(2, 3, 1029, 64, 5, 32, 32, Layout.PACKED);
        Data d = new Data(g, 7);
        Dev x = new Dev(c, d);
        int B = g.B, H = g.H, N = g.N, n = B * N * d.D;
        DeviceBuffer outb = CudaTestSupport.poisoned(c, d.outLen()), lseb = CudaTestSupport.poisoned(c, B * H * N);
        Fwd f = runForward(c, d, x, outb, lseb);
        float[] out = new float[n], lse = new float[B * H * N];
        AttentionKernels.forward(B, H, N, g.Dh, d.scale, d.q, d.qOff, d.k, d.kOff, d.v, d.vOff,
                d.bStride, d.tStride, d.hStride, d.rope, g.prefix, out, 0, lse);
        double eo = FamilyTestSupport.relL2(f.out, 0, FamilyTestSupport.toDouble(out), 0, n);
        double el = FamilyTestSupport.relL2(f.lse, 0, FamilyTestSupport.toDouble(lse), 0, lse.length);
        if (VERBOSE) System.out.printf("%s out %.2e lse %.2e%n", g, eo, el);
        assertTrue(eo <= 1e-5, "out relative L2 error " + eo);
        assertTrue(el <= 1e-5, "lse relative L2 error " + el);

        float[][] gr = runBackward(c, d, x, outb, lseb);
        float[] dqkv = new float[d.gradLen()];
        AttentionKernels.backward(B, H, N, g.Dh, d.scale, d.q, d.qOff, d.k, d.kOff, d.v, d.vOff,
                d.bStride, d.tStride, d.hStride, d.rope, g.prefix, out, 0, d.gOut, 0, lse,
                dqkv, d.gqOff, dqkv, d.gkOff, dqkv, d.gvOff);
        double[] ref = FamilyTestSupport.toDouble(dqkv);
        int[] offs = {d.gqOff, d.gkOff, d.gvOff};
        for (int w = 0; w < 3; w++) {
            double e = gradErr(d, gr[w], offs[w], ref, offs[w]);
            if (VERBOSE) System.out.printf("%s g%c %.2e%n", g, "qkv".charAt(w), e);
            assertTrue(e <= 1e-5, "g" + "qkv".charAt(w) + " relative L2 error " + e);
        }
    }

    /** No atomics: two runs give the same bits. */
    @Test
    void deterministic() {
        CudaContext c = CudaTestSupport.gpu();
        Data d = new Data(new Cfg(2, 3, 201, 64, 5, 14, 14, Layout.PACKED), 5);
        Dev x = new Dev(c, d);
        int rows = d.c.B * d.c.H * d.c.N;
        DeviceBuffer outb = CudaTestSupport.poisoned(c, d.outLen()), lseb = CudaTestSupport.poisoned(c, rows);
        Fwd f1 = runForward(c, d, x, outb, lseb);
        float[] g1 = runBackward(c, d, x, outb, lseb)[0];
        Fwd f2 = runForward(c, d, x, outb, lseb);
        float[] g2 = runBackward(c, d, x, outb, lseb)[0];
        assertArrayEquals(f1.out, f2.out);
        assertArrayEquals(f1.lse, f2.lse);
        assertArrayEquals(g1, g2);
    }

    /** lse may be null in the forward (inference); out is unchanged by it. */
    @Test
    void forwardWithoutLse() {
        CudaContext c = CudaTestSupport.gpu();
        Data d = new Data(new Cfg(2, 3, 67, 64, 1, 6, 11, Layout.PACKED), 9);
        Dev x = new Dev(c, d);
        Cfg g = d.c;
        DeviceBuffer outb = CudaTestSupport.poisoned(c, d.outLen()), lseb = CudaTestSupport.poisoned(c, g.B * g.H * g.N);
        float[] ref = runForward(c, d, x, outb, lseb).out;
        DeviceBuffer out2 = CudaTestSupport.poisoned(c, d.outLen());
        AttentionCuda.forward(c, g.B, g.H, g.N, g.Dh, d.scale, x.q, x.k, x.v, d.bStride, d.tStride, d.hStride,
                x.sin, x.cos, g.prefix, out2.ptr(), null);
        assertArrayEquals(ref, CudaTestSupport.download(c, out2, d.outLen()));
    }

    @Test
    void rejectsBadArguments() {
        CudaContext c = CudaTestSupport.gpu();
        DeviceBuffer b = c.alloc(4096);
        CUdeviceptr p = b.ptr();
        assertThrows(IllegalArgumentException.class, () ->   // Dh not a multiple of 4
                AttentionCuda.forward(c, 1, 1, 4, 10, 1f, p, p, p, 40, 10, 10, null, null, 0, p, p));
        assertThrows(IllegalArgumentException.class, () ->   // Dh > 128
                AttentionCuda.forward(c, 1, 1, 4, 132, 1f, p, p, p, 528, 132, 132, null, null, 0, p, p));
        assertThrows(IllegalArgumentException.class, () ->   // sin without cos
                AttentionCuda.forward(c, 1, 1, 4, 8, 1f, p, p, p, 32, 8, 8, p, null, 0, p, p));
        assertThrows(IllegalArgumentException.class, () ->   // prefix > N
                AttentionCuda.forward(c, 1, 1, 4, 8, 1f, p, p, p, 32, 8, 8, p, p, 5, p, p));
        assertThrows(IllegalArgumentException.class, () ->   // backward needs lse
                AttentionCuda.backward(c, 1, 1, 4, 8, 1f, p, p, p, 32, 8, 8, null, null, 0, p, p, null, p, p, p));
    }
}
