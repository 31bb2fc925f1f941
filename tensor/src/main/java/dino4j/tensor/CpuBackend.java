package dino4j.tensor;

import dino4j.kernels.AttentionKernels;
import dino4j.kernels.BinaryOp;
import dino4j.kernels.ConvKernels;
import dino4j.kernels.DepthwiseConvKernels;
import dino4j.kernels.ElementwiseKernels;
import dino4j.kernels.GemmKernels;
import dino4j.kernels.GramKernels;
import dino4j.kernels.KoLeoKernels;
import dino4j.kernels.LayerNormKernels;
import dino4j.kernels.OptimizerKernels;
import dino4j.kernels.ReduceKernels;
import dino4j.kernels.ResidualKernels;
import dino4j.kernels.ResizeKernels;
import dino4j.kernels.RopeKernels;
import dino4j.kernels.RopeTable;
import dino4j.kernels.SinkhornKernels;
import dino4j.kernels.SoftmaxKernels;
import dino4j.kernels.UnaryOp;

import java.util.Arrays;

/**
 * The CPU backend: runs every op. F32 goes to the fast kernels in {@code dino4j.kernels}, F64 to their
 * double references (the float64 path of the gradient checks). Inputs are made contiguous where a
 * kernel needs it; matmul passes transpose flags for transposed last-two-dim layouts instead of copying.
 */
final class CpuBackend implements Backend {
    @Override public String name() { return "cpu"; }

    @Override public boolean canRun(String op, Tensor... args) { return true; }

    // ---------------------------------------------------------------- array helpers

    private static boolean isF32(Tensor t) { return t.dtype() == DType.F32; }

    /** Exactly numel doubles in row-major order, at offset 0 (no copy when already so). */
    static double[] dd(Tensor t) {
        if (t.dtype() == DType.F64 && t.isContiguous() && t.offset() == 0 && t.f64().length == t.numel()) return t.f64();
        return t.toDoubleArray();
    }

    static float[] ff(Tensor t) {
        if (t.dtype() == DType.F32 && t.isContiguous() && t.offset() == 0 && t.f32().length == t.numel()) return t.f32();
        return t.toFloatArray();
    }

    static int[] concat(int[] a, int... b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Strides of t broadcast against outShape (0 on broadcast / missing axes). */
    static int[] broadcastStrides(Tensor t, int[] os) {
        int r = os.length, lead = r - t.dim();
        int[] sh = t.shape(), st = t.strides(), out = new int[r];
        for (int i = lead; i < r; i++) out[i] = sh[i - lead] == 1 ? 0 : st[i - lead];
        return out;
    }

    // ---------------------------------------------------------------- element-wise

    @Override public Tensor binary(BinaryOp op, Tensor a, Tensor b, int[] os) {
        Tensor out = Tensor.uninitialized(a.dtype(), os);   // every element is written
        if (out.numel() == 0) return out;
        int[] as = broadcastStrides(a, os), bs = broadcastStrides(b, os);
        if (os.length == 0) { os = new int[]{1}; as = new int[]{0}; bs = new int[]{0}; }
        if (isF32(a)) ElementwiseKernels.binary(op, os, a.f32(), a.offset(), as, b.f32(), b.offset(), bs, out.f32(), 0);
        else ElementwiseKernels.binary(op, os, a.f64(), a.offset(), as, b.f64(), b.offset(), bs, out.f64(), 0);
        return out;
    }

    @Override public Tensor unary(UnaryOp op, Tensor x) {
        Tensor c = x.contiguous(), out = Tensor.uninitialized(x.dtype(), x.shape());
        if (isF32(x)) ElementwiseKernels.unary(op, c.numel(), c.f32(), c.offset(), out.f32(), 0);
        else ElementwiseKernels.unary(op, c.numel(), c.f64(), c.offset(), out.f64(), 0);
        return out;
    }

    @Override public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gy) {
        Tensor c = x.contiguous(), g = gy.contiguous(), out = Tensor.uninitialized(x.dtype(), x.shape());
        if (isF32(x)) ElementwiseKernels.unaryBackward(op, c.numel(), c.f32(), c.offset(), g.f32(), g.offset(), out.f32(), 0);
        else ElementwiseKernels.unaryBackward(op, c.numel(), c.f64(), c.offset(), g.f64(), g.offset(), out.f64(), 0);
        return out;
    }

    @Override public Tensor swiglu(Tensor a, Tensor b) {
        Tensor ac = a.contiguous(), bc = b.contiguous(), out = Tensor.uninitialized(a.dtype(), a.shape());
        if (isF32(a)) ElementwiseKernels.swiglu(ac.numel(), ac.f32(), ac.offset(), bc.f32(), bc.offset(), out.f32(), 0);
        else ElementwiseKernels.swiglu(ac.numel(), ac.f64(), ac.offset(), bc.f64(), bc.offset(), out.f64(), 0);
        return out;
    }

    @Override public Tensor[] swigluBackward(Tensor a, Tensor b, Tensor gy) {
        Tensor ac = a.contiguous(), bc = b.contiguous(), g = gy.contiguous();
        Tensor ga = Tensor.uninitialized(a.dtype(), a.shape()), gb = Tensor.uninitialized(a.dtype(), a.shape());
        if (isF32(a)) ElementwiseKernels.swigluBackward(ac.numel(), ac.f32(), ac.offset(), bc.f32(), bc.offset(), g.f32(), g.offset(),
                ga.f32(), 0, gb.f32(), 0);
        else ElementwiseKernels.swigluBackward(ac.numel(), ac.f64(), ac.offset(), bc.f64(), bc.offset(), g.f64(), g.offset(),
                ga.f64(), 0, gb.f64(), 0);
        return new Tensor[]{ga, gb};
    }

    // ---------------------------------------------------------------- matmul

    /** A matrix operand view: transposed or not, leading dimension, and possibly a contiguous copy. */
    private record MatView(Tensor t, boolean trans, int ld) {}

    private static MatView matView(Tensor t) {
        int rows = t.size(-2), cols = t.size(-1), s2 = t.stride(-2), s1 = t.stride(-1);
        if ((s1 == 1 || cols == 1) && (s2 >= cols || rows == 1)) return new MatView(t, false, Math.max(Math.max(s2, cols), 1));
        if ((s2 == 1 || rows == 1) && (s1 >= rows || cols == 1)) return new MatView(t, true, Math.max(Math.max(s1, rows), 1));
        Tensor c = t.contiguous();
        return new MatView(c, false, Math.max(cols, 1));
    }

    /** "T" when the operand is a transposed view (column stride 1), else "N"; for the profile's shape table. */
    private static String layout(Tensor t) { return t.stride(-1) != 1 && t.stride(-2) == 1 ? "T" : "N"; }

    @Override public Tensor matmul(Tensor a, Tensor b) {
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        int[] ba = Arrays.copyOf(a.shape(), a.dim() - 2), bb = Arrays.copyOf(b.shape(), b.dim() - 2);
        int[] bshape = Shape.broadcast(ba, bb);
        int batch = Shape.numel(bshape);
        Tensor out = Tensor.uninitialized(a.dtype(), concat(bshape, m, n));   // beta = 0: C is only written
        if (out.numel() == 0) return out;
        boolean f = isF32(a);
        if (OpTimeline.ON) OpTimeline.addFlops(2L * batch * m * n * k, (batch > 1 ? batch + "×" : "") + m + "×" + n + "×" + k
                + " " + layout(a) + layout(b));
        // weight-like b (no batch) and a contiguous: fold the batch into the rows
        if (Shape.numel(bb) == 1 && a.isContiguous()) {
            Tensor b2 = b;
            while (b2.dim() > 2) b2 = b2.select(0, 0); // drop size-1 batch dims as views (keeps a transposed layout)
            MatView B = matView(b2);
            gemm(f, false, B.trans, batch * m, n, k, a, a.offset(), k, B.t, B.t.offset(), B.ld, out, 0, n);
            return out;
        }
        MatView A = matView(a), B = matView(b);
        int[] offA = batchOffsets(A.t, bshape), offB = batchOffsets(B.t, bshape);
        int dA = batch > 1 ? offA[1] - offA[0] : 0, dB = batch > 1 ? offB[1] - offB[0] : 0;
        boolean uniform = true;
        for (int i = 1; i < batch && uniform; i++) uniform = offA[i] - offA[i - 1] == dA && offB[i] - offB[i - 1] == dB;
        if (f && uniform && batch > 1) {
            GemmKernels.sgemmBatched(batch, A.trans, B.trans, m, n, k, 1f, A.t.f32(), offA[0], A.ld, dA,
                    B.t.f32(), offB[0], B.ld, dB, 0f, out.f32(), 0, n, m * n);
            return out;
        }
        for (int i = 0; i < batch; i++)
            gemm(f, A.trans, B.trans, m, n, k, A.t, offA[i], A.ld, B.t, offB[i], B.ld, out, i * m * n, n);
        return out;
    }

    @Override public Tensor linear(Tensor x, Tensor w, Tensor bias) {
        if (!isF32(x) || bias == null || !x.isContiguous()) return Backend.super.linear(x, w, bias);
        int m = x.size(0), k = x.size(1), n = w.size(0);
        Tensor out = Tensor.uninitialized(DType.F32, m, n);
        if (out.numel() == 0) return out;
        if (OpTimeline.ON) OpTimeline.addFlops(2L * m * n * k, m + "×" + n + "×" + k + " linear+bias");
        // the bias seeds the GEMM's accumulators: C is written once, never pre-filled or re-read
        Tensor b = bias.to(DType.F32).contiguous();
        MatView W = matView(w.transpose(0, 1));
        GemmKernels.sgemmBias(false, W.trans(), m, n, k, x.f32(), x.offset(), k, W.t().f32(), W.t().offset(), W.ld(),
                b.f32(), b.offset(), out.f32(), 0, n);
        return out;
    }

    private static void gemm(boolean f, boolean tA, boolean tB, int m, int n, int k, Tensor a, int aOff, int lda,
                             Tensor b, int bOff, int ldb, Tensor c, int cOff, int ldc) {
        if (f) GemmKernels.sgemm(tA, tB, m, n, k, 1f, a.f32(), aOff, lda, b.f32(), bOff, ldb, 0f, c.f32(), cOff, ldc);
        else GemmKernels.reference(tA, tB, m, n, k, 1.0, a.f64(), aOff, lda, b.f64(), bOff, ldb, 0.0, c.f64(), cOff, ldc);
    }

    /** Storage offset of matrix i of t's batch dims broadcast to bshape. */
    static int[] batchOffsets(Tensor t, int[] bshape) {
        int r = bshape.length, lead = r - (t.dim() - 2);
        int[] sh = t.shape(), st = t.strides(), bst = new int[r];
        for (int i = lead; i < r; i++) bst[i] = sh[i - lead] == 1 ? 0 : st[i - lead];
        int batch = Shape.numel(bshape);
        int[] offs = new int[batch], idx = new int[r];
        int o = t.offset();
        for (int i = 0; i < batch; i++) {
            offs[i] = o;
            o = StridedCopy.advance(idx, bshape, bst, r - 1, o);
        }
        return offs;
    }

    // ---------------------------------------------------------------- reductions

    static int[] reducedShape(int[] sh, int axis, boolean keepdim) {
        if (keepdim) { int[] r = sh.clone(); r[axis] = 1; return r; }
        int[] r = new int[sh.length - 1];
        for (int i = 0, j = 0; i < sh.length; i++) if (i != axis) r[j++] = sh[i];
        return r;
    }

    @Override public Tensor reduce(String kind, Tensor x, int axis, boolean keepdim) {
        int[] sh = x.shape();
        Tensor c = x.contiguous(), out = Tensor.zeros(x.dtype(), reducedShape(sh, axis, keepdim));
        int len = sh[axis], outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= sh[i];
        for (int i = axis + 1; i < sh.length; i++) inner *= sh[i];
        if (kind.equals("max") && len == 0) throw new IllegalArgumentException("max over an empty axis of " + Shape.str(sh));
        if (isF32(x)) {
            float[] a = c.f32(), o = out.f32();
            switch (kind) {
                case "sum" -> ReduceKernels.sum(outer, len, inner, a, c.offset(), o, 0);
                case "mean" -> ReduceKernels.mean(outer, len, inner, a, c.offset(), o, 0);
                case "max" -> ReduceKernels.max(outer, len, inner, a, c.offset(), o, 0);
                default -> throw new IllegalArgumentException("unknown reduction " + kind);
            }
        } else {
            double[] a = c.f64(), o = out.f64();
            switch (kind) {
                case "sum" -> ReduceKernels.sum(outer, len, inner, a, c.offset(), o, 0);
                case "mean" -> ReduceKernels.mean(outer, len, inner, a, c.offset(), o, 0);
                case "max" -> ReduceKernels.max(outer, len, inner, a, c.offset(), o, 0);
                default -> throw new IllegalArgumentException("unknown reduction " + kind);
            }
        }
        return out;
    }

    @Override public Tensor argmax(Tensor x, int axis, boolean keepdim) {
        int[] sh = x.shape();
        Tensor c = x.contiguous(), out = Tensor.zeros(DType.I64, reducedShape(sh, axis, keepdim));
        int len = sh[axis], outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= sh[i];
        for (int i = axis + 1; i < sh.length; i++) inner *= sh[i];
        if (len == 0) throw new IllegalArgumentException("argmax over an empty axis of " + Shape.str(sh));
        int[] idx = isF32(x) ? ReduceKernels.argmax(outer, len, inner, c.f32(), c.offset()) : ReduceKernels.argmax(outer, len, inner, c.f64(), c.offset());
        long[] o = out.storage().longs();
        for (int i = 0; i < o.length; i++) o[i] = idx[i];
        return out;
    }

    @Override public Tensor sumAll(Tensor x) {
        Tensor c = x.contiguous();
        double s = isF32(x) ? ReduceKernels.sumAll(c.numel(), c.f32(), c.offset()) : ReduceKernels.sumAll(c.numel(), c.f64(), c.offset());
        return Tensor.full(x.dtype(), s);
    }

    // ---------------------------------------------------------------- softmax, layer norm

    @Override public Tensor softmax(Tensor x, boolean log) {
        Tensor c = x.contiguous(), out = Tensor.uninitialized(x.dtype(), x.shape());
        int cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
        if (isF32(x)) {
            if (log) SoftmaxKernels.logSoftmax(rows, cols, c.f32(), c.offset(), out.f32(), 0);
            else SoftmaxKernels.softmax(rows, cols, c.f32(), c.offset(), out.f32(), 0);
        } else {
            if (log) SoftmaxKernels.referenceLogSoftmax(rows, cols, c.f64(), c.offset(), out.f64(), 0);
            else SoftmaxKernels.referenceSoftmax(rows, cols, c.f64(), c.offset(), out.f64(), 0);
        }
        return out;
    }

    @Override public Tensor softmaxBackward(Tensor y, Tensor gy, boolean log) {
        Tensor yc = y.contiguous(), gc = gy.contiguous(), out = Tensor.uninitialized(y.dtype(), y.shape());
        int cols = y.size(-1), rows = cols == 0 ? 0 : y.numel() / cols;
        if (isF32(y)) {
            if (log) SoftmaxKernels.logSoftmaxBackward(rows, cols, yc.f32(), yc.offset(), gc.f32(), gc.offset(), out.f32(), 0);
            else SoftmaxKernels.softmaxBackward(rows, cols, yc.f32(), yc.offset(), gc.f32(), gc.offset(), out.f32(), 0);
        } else {
            if (log) SoftmaxKernels.referenceLogSoftmaxBackward(rows, cols, yc.f64(), yc.offset(), gc.f64(), gc.offset(), out.f64(), 0);
            else SoftmaxKernels.referenceSoftmaxBackward(rows, cols, yc.f64(), yc.offset(), gc.f64(), gc.offset(), out.f64(), 0);
        }
        return out;
    }

    @Override public Tensor[] layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        Tensor c = x.contiguous(), y = Tensor.uninitialized(x.dtype(), x.shape());
        int cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
        Tensor mean = Tensor.zeros(x.dtype(), rows), rstd = Tensor.zeros(x.dtype(), rows);
        if (isF32(x)) {
            LayerNormKernels.forward(rows, cols, c.f32(), c.offset(), gamma == null ? null : ff(gamma), beta == null ? null : ff(beta),
                    (float) eps, y.f32(), 0, mean.f32(), rstd.f32());
        } else {
            LayerNormKernels.referenceForward(rows, cols, c.f64(), c.offset(), gamma == null ? null : dd(gamma), beta == null ? null : dd(beta),
                    eps, y.f64(), 0, mean.f64(), rstd.f64());
        }
        return new Tensor[]{y, mean, rstd};
    }

    @Override public Tensor[] layerNormBackward(Tensor x, Tensor gy, Tensor gamma, Tensor mean, Tensor rstd, boolean wantAffine) {
        Tensor c = x.contiguous(), g = gy.contiguous(), gx = Tensor.zeros(x.dtype(), x.shape());
        int cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
        Tensor gg = wantAffine ? Tensor.zeros(x.dtype(), cols) : null, gb = wantAffine ? Tensor.zeros(x.dtype(), cols) : null;
        if (isF32(x)) {
            LayerNormKernels.backward(rows, cols, c.f32(), c.offset(), g.f32(), g.offset(), gamma == null ? null : ff(gamma),
                    ff(mean), ff(rstd), gx.f32(), 0, wantAffine ? gg.f32() : null, wantAffine ? gb.f32() : null);
        } else {
            LayerNormKernels.referenceBackward(rows, cols, c.f64(), c.offset(), g.f64(), g.offset(), gamma == null ? null : dd(gamma),
                    dd(mean), dd(rstd), gx.f64(), 0, wantAffine ? gg.f64() : null, wantAffine ? gb.f64() : null);
        }
        return new Tensor[]{gx, gg, gb};
    }

    // ---------------------------------------------------------------- attention

    /** The float table widened to double for the reference (F64) path. */
    private static RopeKernels.RefTable refTable(RopeTable r) {
        if (r == null) return null;
        double[] sin = new double[r.sin().length], cos = new double[r.cos().length];
        for (int i = 0; i < sin.length; i++) { sin[i] = r.sin()[i]; cos[i] = r.cos()[i]; }
        return new RopeKernels.RefTable(r.h(), r.w(), r.headDim(), sin, cos);
    }

    @Override public Tensor[] attention(Tensor qkv, int heads, RopeTable rope, int prefix) {
        int B = qkv.size(0), N = qkv.size(1), D = qkv.size(2) / 3, Dh = D / heads;
        Tensor c = qkv.contiguous(), out = Tensor.uninitialized(qkv.dtype(), B, N, D), lse = Tensor.zeros(qkv.dtype(), B, heads, N);
        int o = c.offset(), bs = N * 3 * D, ts = 3 * D;
        if (isF32(qkv)) {
            float[] a = c.f32();
            AttentionKernels.forward(B, heads, N, Dh, (float) (1.0 / Math.sqrt(Dh)), a, o, a, o + D, a, o + 2 * D, bs, ts, Dh,
                    rope, prefix, out.f32(), 0, lse.f32());
        } else {
            double[] a = c.f64();
            AttentionKernels.referenceForward(B, heads, N, Dh, 1.0 / Math.sqrt(Dh), a, o, a, o + D, a, o + 2 * D, bs, ts, Dh,
                    refTable(rope), prefix, out.f64(), 0, lse.f64());
        }
        return new Tensor[]{out, lse};
    }

    @Override public Tensor attentionBackward(Tensor qkv, Tensor outT, Tensor lseT, Tensor gOutT, int heads, RopeTable rope, int prefix) {
        int B = qkv.size(0), N = qkv.size(1), D = qkv.size(2) / 3, Dh = D / heads;
        Tensor c = qkv.contiguous(), out = outT.contiguous(), lse = lseT.contiguous(), gOut = gOutT.contiguous();
        Tensor g = Tensor.zeros(qkv.dtype(), B, N, 3 * D);
        int o = c.offset(), bs = N * 3 * D, ts = 3 * D;
        if (isF32(qkv)) {
            float[] a = c.f32(), ga = g.f32(), l = ff(lse);
            AttentionKernels.backward(B, heads, N, Dh, (float) (1.0 / Math.sqrt(Dh)), a, o, a, o + D, a, o + 2 * D, bs, ts, Dh,
                    rope, prefix, out.f32(), out.offset(), gOut.f32(), gOut.offset(), l, ga, 0, ga, D, ga, 2 * D);
        } else {
            double[] a = c.f64(), ga = g.f64(), l = dd(lse);
            AttentionKernels.referenceBackward(B, heads, N, Dh, 1.0 / Math.sqrt(Dh), a, o, a, o + D, a, o + 2 * D, bs, ts, Dh,
                    refTable(rope), prefix, out.f64(), out.offset(), gOut.f64(), gOut.offset(), l, ga, 0, ga, D, ga, 2 * D);
        }
        return g;
    }

    // ---------------------------------------------------------------- convolutions

    @Override public Tensor conv2d(Tensor xT, Tensor wT, Tensor bT, int sh, int sw, int ph, int pw) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), O = wT.size(0), kh = wT.size(2), kw = wT.size(3);
        int OH = ConvKernels.outSize(H, kh, sh, ph), OW = ConvKernels.outSize(W, kw, sw, pw);
        Tensor x = xT.contiguous(), y = Tensor.zeros(xT.dtype(), B, O, OH, OW);
        if (isF32(xT)) {
            Tensor w = wT.contiguous(), b = bT == null ? null : bT.contiguous();
            ConvKernels.conv2dForward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x.f32(), x.offset(), w.f32(), w.offset(),
                    b == null ? null : b.f32(), b == null ? 0 : b.offset(), y.f32(), 0);
        } else {
            Tensor w = wT.contiguous(), b = bT == null ? null : bT.contiguous();
            ConvKernels.reference(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x.f64(), x.offset(), w.f64(), w.offset(),
                    b == null ? null : b.f64(), b == null ? 0 : b.offset(), y.f64(), 0);
        }
        return y;
    }

    @Override public Tensor[] conv2dBackward(Tensor xT, Tensor wT, Tensor gyT, int sh, int sw, int ph, int pw, boolean needX, boolean needW, boolean needB) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), O = wT.size(0), kh = wT.size(2), kw = wT.size(3);
        Tensor x = xT.contiguous(), w = wT.contiguous(), gy = gyT.contiguous();
        DType dt = xT.dtype();
        Tensor gx = needX ? Tensor.zeros(dt, B, C, H, W) : null, gw = needW ? Tensor.zeros(dt, wT.shape()) : null, gb = needB ? Tensor.zeros(dt, O) : null;
        if (isF32(xT)) {
            ConvKernels.conv2dBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x.f32(), x.offset(), w.f32(), w.offset(), gy.f32(), gy.offset(),
                    gx == null ? null : gx.f32(), 0, gw == null ? null : gw.f32(), 0, gb == null ? null : gb.f32(), 0);
        } else {
            ConvKernels.referenceBackward(B, C, H, W, O, kh, kw, sh, sw, ph, pw, x.f64(), x.offset(), w.f64(), w.offset(), gy.f64(), gy.offset(),
                    gx == null ? null : gx.f64(), 0, gw == null ? null : gw.f64(), 0, gb == null ? null : gb.f64(), 0);
        }
        return new Tensor[]{gx, gw, gb};
    }

    @Override public Tensor depthwiseConv2d(Tensor xT, Tensor wT, Tensor bT, int pad) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), k = wT.size(-1);
        int OH = DepthwiseConvKernels.outSize(H, k, pad), OW = DepthwiseConvKernels.outSize(W, k, pad);
        Tensor x = xT.contiguous(), w = wT.contiguous(), b = bT == null ? null : bT.contiguous(), y = Tensor.zeros(xT.dtype(), B, C, OH, OW);
        if (isF32(xT)) DepthwiseConvKernels.forward(B, C, H, W, k, pad, x.f32(), x.offset(), w.f32(), w.offset(),
                b == null ? null : b.f32(), b == null ? 0 : b.offset(), y.f32(), 0);
        else DepthwiseConvKernels.reference(B, C, H, W, k, pad, x.f64(), x.offset(), w.f64(), w.offset(),
                b == null ? null : b.f64(), b == null ? 0 : b.offset(), y.f64(), 0);
        return y;
    }

    @Override public Tensor[] depthwiseConv2dBackward(Tensor xT, Tensor wT, Tensor gyT, int pad, boolean needX, boolean needW, boolean needB) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), k = wT.size(-1);
        Tensor x = xT.contiguous(), w = wT.contiguous(), gy = gyT.contiguous();
        DType dt = xT.dtype();
        Tensor gx = needX ? Tensor.zeros(dt, B, C, H, W) : null, gw = needW ? Tensor.zeros(dt, wT.shape()) : null, gb = needB ? Tensor.zeros(dt, C) : null;
        if (isF32(xT)) DepthwiseConvKernels.backward(B, C, H, W, k, pad, x.f32(), x.offset(), w.f32(), w.offset(), gy.f32(), gy.offset(),
                gx == null ? null : gx.f32(), 0, gw == null ? null : gw.f32(), 0, gb == null ? null : gb.f32(), 0);
        else DepthwiseConvKernels.referenceBackward(B, C, H, W, k, pad, x.f64(), x.offset(), w.f64(), w.offset(), gy.f64(), gy.offset(),
                gx == null ? null : gx.f64(), 0, gw == null ? null : gw.f64(), 0, gb == null ? null : gb.f64(), 0);
        return new Tensor[]{gx, gw, gb};
    }

    // ---------------------------------------------------------------- resize

    static ResizeKernels.Mode mode(String m) {
        return switch (m) {
            case "bilinear" -> ResizeKernels.Mode.BILINEAR;
            case "bicubic" -> ResizeKernels.Mode.BICUBIC;
            default -> throw new IllegalArgumentException("resize mode must be bilinear or bicubic, got '" + m + "'");
        };
    }

    @Override public Tensor resize(Tensor xT, int oh, int ow, String mode, boolean antialias) {
        int[] sh = xT.shape();
        int H = sh[sh.length - 2], W = sh[sh.length - 1], P = H * W == 0 ? 0 : xT.numel() / (H * W);
        sh[sh.length - 2] = oh;
        sh[sh.length - 1] = ow;
        Tensor x = xT.contiguous(), y = Tensor.zeros(xT.dtype(), sh);
        if (P == 0) return y;
        if (isF32(xT)) ResizeKernels.resize(mode(mode), antialias, P, H, W, oh, ow, x.f32(), x.offset(), y.f32(), 0);
        else ResizeKernels.resize(mode(mode), antialias, P, H, W, oh, ow, x.f64(), x.offset(), y.f64(), 0);
        return y;
    }

    @Override public Tensor resizeBackward(Tensor gyT, int h, int w, String mode, boolean antialias) {
        int[] sh = gyT.shape();
        int oh = sh[sh.length - 2], ow = sh[sh.length - 1], P = oh * ow == 0 ? 0 : gyT.numel() / (oh * ow);
        sh[sh.length - 2] = h;
        sh[sh.length - 1] = w;
        Tensor gy = gyT.contiguous(), gx = Tensor.zeros(gyT.dtype(), sh);
        if (P == 0) return gx;
        if (isF32(gyT)) ResizeKernels.resizeBackward(mode(mode), antialias, P, h, w, oh, ow, gy.f32(), gy.offset(), gx.f32(), 0);
        else ResizeKernels.resizeBackward(mode(mode), antialias, P, h, w, oh, ow, gy.f64(), gy.offset(), gx.f64(), 0);
        return gx;
    }

    // ---------------------------------------------------------------- indexing, concatenation

    private static Object array(Tensor t) { return isF32(t) ? t.f32() : t.f64(); }

    @Override public Tensor sinkhorn(Tensor logits, double temp, double btot, int iters) {
        int K = logits.size(-1), B = K == 0 ? 0 : logits.numel() / K;
        if (!isF32(logits)) {
            double[] out = new double[B * K];
            SinkhornKernels.referenceSinkhorn(dd(logits), 0, out, 0, B, K, temp, btot, iters);
            return Tensor.of(out, logits.shape());
        }
        float[] out = logits.toFloatArray();
        SinkhornKernels.sinkhorn(out, 0, out, 0, B, K, (float) temp, btot, iters);
        return Tensor.of(out, logits.shape());
    }

    @Override public FusedLoss koleo(Tensor x) {
        int N = x.size(0), D = x.size(1);
        int[] shape = x.shape(), nn = new int[N];
        if (!isF32(x)) {
            double[] xh = new double[N * D], nr = new double[N], d = new double[N];
            double loss = KoLeoKernels.referenceForward(x.toDoubleArray(), 0, N, D, xh, nr, nn, d);
            return FusedLoss.of(Tensor.full(DType.F64, loss), (g, needs) -> {
                double[] gx = new double[N * D];
                KoLeoKernels.referenceBackward(g, xh, nr, nn, d, N, D, gx, 0);
                return new Tensor[]{Tensor.of(gx, shape)};
            });
        }
        float[] xh = new float[N * D], nr = new float[N], d = new float[N];
        double loss = KoLeoKernels.forward(x.toFloatArray(), 0, N, D, xh, nr, nn, d);
        return FusedLoss.of(Tensor.full(DType.F32, loss), (g, needs) -> {
            float[] gx = new float[N * D];
            KoLeoKernels.backward(g.floatValue(), xh, nr, nn, d, N, D, gx, 0);
            return new Tensor[]{Tensor.of(gx, shape)};
        });
    }

    @Override public FusedLoss gram(Tensor s, Tensor t) {
        int N = s.dim() == 3 ? s.size(0) : 1, P = s.size(-2), D = s.size(-1), n = N * P * D;
        int[] shape = s.shape();
        if (!isF32(s)) {
            double[] sd = s.toDoubleArray(), td = t.toDoubleArray();
            double loss = GramKernels.referenceForward(sd, 0, td, 0, N, P, D);
            return FusedLoss.of(Tensor.full(DType.F64, loss), (g, needs) -> {
                boolean needT = needs.length > 1 && needs[1];
                double[] gs = new double[n], gt = needT ? new double[n] : null;
                GramKernels.referenceBackward(g, sd, 0, td, 0, N, P, D, gs, gt);
                return new Tensor[]{Tensor.of(gs, shape), needT ? Tensor.of(gt, shape) : null};
            });
        }
        float[] sh = new float[n], th = new float[n], ns = new float[N * P], nt = new float[N * P];
        double loss = GramKernels.forward(s.toFloatArray(), 0, t.toFloatArray(), 0, N, P, D, sh, ns, th, nt);
        return FusedLoss.of(Tensor.full(DType.F32, loss), (g, needs) -> {
            boolean needT = needs.length > 1 && needs[1];
            float[] gs = new float[n], gt = needT ? new float[n] : null;
            GramKernels.backward(g.floatValue(), sh, ns, th, nt, N, P, D, gs, gt);
            return new Tensor[]{Tensor.of(gs, shape), needT ? Tensor.of(gt, shape) : null};
        });
    }

    @Override public Tensor copy(Tensor x) {
        Tensor out = Tensor.zeros(x.dtype(), x.shape());
        StridedCopy.copy(x, out);
        return out;
    }

    @Override public Tensor residualScaled(Tensor x, Tensor y, Tensor gamma) {
        int cols = gamma.numel(), rows = x.numel() / Math.max(1, cols);
        Tensor xd = x.contiguous(), yd = y.contiguous(), gd = gamma.contiguous();
        Tensor out = Tensor.zeros(x.dtype(), x.shape());
        if (isF32(x)) ResidualKernels.forward(rows, cols, xd.f32(), xd.offset(), yd.f32(), yd.offset(), gd.f32(), gd.offset(), out.f32(), 0);
        else ResidualKernels.referenceForward(rows, cols, xd.f64(), xd.offset(), yd.f64(), yd.offset(), gd.f64(), gd.offset(), out.f64(), 0);
        return out;
    }

    @Override public Tensor[] residualScaledBackward(Tensor g, Tensor y, Tensor gamma, boolean needY, boolean needGamma) {
        int cols = gamma.numel(), rows = g.numel() / Math.max(1, cols);
        Tensor gc = g.contiguous(), yd = y.contiguous(), gd = gamma.contiguous();
        Tensor gy = needY ? Tensor.zeros(gc.dtype(), gc.shape()) : null, gg = needGamma ? Tensor.zeros(gc.dtype(), cols) : null;
        if (isF32(g)) ResidualKernels.backward(rows, cols, gc.f32(), gc.offset(), yd.f32(), yd.offset(), gd.f32(), gd.offset(),
                gy == null ? null : gy.f32(), 0, gg == null ? null : gg.f32(), 0);
        else ResidualKernels.referenceBackward(rows, cols, gc.f64(), gc.offset(), yd.f64(), yd.offset(), gd.f64(), gd.offset(),
                gy == null ? null : gy.f64(), 0, gg == null ? null : gg.f64(), 0);
        return new Tensor[]{gy, gg};
    }

    @Override public Tensor cat(int axis, Tensor[] ts) {
        int[] sh = ts[0].shape();
        int total = 0;
        for (Tensor t : ts) total += t.size(axis);
        sh[axis] = total;
        Tensor out = Tensor.zeros(ts[0].dtype(), sh);
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= sh[i];
        for (int i = axis + 1; i < sh.length; i++) inner *= sh[i];
        Object dst = array(out);
        int at = 0;
        for (Tensor t : ts) {
            Tensor c = t.contiguous();
            int chunk = t.size(axis) * inner;
            Object src = array(c);
            for (int o = 0; o < outer; o++) System.arraycopy(src, c.offset() + o * chunk, dst, o * total * inner + at, chunk);
            at += chunk;
        }
        return out;
    }

    @Override public Tensor indexSelect(Tensor x, int[] rows) {
        int[] sh = x.shape();
        int inner = x.numel() / Math.max(sh[0], 1);
        sh[0] = rows.length;
        Tensor c = x.contiguous(), out = Tensor.zeros(x.dtype(), sh);
        Object src = array(c), dst = array(out);
        for (int i = 0; i < rows.length; i++) System.arraycopy(src, c.offset() + rows[i] * inner, dst, i * inner, inner);
        return out;
    }

    @Override public Tensor indexAdd(Tensor base, int[] rows, Tensor src) {
        Tensor out = base.copy(), s = src.contiguous();
        int inner = base.numel() / Math.max(base.size(0), 1), so = s.offset();
        for (int i = 0; i < rows.length; i++) {
            int d = rows[i] * inner, sp = so + i * inner;
            if (isF32(out)) { float[] o = out.f32(), a = s.f32(); for (int j = 0; j < inner; j++) o[d + j] += a[sp + j]; }
            else { double[] o = out.f64(), a = s.f64(); for (int j = 0; j < inner; j++) o[d + j] += a[sp + j]; }
        }
        return out;
    }

    // ---------------------------------------------------------------- in place, optimizer

    @Override public void addInPlace(Tensor dst, Tensor src) {
        if (src.sameShape(dst) && src.isContiguous()) {
            if (isF32(dst)) ElementwiseKernels.accumulate(dst.numel(), src.f32(), src.offset(), dst.f32(), dst.offset());
            else ElementwiseKernels.accumulate(dst.numel(), src.f64(), src.offset(), dst.f64(), dst.offset());
        } else {
            Tensor sum = binary(BinaryOp.ADD, dst, src, dst.shape());
            System.arraycopy(array(sum), 0, array(dst), dst.offset(), dst.numel());
        }
        dst.bumpVersion();
    }

    @Override public void fill(Tensor dst, double value) {
        if (isF32(dst)) ElementwiseKernels.fill(dst.numel(), (float) value, dst.f32(), dst.offset());
        else ElementwiseKernels.fill(dst.numel(), value, dst.f64(), dst.offset());
        dst.bumpVersion();
    }

    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double b1, double b2, double eps, double wd, long step) {
        if (step > Integer.MAX_VALUE) throw new IllegalArgumentException("adamw: step " + step + " too large");
        int n = p.numel();
        if (isF32(p)) OptimizerKernels.adamw(n, p.f32(), p.offset(), g.f32(), g.offset(), m.f32(), m.offset(), v.f32(), v.offset(),
                (float) lr, (float) b1, (float) b2, (float) eps, (float) wd, (int) step);
        else OptimizerKernels.adamw(n, p.f64(), p.offset(), g.f64(), g.offset(), m.f64(), m.offset(), v.f64(), v.offset(),
                lr, b1, b2, eps, wd, (int) step);
        p.bumpVersion();
        m.bumpVersion();
        v.bumpVersion();
    }

    @Override public void ema(Tensor t, Tensor s, double mom) {
        if (isF32(t)) OptimizerKernels.ema(t.numel(), t.f32(), t.offset(), s.f32(), s.offset(), (float) mom);
        else OptimizerKernels.ema(t.numel(), t.f64(), t.offset(), s.f64(), s.offset(), mom);
        t.bumpVersion();
    }
}
