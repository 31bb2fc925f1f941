package dino4j.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AttentionKernelsTest {

    static final boolean VERBOSE = Boolean.getBoolean("dino4j.test.verbose");

    static double relL2(float[] a, double[] ref, int off, int n) {
        double num = 0, den = 0;
        for (int i = off; i < off + n; i++) { double d = a[i] - ref[i]; num += d * d; den += ref[i] * ref[i]; }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    static double[] toD(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    /** One configuration; packed = one qkv buffer [B, N, 3D] (and one dqkv buffer), else three strided arrays. */
    record Cfg(int B, int H, int N, int Dh, int prefix, int gh, int gw, boolean packed, double logitScale) {
        boolean rope() { return gh > 0; }
    }

    static final Cfg[] CFGS = {
            new Cfg(1, 1, 1, 8, 0, 1, 1, true, 1),      // N = 1, single rotated token
            new Cfg(1, 2, 1, 8, 1, 0, 0, false, 1),     // N = 1, no rope
            new Cfg(2, 3, 5, 8, 1, 2, 2, true, 1),
            new Cfg(1, 2, 6, 16, 6, 0, 0, false, 1),    // no rope at all
            new Cfg(2, 2, 67, 16, 3, 8, 8, true, 1),
            new Cfg(1, 2, 130, 64, 5, 5, 25, false, 1),
            new Cfg(1, 2, 201, 64, 5, 14, 14, true, 1),
            new Cfg(1, 1, 70, 128, 0, 7, 10, true, 1),
            new Cfg(1, 2, 150, 32, 2, 4, 37, true, 6),  // large logits: stresses the online softmax
            new Cfg(2, 2, 100, 32, 2, 7, 14, true, 6),  // large logits on the single-block path (N <= AttentionKernels.SINGLE)
    };

    static final class Data {
        final Cfg c;
        final int D, tStride, bStride, hStride, qOff, kOff, vOff, gqOff, gkOff, gvOff;
        final float[] q, k, v, gOut;   // q,k,v may be the same array
        final RopeTable rope;
        final RopeKernels.RefTable refRope;
        final float scale;

        Data(Cfg c, long seed) {
            this.c = c;
            Random r = new Random(seed);
            D = c.H * c.Dh;
            hStride = c.Dh;
            if (c.packed) {
                tStride = 3 * D; bStride = c.N * 3 * D;
                qOff = 0; kOff = D; vOff = 2 * D;
                gqOff = 0; gkOff = D; gvOff = 2 * D;
                q = new float[c.B * bStride];
                k = q; v = q;
            } else {
                // separate arrays with padding between tokens and odd offsets
                tStride = D + 3; bStride = c.N * tStride + 5;
                qOff = 1; kOff = 2; vOff = 7;
                gqOff = 3; gkOff = 0; gvOff = 4;
                q = new float[qOff + c.B * bStride];
                k = new float[kOff + c.B * bStride];
                v = new float[vOff + c.B * bStride];
            }
            double amp = c.logitScale;
            for (float[] a : new float[][] {q, k, v}) for (int i = 0; i < a.length; i++) a[i] = (float) (amp * r.nextGaussian());
            gOut = new float[c.B * c.N * D];
            for (int i = 0; i < gOut.length; i++) gOut[i] = (float) r.nextGaussian();
            if (c.rope()) {
                double[] per = RopeKernels.periods(c.Dh, 100);
                rope = RopeKernels.table(c.gh, c.gw, per, 0.02, -0.03, 1.05, 0.97, 1.3);
                refRope = RopeKernels.referenceTable(c.gh, c.gw, per, 0.02, -0.03, 1.05, 0.97, 1.3);
            } else { rope = null; refRope = null; }
            scale = (float) (1.0 / Math.sqrt(c.Dh));
        }

        int gradLen() { return c.packed ? q.length : Math.max(gqOff, Math.max(gkOff, gvOff)) + c.B * bStride; }
    }

    @Test
    void forwardAndBackwardMatchReference() {
        long seed = 10;
        for (Cfg c : CFGS) {
            Data d = new Data(c, seed++);
            int B = c.B, H = c.H, N = c.N, Dh = c.Dh, n = B * N * d.D;
            float[] out = new float[3 + n], lse = new float[B * H * N];
            AttentionKernels.forward(B, H, N, Dh, d.scale, d.q, d.qOff, d.k, d.kOff, d.v, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.rope, c.prefix, out, 3, lse);
            double[] qd = toD(d.q), kd = c.packed ? qd : toD(d.k), vd = c.packed ? qd : toD(d.v);
            double[] outd = new double[3 + n], lsed = new double[B * H * N];
            AttentionKernels.referenceForward(B, H, N, Dh, d.scale, qd, d.qOff, kd, d.kOff, vd, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.refRope, c.prefix, outd, 3, lsed);
            double eo = relL2(out, outd, 3, n), el = relL2(lse, lsed, 0, lse.length);
            if (VERBOSE) System.out.println(c + " out err " + eo + " lse err " + el);
            assertTrue(eo < 2e-5, c + " out err " + eo);
            assertTrue(el < 2e-6, c + " lse err " + el);

            // backward: gradient buffers pre-filled with garbage (must be overwritten, not accumulated)
            int gl = d.gradLen();
            float[] gq = new float[gl], gk = c.packed ? gq : new float[gl], gv = c.packed ? gq : new float[gl];
            java.util.Arrays.fill(gq, 7f); java.util.Arrays.fill(gk, 7f); java.util.Arrays.fill(gv, 7f);
            AttentionKernels.backward(B, H, N, Dh, d.scale, d.q, d.qOff, d.k, d.kOff, d.v, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.rope, c.prefix, out, 3, d.gOut, 0, lse,
                    gq, d.gqOff, gk, d.gkOff, gv, d.gvOff);
            double[] gqd = new double[gl], gkd = c.packed ? gqd : new double[gl], gvd = c.packed ? gqd : new double[gl];
            AttentionKernels.referenceBackward(B, H, N, Dh, d.scale, qd, d.qOff, kd, d.kOff, vd, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.refRope, c.prefix, outd, 3, toD(d.gOut), 0, lsed,
                    gqd, d.gqOff, gkd, d.gkOff, gvd, d.gvOff);
            // compare only the (b, t, h, d) slots
            for (int which = 0; which < 3; which++) {
                float[] g = which == 0 ? gq : which == 1 ? gk : gv;
                double[] gr = which == 0 ? gqd : which == 1 ? gkd : gvd;
                int off = which == 0 ? d.gqOff : which == 1 ? d.gkOff : d.gvOff;
                double num = 0, den = 0;
                for (int b = 0; b < B; b++) for (int t = 0; t < N; t++) for (int h = 0; h < H; h++) for (int e = 0; e < Dh; e++) {
                    int idx = off + b * d.bStride + t * d.tStride + h * d.hStride + e;
                    double diff = g[idx] - gr[idx];
                    num += diff * diff; den += gr[idx] * gr[idx];
                }
                // relative L2, with a floor at unit RMS for gradients that are ~0 (dq, dk are exactly 0 when N = 1)
                double count = (double) B * N * H * Dh;
                double err = Math.sqrt(num) / Math.max(Math.sqrt(den), Math.sqrt(count));
                if (VERBOSE) System.out.println(c + " " + "qkv".charAt(which) + " err " + err);
                // large logits (|s| ~ 100s) lose ~1e-5 relative to float rounding of the scores themselves
                assertTrue(err < (c.logitScale > 1 ? 1e-4 : 2e-5), c + " grad " + "qkv".charAt(which) + " err " + err);
            }
        }
    }

    @Test
    void deterministicAcrossRuns() {
        Data d = new Data(new Cfg(2, 3, 67, 16, 3, 8, 8, true, 1), 99);
        Cfg c = d.c;
        float[] out1 = new float[c.B * c.N * d.D], out2 = out1.clone(), lse1 = new float[c.B * c.H * c.N], lse2 = lse1.clone();
        AttentionKernels.forward(c.B, c.H, c.N, c.Dh, d.scale, d.q, d.qOff, d.k, d.kOff, d.v, d.vOff,
                d.bStride, d.tStride, d.hStride, d.rope, c.prefix, out1, 0, lse1);
        AttentionKernels.forward(c.B, c.H, c.N, c.Dh, d.scale, d.q, d.qOff, d.k, d.kOff, d.v, d.vOff,
                d.bStride, d.tStride, d.hStride, d.rope, c.prefix, out2, 0, lse2);
        assertArrayEquals(out1, out2);
        assertArrayEquals(lse1, lse2);
    }

    @Test
    void rejectsMismatchedRopeTable() {
        Data d = new Data(new Cfg(1, 1, 5, 8, 1, 2, 2, true, 1), 1);
        float[] out = new float[5 * 8], lse = new float[5];
        assertThrows(IllegalArgumentException.class, () -> AttentionKernels.forward(1, 1, 5, 8, d.scale,
                d.q, d.qOff, d.k, d.kOff, d.v, d.vOff, d.bStride, d.tStride, d.hStride, d.rope, 2, out, 0, lse));
    }

    /** Finite-difference check of the double reference backward against the double reference forward. */
    @Test
    void referenceBackwardFiniteDifference() {
        for (Cfg c : new Cfg[] {new Cfg(2, 2, 6, 8, 2, 2, 2, true, 1), new Cfg(1, 2, 4, 8, 4, 0, 0, false, 1)}) {
            Data d = new Data(c, 42);
            int B = c.B, H = c.H, N = c.N, Dh = c.Dh, n = B * N * d.D;
            double[] qd = toD(d.q), kd = c.packed ? qd : toD(d.k), vd = c.packed ? qd : toD(d.v);
            Random r = new Random(43);
            double[] rr = new double[n];
            for (int i = 0; i < n; i++) rr[i] = r.nextGaussian();
            double scale = 1.0 / Math.sqrt(Dh);
            double[] out = new double[n];
            AttentionKernels.referenceForward(B, H, N, Dh, scale, qd, d.qOff, kd, d.kOff, vd, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.refRope, c.prefix, out, 0, null);
            int gl = d.gradLen();
            double[] gq = new double[gl], gk = c.packed ? gq : new double[gl], gv = c.packed ? gq : new double[gl];
            AttentionKernels.referenceBackward(B, H, N, Dh, scale, qd, d.qOff, kd, d.kOff, vd, d.vOff,
                    d.bStride, d.tStride, d.hStride, d.refRope, c.prefix, out, 0, rr, 0, null,
                    gq, d.gqOff, gk, d.gkOff, gv, d.gvOff);
            double h = 1e-6;
            double[][] ins = {qd, kd, vd};
            double[][] gs = {gq, gk, gv};
            int[] offs = {d.qOff, d.kOff, d.vOff}, goffs = {d.gqOff, d.gkOff, d.gvOff};
            for (int which = 0; which < 3; which++) {
                for (int b = 0; b < B; b++) for (int t = 0; t < N; t++) for (int hh = 0; hh < H; hh++) for (int e = 0; e < Dh; e++) {
                    int rel = b * d.bStride + t * d.tStride + hh * d.hStride + e;
                    double[] x = ins[which];
                    int idx = offs[which] + rel;
                    double old = x[idx];
                    x[idx] = old + h;
                    double lp = loss(d, qd, kd, vd, scale, rr);
                    x[idx] = old - h;
                    double lm = loss(d, qd, kd, vd, scale, rr);
                    x[idx] = old;
                    double fd = (lp - lm) / (2 * h);
                    double an = gs[which][goffs[which] + rel];
                    assertEquals(fd, an, 1e-7 * (1 + Math.abs(fd)), c + " " + "qkv".charAt(which) + " b" + b + " t" + t + " h" + hh + " d" + e);
                }
            }
        }
    }

    private static double loss(Data d, double[] qd, double[] kd, double[] vd, double scale, double[] rr) {
        Cfg c = d.c;
        double[] out = new double[rr.length];
        AttentionKernels.referenceForward(c.B, c.H, c.N, c.Dh, scale, qd, d.qOff, kd, d.kOff, vd, d.vOff,
                d.bStride, d.tStride, d.hStride, d.refRope, c.prefix, out, 0, null);
        double l = 0;
        for (int i = 0; i < out.length; i++) l += rr[i] * out[i];
        return l;
    }
}
