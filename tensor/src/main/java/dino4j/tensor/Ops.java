package dino4j.tensor;

import dino4j.kernels.BinaryOp;
import dino4j.kernels.RopeTable;
import dino4j.kernels.UnaryOp;

import java.util.Arrays;

/**
 * Tensor math. Each op validates its arguments (dtype: F32 or F64, all the same; shapes) with messages
 * naming the op and the shapes, then runs on the backend {@link Backends#select} picks. Inputs may be
 * any strided views; every result is a new contiguous tensor (in-place helpers end in {@code _} or
 * {@code InPlace} and bump the destination's version).
 */
public final class Ops {
    private Ops() {}

    // ---------------------------------------------------------------- checks

    private static String shapes(Tensor... ts) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : ts) {
            if (t == null) continue;
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(Shape.str(t.shape())).append(' ').append(t.dtype());
        }
        return sb.toString();
    }

    /** All non-null args are F32 or F64 and of one dtype; returns it. */
    static DType mathDType(String op, Tensor... ts) {
        DType dt = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            if (t.dtype() != DType.F32 && t.dtype() != DType.F64)
                throw new IllegalArgumentException(op + ": math needs F32 or F64 tensors, got " + shapes(ts));
            if (dt == null) dt = t.dtype();
            else if (dt != t.dtype())
                throw new IllegalArgumentException(op + ": mixed dtypes " + dt + " and " + t.dtype() + " (" + shapes(ts) + "); convert with .to()");
        }
        if (dt == null) throw new IllegalArgumentException(op + ": no tensor given");
        return dt;
    }

    private static IllegalArgumentException bad(String op, String what, Tensor... ts) {
        return new IllegalArgumentException(op + ": " + what + " (got " + shapes(ts) + ")");
    }

    private static Backend be(String op, Tensor... ts) {
        if (OpTimeline.ON) {
            OpTimeline.mark(op);
            if (OpTimeline.CALLERS) OpTimeline.detail(op + " " + shapes(ts) + " <- " + OpTimeline.caller());
        }
        return Backends.select(op, ts);
    }

    // ---------------------------------------------------------------- binary (broadcasting)

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase();
        mathDType(name, a, b);
        int[] os;
        try {
            os = Shape.broadcast(a.shape(), b.shape());
        } catch (IllegalArgumentException e) {
            throw bad(name, "shapes do not broadcast", a, b);
        }
        return be(name, a, b).binary(op, a, b, os);
    }

    public static Tensor add(Tensor a, Tensor b) { return binary(BinaryOp.ADD, a, b); }
    public static Tensor sub(Tensor a, Tensor b) { return binary(BinaryOp.SUB, a, b); }
    public static Tensor mul(Tensor a, Tensor b) { return binary(BinaryOp.MUL, a, b); }
    public static Tensor div(Tensor a, Tensor b) { return binary(BinaryOp.DIV, a, b); }
    public static Tensor maximum(Tensor a, Tensor b) { return binary(BinaryOp.MAX, a, b); }
    public static Tensor minimum(Tensor a, Tensor b) { return binary(BinaryOp.MIN, a, b); }
    public static Tensor pow(Tensor a, Tensor b) { return binary(BinaryOp.POW, a, b); }

    /** A rank-0 tensor of t's dtype. */
    public static Tensor scalarLike(Tensor t, double v) { return Tensor.full(t.dtype(), v); }

    public static Tensor binaryScalar(BinaryOp op, Tensor a, double s) { return binary(op, a, scalarLike(a, s)); }
    public static Tensor addScalar(Tensor a, double s) { return binaryScalar(BinaryOp.ADD, a, s); }
    public static Tensor subScalar(Tensor a, double s) { return binaryScalar(BinaryOp.SUB, a, s); }
    public static Tensor mulScalar(Tensor a, double s) { return binaryScalar(BinaryOp.MUL, a, s); }
    public static Tensor divScalar(Tensor a, double s) { return binaryScalar(BinaryOp.DIV, a, s); }
    public static Tensor maximumScalar(Tensor a, double s) { return binaryScalar(BinaryOp.MAX, a, s); }
    public static Tensor minimumScalar(Tensor a, double s) { return binaryScalar(BinaryOp.MIN, a, s); }
    public static Tensor powScalar(Tensor a, double s) { return binaryScalar(BinaryOp.POW, a, s); }
    /** s - a. */
    public static Tensor rsubScalar(Tensor a, double s) { return binary(BinaryOp.SUB, scalarLike(a, s), a); }
    /** s / a. */
    public static Tensor rdivScalar(Tensor a, double s) { return binary(BinaryOp.DIV, scalarLike(a, s), a); }

    // ---------------------------------------------------------------- unary

    public static Tensor unary(UnaryOp op, Tensor x) {
        mathDType(op.name().toLowerCase(), x);
        return be(op.name().toLowerCase(), x).unary(op, x);
    }

    /** gy * f'(x). */
    public static Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gy) {
        String name = op.name().toLowerCase() + "Backward";
        mathDType(name, x, gy);
        if (!x.sameShape(gy)) throw bad(name, "x and gy must have the same shape", x, gy);
        return be(name, x, gy).unaryBackward(op, x, gy);
    }

    public static Tensor neg(Tensor x) { return unary(UnaryOp.NEG, x); }
    public static Tensor exp(Tensor x) { return unary(UnaryOp.EXP, x); }
    public static Tensor log(Tensor x) { return unary(UnaryOp.LOG, x); }
    public static Tensor sqrt(Tensor x) { return unary(UnaryOp.SQRT, x); }
    public static Tensor rsqrt(Tensor x) { return unary(UnaryOp.RSQRT, x); }
    public static Tensor abs(Tensor x) { return unary(UnaryOp.ABS, x); }
    public static Tensor tanh(Tensor x) { return unary(UnaryOp.TANH, x); }
    public static Tensor sigmoid(Tensor x) { return unary(UnaryOp.SIGMOID, x); }
    public static Tensor relu(Tensor x) { return unary(UnaryOp.RELU, x); }
    public static Tensor gelu(Tensor x) { return unary(UnaryOp.GELU, x); }
    public static Tensor silu(Tensor x) { return unary(UnaryOp.SILU, x); }
    public static Tensor square(Tensor x) { return unary(UnaryOp.SQUARE, x); }
    public static Tensor reciprocal(Tensor x) { return unary(UnaryOp.RECIPROCAL, x); }
    public static Tensor sin(Tensor x) { return unary(UnaryOp.SIN, x); }
    public static Tensor cos(Tensor x) { return unary(UnaryOp.COS, x); }

    // ---------------------------------------------------------------- matmul

    /** [..., m, k] x [..., k, n] → [..., m, n] with broadcast batch dims; both operands rank ≥ 2. */
    public static Tensor matmul(Tensor a, Tensor b) {
        mathDType("matmul", a, b);
        if (a.dim() < 2 || b.dim() < 2) throw bad("matmul", "operands need rank >= 2", a, b);
        if (a.size(-1) != b.size(-2)) throw bad("matmul", "inner dimensions differ (" + a.size(-1) + " vs " + b.size(-2) + ")", a, b);
        try {
            Shape.broadcast(Arrays.copyOf(a.shape(), a.dim() - 2), Arrays.copyOf(b.shape(), b.dim() - 2));
        } catch (IllegalArgumentException e) {
            throw bad("matmul", "batch dimensions do not broadcast", a, b);
        }
        return be("matmul", a, b).matmul(a, b);
    }

    /** x [M, K] · wᵀ + bias with w [N, K] (PyTorch Linear on rows); bias nullable. */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        mathDType("linear", x, w);
        if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1) || (bias != null && bias.numel() != w.size(0)))
            throw bad("linear", "need x [M, K], w [N, K], bias [N]", x, w);
        return be("matmul", x, w).linear(x, w, bias);
    }

    // ---------------------------------------------------------------- reductions

    private static Tensor reduce(String kind, Tensor x, int axis, boolean keepdim) {
        mathDType(kind, x);
        int a;
        try { a = Shape.axis(axis, x.dim()); } catch (IllegalArgumentException e) { throw bad(kind, "axis " + axis + " out of range", x); }
        return be(kind, x).reduce(kind, x, a, keepdim);
    }

    public static Tensor sum(Tensor x, int axis, boolean keepdim) { return reduce("sum", x, axis, keepdim); }
    public static Tensor mean(Tensor x, int axis, boolean keepdim) { return reduce("mean", x, axis, keepdim); }
    public static Tensor max(Tensor x, int axis, boolean keepdim) { return reduce("max", x, axis, keepdim); }

    /** I64 indices of the maxima along axis. */
    public static Tensor argmax(Tensor x, int axis, boolean keepdim) {
        mathDType("argmax", x);
        int a;
        try { a = Shape.axis(axis, x.dim()); } catch (IllegalArgumentException e) { throw bad("argmax", "axis " + axis + " out of range", x); }
        return be("argmax", x).argmax(x, a, keepdim);
    }

    /** Rank-0 sum of all elements. */
    public static Tensor sumAll(Tensor x) { mathDType("sumAll", x); return be("sumAll", x).sumAll(x); }

    public static double sumAllValue(Tensor x) { return sumAll(x).item(); }

    /** Rank-0 mean of all elements. */
    public static Tensor meanAll(Tensor x) { return mulScalar(sumAll(x), 1.0 / Math.max(1, x.numel())); }

    /**
     * Sums a broadcast gradient back to {@code shape} (leading extra axes and axes where shape has 1).
     * Returns g itself when the shapes already match.
     */
    public static Tensor reduceToShape(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        if (lead < 0) throw new IllegalArgumentException("reduceToShape: gradient " + Shape.str(gs) + " has lower rank than " + Shape.str(shape));
        Tensor r = g;
        for (int i = 0; i < lead; i++) r = sum(r, 0, false);
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1 && r.size(i) != 1) r = sum(r, i, true);
            else if (shape[i] != r.size(i))
                throw new IllegalArgumentException("reduceToShape: gradient " + Shape.str(gs) + " does not broadcast from " + Shape.str(shape));
        }
        return r.reshape(shape);
    }

    // ---------------------------------------------------------------- softmax

    private static void checkLastAxis(String op, Tensor x) {
        if (x.dim() < 1) throw bad(op, "needs rank >= 1", x);
    }

    /** Softmax over the last axis. */
    public static Tensor softmax(Tensor x) { mathDType("softmax", x); checkLastAxis("softmax", x); return be("softmax", x).softmax(x, false); }

    public static Tensor logSoftmax(Tensor x) { mathDType("logSoftmax", x); checkLastAxis("logSoftmax", x); return be("logSoftmax", x).softmax(x, true); }

    /** Given y = softmax(x) and gy, returns gx. */
    public static Tensor softmaxBackward(Tensor y, Tensor gy) {
        mathDType("softmaxBackward", y, gy);
        if (!y.sameShape(gy)) throw bad("softmaxBackward", "y and gy differ in shape", y, gy);
        return be("softmaxBackward", y, gy).softmaxBackward(y, gy, false);
    }

    /** Given y = logSoftmax(x) and gy, returns gx. */
    public static Tensor logSoftmaxBackward(Tensor y, Tensor gy) {
        mathDType("logSoftmaxBackward", y, gy);
        if (!y.sameShape(gy)) throw bad("logSoftmaxBackward", "y and gy differ in shape", y, gy);
        return be("logSoftmaxBackward", y, gy).softmaxBackward(y, gy, true);
    }

    // ---------------------------------------------------------------- layer norm

    /** Result of {@link #layerNorm}: mean and rstd have one entry per row (numel / last dim). */
    public record LayerNormResult(Tensor y, Tensor mean, Tensor rstd) {}

    /** Result of {@link #layerNormBackward}; gGamma / gBeta null unless asked for. */
    public record LayerNormGrads(Tensor gx, Tensor gGamma, Tensor gBeta) {}

    /** LayerNorm over the last axis; gamma, beta nullable ([last dim]). */
    public static LayerNormResult layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        mathDType("layerNorm", x, gamma, beta);
        checkLastAxis("layerNorm", x);
        int c = x.size(-1);
        if ((gamma != null && gamma.numel() != c) || (beta != null && beta.numel() != c))
            throw bad("layerNorm", "gamma/beta must have " + c + " elements", x, gamma, beta);
        Tensor[] r = be("layerNorm", x, gamma, beta).layerNorm(x, gamma, beta, eps);
        return new LayerNormResult(r[0], r[1], r[2]);
    }

    public static LayerNormGrads layerNormBackward(Tensor x, Tensor gy, Tensor gamma, Tensor mean, Tensor rstd, boolean wantAffine) {
        mathDType("layerNormBackward", x, gy, gamma, mean, rstd);
        if (!x.sameShape(gy)) throw bad("layerNormBackward", "x and gy differ in shape", x, gy);
        Tensor[] r = be("layerNormBackward", x, gy, gamma, mean, rstd).layerNormBackward(x, gy, gamma, mean, rstd, wantAffine);
        return new LayerNormGrads(r[0], r[1], r[2]);
    }

    // ---------------------------------------------------------------- attention

    /** Result of {@link #attention}: out [B,N,D], lse [B,H,N] (log-sum-exp of the scaled scores). */
    public record AttentionResult(Tensor out, Tensor lse) {}

    private static void checkAttention(String op, Tensor qkv, int heads, RopeTable rope, int prefix) {
        if (qkv.dim() != 3 || qkv.size(2) % 3 != 0) throw bad(op, "qkv must be [B, N, 3D]", qkv);
        int D = qkv.size(2) / 3, N = qkv.size(1);
        if (heads <= 0 || D % heads != 0) throw bad(op, "D=" + D + " is not divisible by heads=" + heads, qkv);
        if (prefix < 0 || prefix > N) throw bad(op, "prefix " + prefix + " out of range for N=" + N, qkv);
        if (rope != null) {
            if (rope.headDim() != D / heads) throw bad(op, "rope table headDim " + rope.headDim() + " != head dim " + D / heads, qkv);
            if (rope.tokens() != N - prefix) throw bad(op, "rope table has " + rope.tokens() + " rows but there are " + (N - prefix) + " patch tokens", qkv);
        }
    }

    /**
     * Fused multi-head attention on one qkv buffer [B, N, 3D] ([q | k | v], head-major inside each);
     * RoPE (nullable) rotates q and k of tokens prefix..N-1; scale 1/sqrt(Dh); no mask.
     */
    public static AttentionResult attention(Tensor qkv, int heads, RopeTable rope, int prefix) {
        mathDType("attention", qkv);
        checkAttention("attention", qkv, heads, rope, prefix);
        Tensor[] r = be("attention", qkv).attention(qkv, heads, rope, prefix);
        return new AttentionResult(r[0], r[1]);
    }

    /** Gradient w.r.t. qkv [B, N, 3D]. */
    public static Tensor attentionBackward(Tensor qkv, Tensor out, Tensor lse, Tensor gOut, int heads, RopeTable rope, int prefix) {
        mathDType("attentionBackward", qkv, out, lse, gOut);
        checkAttention("attentionBackward", qkv, heads, rope, prefix);
        if (!out.sameShape(gOut)) throw bad("attentionBackward", "out and gOut differ in shape", out, gOut);
        return be("attentionBackward", qkv, out, lse, gOut).attentionBackward(qkv, out, lse, gOut, heads, rope, prefix);
    }

    // ---------------------------------------------------------------- convolutions, resize

    /** PyTorch Conv2d: x [B,C,H,W], w [O,C,kh,kw], bias [O] nullable. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int sh, int sw, int ph, int pw) {
        mathDType("conv2d", x, w, bias);
        checkConv(x, w, bias, sh, sw, ph, pw);
        return be("conv2d", x, w, bias).conv2d(x, w, bias, sh, sw, ph, pw);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int pad) { return conv2d(x, w, bias, stride, stride, pad, pad); }

    private static void checkConv(Tensor x, Tensor w, Tensor bias, int sh, int sw, int ph, int pw) {
        if (x.dim() != 4 || w.dim() != 4 || x.size(1) != w.size(1)) throw bad("conv2d", "needs x [B,C,H,W] and w [O,C,kh,kw]", x, w);
        if (bias != null && bias.numel() != w.size(0)) throw bad("conv2d", "bias must have O elements", w, bias);
        if (sh <= 0 || sw <= 0 || ph < 0 || pw < 0) throw bad("conv2d", "bad stride/padding " + sh + "," + sw + "/" + ph + "," + pw, x);
        if (x.size(2) + 2 * ph < w.size(2) || x.size(3) + 2 * pw < w.size(3)) throw bad("conv2d", "kernel larger than padded input", x, w);
    }

    /** Returns {gx, gw, gbias}, each null unless wanted. */
    public static Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor gy, int sh, int sw, int ph, int pw, boolean needX, boolean needW, boolean needB) {
        mathDType("conv2dBackward", x, w, gy);
        checkConv(x, w, null, sh, sw, ph, pw);
        return be("conv2dBackward", x, w, gy).conv2dBackward(x, w, gy, sh, sw, ph, pw, needX, needW, needB);
    }

    /** Depthwise conv, stride 1: x [B,C,H,W], w [C,1,k,k] (or [C,k,k]), bias [C] nullable. */
    public static Tensor depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int pad) {
        mathDType("depthwiseConv2d", x, w, bias);
        checkDepthwise(x, w, bias, pad);
        return be("depthwiseConv2d", x, w, bias).depthwiseConv2d(x, w, bias, pad);
    }

    private static void checkDepthwise(Tensor x, Tensor w, Tensor bias, int pad) {
        if (x.dim() != 4 || w.size(0) != x.size(1) || w.numel() != x.size(1) * w.size(-1) * w.size(-1) || w.size(-1) != w.size(-2))
            throw bad("depthwiseConv2d", "needs x [B,C,H,W] and w [C,1,k,k]", x, w);
        if (bias != null && bias.numel() != x.size(1)) throw bad("depthwiseConv2d", "bias must have C elements", x, bias);
        if (pad < 0 || x.size(2) + 2 * pad < w.size(-1)) throw bad("depthwiseConv2d", "bad padding " + pad, x, w);
    }

    public static Tensor[] depthwiseConv2dBackward(Tensor x, Tensor w, Tensor gy, int pad, boolean needX, boolean needW, boolean needB) {
        mathDType("depthwiseConv2dBackward", x, w, gy);
        checkDepthwise(x, w, null, pad);
        return be("depthwiseConv2dBackward", x, w, gy).depthwiseConv2dBackward(x, w, gy, pad, needX, needW, needB);
    }

    private static void checkResize(String op, Tensor x, int oh, int ow, String mode) {
        if (x.dim() < 2) throw bad(op, "needs rank >= 2 ([..., H, W])", x);
        if (oh <= 0 || ow <= 0) throw bad(op, "output size must be positive, got " + oh + "x" + ow, x);
        if (!mode.equals("bilinear") && !mode.equals("bicubic")) throw bad(op, "mode must be bilinear or bicubic, got '" + mode + "'", x);
    }

    /** PyTorch interpolate (align_corners=False) over the last two axes; mode "bilinear" or "bicubic". */
    public static Tensor resize(Tensor x, int oh, int ow, String mode, boolean antialias) {
        mathDType("resize", x);
        checkResize("resize", x, oh, ow, mode);
        return be("resize", x).resize(x, oh, ow, mode, antialias);
    }

    /** Adjoint of {@link #resize}: gy [..., oh, ow] → [..., h, w]. */
    public static Tensor resizeBackward(Tensor gy, int h, int w, String mode, boolean antialias) {
        mathDType("resizeBackward", gy);
        checkResize("resizeBackward", gy, h, w, mode);
        return be("resizeBackward", gy).resizeBackward(gy, h, w, mode, antialias);
    }

    // ---------------------------------------------------------------- indexing

    public static Tensor cat(int axis, Tensor... ts) {
        if (ts.length == 0) throw new IllegalArgumentException("cat: no tensors");
        mathDType("cat", ts);
        int[] s0 = ts[0].shape();
        int a;
        try { a = Shape.axis(axis, s0.length); } catch (IllegalArgumentException e) { throw bad("cat", "axis " + axis + " out of range", ts); }
        for (Tensor t : ts) {
            int[] s = t.shape();
            boolean ok = s.length == s0.length;
            for (int i = 0; ok && i < s.length; i++) ok = i == a || s[i] == s0[i];
            if (!ok) throw bad("cat", "shapes must match except on axis " + a, ts);
        }
        return be("cat", ts).cat(a, ts);
    }

    private static void checkRows(String op, int n, int[] rows) {
        for (int r : rows) if (r < 0 || r >= n) throw new IndexOutOfBoundsException(op + ": row " + r + " out of range [0, " + n + ")");
    }

    /** Rows of x (axis 0). */
    public static Tensor indexSelect(Tensor x, int[] rows) {
        mathDType("indexSelect", x);
        if (x.dim() < 1) throw bad("indexSelect", "needs rank >= 1", x);
        checkRows("indexSelect", x.size(0), rows);
        return be("indexSelect", x).indexSelect(x, rows);
    }

    /** out = copy of base; out[rows[i]] += src[i] along axis 0 (repeated rows accumulate). */
    public static Tensor indexAdd(Tensor base, int[] rows, Tensor src) {
        mathDType("indexAdd", base, src);
        int[] bs = base.shape(), ss = src.shape();
        if (bs.length < 1 || ss.length != bs.length || ss[0] != rows.length
                || !Arrays.equals(Arrays.copyOfRange(bs, 1, bs.length), Arrays.copyOfRange(ss, 1, ss.length)))
            throw bad("indexAdd", "src must be [rows.length=" + rows.length + ", base.shape[1:]...]", base, src);
        checkRows("indexAdd", bs[0], rows);
        return be("indexAdd", base, src).indexAdd(base, rows, src);
    }

    // ---------------------------------------------------------------- in place

    /** dst += src (src broadcastable to dst; dst contiguous); bumps dst's version. */
    public static Tensor addInPlace(Tensor dst, Tensor src) {
        mathDType("addInPlace", dst, src);
        if (!dst.isContiguous()) throw bad("addInPlace", "destination must be contiguous", dst);
        if (!Arrays.equals(Shape.broadcast(dst.shape(), src.shape()), dst.shape())) throw bad("addInPlace", "src does not broadcast to dst", dst, src);
        be("addInPlace", dst, src).addInPlace(dst, src);
        return dst;
    }

    /** Fills a contiguous tensor in place; bumps its version. */
    public static Tensor fill_(Tensor dst, double value) {
        mathDType("fill_", dst);
        if (!dst.isContiguous()) throw bad("fill_", "destination must be contiguous", dst);
        be("fill_", dst).fill(dst, value);
        return dst;
    }

    private static void checkFlat(String op, Tensor... ts) {
        mathDType(op, ts);
        for (Tensor t : ts) {
            if (!t.isContiguous()) throw bad(op, "tensors must be contiguous", ts);
            if (t.numel() != ts[0].numel()) throw bad(op, "tensors must have the same number of elements", ts);
        }
    }

    /** In-place AdamW (decoupled weight decay, bias-corrected; step counts from 1). */
    public static void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                             double weightDecay, long step) {
        checkFlat("adamw", param, grad, m, v);
        if (step < 1) throw new IllegalArgumentException("adamw: step must be >= 1, got " + step);
        be("adamw", param, grad, m, v).adamw(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    /** teacher = momentum * teacher + (1 - momentum) * student, in place. */
    public static void ema(Tensor teacher, Tensor student, double momentum) {
        checkFlat("ema", teacher, student);
        be("ema", teacher, student).ema(teacher, student, momentum);
    }

    /** The SwiGLU gate {@code silu(a) ⊙ b}, a and b the same shape, one fused pass. */
    public static Tensor swiglu(Tensor a, Tensor b) {
        mathDType("swiglu", a, b);
        if (!a.sameShape(b)) throw bad("swiglu", "a and b must have the same shape", a, b);
        return be("swiglu", a, b).swiglu(a, b);
    }

    /** Backward of {@link #swiglu}: {ga, gb}. */
    public static Tensor[] swigluBackward(Tensor a, Tensor b, Tensor gy) {
        mathDType("swigluBackward", a, b, gy);
        if (!a.sameShape(b) || !a.sameShape(gy)) throw bad("swigluBackward", "a, b and gy must have the same shape", a, b, gy);
        return be("swigluBackward", a, b, gy).swigluBackward(a, b, gy);
    }

    /** The LayerScale residual {@code x + y ⊙ γ}: x, y [..., C], γ [C], one fused pass. */
    public static Tensor residualScaled(Tensor x, Tensor y, Tensor gamma) {
        mathDType("residualScaled", x, y, gamma);
        if (!x.sameShape(y) || x.dim() < 1 || gamma.dim() != 1 || x.size(-1) != gamma.numel())
            throw bad("residualScaled", "x, y and gamma must be [..., C], [..., C], [C]", x, y, gamma);
        return be("residualScaled", x, y, gamma).residualScaled(x, y, gamma);
    }

    /** Backward of {@link #residualScaled}: {gy = g ⊙ γ, gγ = Σ_rows g ⊙ y} (each null unless wanted). */
    public static Tensor[] residualScaledBackward(Tensor g, Tensor y, Tensor gamma, boolean needY, boolean needGamma) {
        mathDType("residualScaledBackward", g, y, gamma);
        if (!g.sameShape(y) || gamma.dim() != 1 || g.size(-1) != gamma.numel())
            throw bad("residualScaledBackward", "g, y and gamma must be [..., C], [..., C], [C]", g, y, gamma);
        return be("residualScaledBackward", g, y, gamma).residualScaledBackward(g, y, gamma, needY, needGamma);
    }

    /** Sinkhorn-Knopp targets of logits [..., K] (rows = samples); see {@link Backend#sinkhorn}. */
    public static Tensor sinkhorn(Tensor logits, double temp, double btot, int iters) {
        mathDType("sinkhorn", logits);
        if (logits.dim() < 1) throw bad("sinkhorn", "logits need a class axis", logits);
        if (!(temp > 0)) throw new IllegalArgumentException("sinkhorn: temperature must be > 0, got " + temp);
        if (iters < 0) throw new IllegalArgumentException("sinkhorn: iterations must be >= 0, got " + iters);
        return be("sinkhorn", logits).sinkhorn(logits, temp, btot, iters);
    }

    /** KoLeo of one group of features x [N, D] with its own backward; see {@link Backend#koleo}. */
    public static FusedLoss koleo(Tensor x) {
        mathDType("koleo", x);
        if (x.dim() != 2 || x.size(0) < 2) throw bad("koleo", "features must be [N, D] with N >= 2 (a neighbour each)", x);
        return be("koleo", x).koleo(x);
    }

    /** Gram anchoring loss of s vs t, both [N, P, D] (or [P, D]), with its own backward; see {@link Backend#gram}. */
    public static FusedLoss gram(Tensor s, Tensor t) {
        mathDType("gram", s, t);
        if (!s.sameShape(t) || (s.dim() != 3 && s.dim() != 2))
            throw new IllegalArgumentException("gram: student " + Arrays.toString(s.shape()) + " and teacher " + Arrays.toString(t.shape())
                    + " must both be [N, P, D] (or [P, D])");
        return be("gram", s, t).gram(s, t);
    }
}
