package dino4j.autograd;


import dino4j.kernels.RopeTable;
import dino4j.kernels.UnaryOp;
import dino4j.tensor.DType;
import dino4j.tensor.Ops;
import dino4j.tensor.Shape;
import dino4j.tensor.Tensor;

import java.util.Arrays;
import java.util.Random;

/**
 * The differentiable functional API: each op computes its value with {@link Ops} and records its
 * backward with {@link Graph#record}, saving the tensors it reads (version-checked at backward time).
 * Broadcasting binaries reduce their gradients back to each input's shape. Gradients are contiguous.
 */
public final class F {
    private F() {}

    private static Var rec(String op, Tensor out, Var[] in, Tensor[] saved, Backward bw) {
        return Graph.record(op, out, in, saved, bw);
    }

    private static Tensor[] grads(Tensor... g) { return g; }

    /** A materialised broadcast of g to shape (g's shape must broadcast to it). */
    private static Tensor expandTo(Tensor g, int[] shape) { return g.expand(shape).contiguous(); }

    // ---------------------------------------------------------------- broadcasting binaries

    public static Var add(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        int[] as = ad.shape(), bs = bd.shape();
        return rec("add", Ops.add(ad, bd), new Var[]{a, b}, null, (g, n) -> grads(
                n[0] ? Ops.reduceToShape(g, as) : null,
                n[1] ? Ops.reduceToShape(g, bs) : null));
    }

    public static Var sub(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        int[] as = ad.shape(), bs = bd.shape();
        return rec("sub", Ops.sub(ad, bd), new Var[]{a, b}, null, (g, n) -> grads(
                n[0] ? Ops.reduceToShape(g, as) : null,
                n[1] ? Ops.neg(Ops.reduceToShape(g, bs)) : null));
    }

    public static Var mul(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        return rec("mul", Ops.mul(ad, bd), new Var[]{a, b}, new Tensor[]{ad, bd}, (g, n) -> grads(
                n[0] ? Ops.reduceToShape(Ops.mul(g, bd), ad.shape()) : null,
                n[1] ? Ops.reduceToShape(Ops.mul(g, ad), bd.shape()) : null));
    }

    public static Var div(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data(), out = Ops.div(ad, bd);
        return rec("div", out, new Var[]{a, b}, new Tensor[]{bd, out}, (g, n) -> {
            Tensor ga = Ops.div(g, bd);
            return grads(n[0] ? Ops.reduceToShape(ga, ad.shape()) : null,
                    n[1] ? Ops.neg(Ops.reduceToShape(Ops.mul(ga, out), bd.shape())) : null);
        });
    }

    /** Element-wise max (gradient to a where a >= b, else to b). */
    public static Var maximum(Var a, Var b) { return minMax("maximum", a, b, true); }

    public static Var minimum(Var a, Var b) { return minMax("minimum", a, b, false); }

    private static Var minMax(String name, Var a, Var b, boolean max) {
        Tensor ad = a.data(), bd = b.data();
        Tensor out = max ? Ops.maximum(ad, bd) : Ops.minimum(ad, bd);
        return rec(name, out, new Var[]{a, b}, new Tensor[]{ad, bd}, (g, n) -> {
            // mask = 1 where a wins: (a >= b) for max, (a <= b) for min
            Tensor mask = Ops.rsubScalar(step(max ? Ops.sub(bd, ad) : Ops.sub(ad, bd)), 1);
            return grads(n[0] ? Ops.reduceToShape(Ops.mul(g, mask), ad.shape()) : null,
                    n[1] ? Ops.reduceToShape(Ops.mul(g, Ops.rsubScalar(mask, 1)), bd.shape()) : null);
        });
    }

    /**
     * 1 where d > 0, else 0 (exact for |d| above the dtype's smallest normal; NaN stays NaN), built from
     * backend ops: min(max(d · MAX, 0), 1) with MAX the dtype's largest finite value (0 · MAX = 0).
     */
    private static Tensor step(Tensor d) {
        double big = d.dtype() == DType.F32 ? Float.MAX_VALUE : Double.MAX_VALUE;
        return Ops.minimumScalar(Ops.maximumScalar(Ops.mulScalar(d, big), 0), 1);
    }

    // ---------------------------------------------------------------- scalar ops

    public static Var addScalar(Var x, double s) {
        return rec("addScalar", Ops.addScalar(x.data(), s), new Var[]{x}, null, (g, n) -> grads(g));
    }

    public static Var mulScalar(Var x, double s) {
        return rec("mulScalar", Ops.mulScalar(x.data(), s), new Var[]{x}, null, (g, n) -> grads(Ops.mulScalar(g, s)));
    }

    /** x^p for a constant exponent p. */
    public static Var pow(Var x, double p) {
        Tensor xd = x.data();
        return rec("pow", Ops.powScalar(xd, p), new Var[]{x}, new Tensor[]{xd},
                (g, n) -> grads(Ops.mul(g, Ops.mulScalar(Ops.powScalar(xd, p - 1), p))));
    }

    /** max(x, v) (gradient flows where x > v). */
    public static Var clampMin(Var x, double v) {
        Tensor xd = x.data();
        return rec("clampMin", Ops.maximumScalar(xd, v), new Var[]{x}, new Tensor[]{xd}, (g, n) -> {
            return grads(Ops.mul(g, step(Ops.subScalar(xd, v))));
        });
    }

    // ---------------------------------------------------------------- unary

    public static Var unary(UnaryOp op, Var x) {
        Tensor xd = x.data();
        return rec(op.name().toLowerCase(), Ops.unary(op, xd), new Var[]{x}, new Tensor[]{xd},
                (g, n) -> grads(Ops.unaryBackward(op, xd, g)));
    }

    public static Var neg(Var x) { return rec("neg", Ops.neg(x.data()), new Var[]{x}, null, (g, n) -> grads(Ops.neg(g))); }
    public static Var exp(Var x) { return unary(UnaryOp.EXP, x); }
    public static Var log(Var x) { return unary(UnaryOp.LOG, x); }
    public static Var sqrt(Var x) { return unary(UnaryOp.SQRT, x); }
    public static Var rsqrt(Var x) { return unary(UnaryOp.RSQRT, x); }
    public static Var abs(Var x) { return unary(UnaryOp.ABS, x); }
    public static Var tanh(Var x) { return unary(UnaryOp.TANH, x); }
    public static Var sigmoid(Var x) { return unary(UnaryOp.SIGMOID, x); }
    public static Var relu(Var x) { return unary(UnaryOp.RELU, x); }
    public static Var gelu(Var x) { return unary(UnaryOp.GELU, x); }
    public static Var silu(Var x) { return unary(UnaryOp.SILU, x); }
    public static Var square(Var x) { return unary(UnaryOp.SQUARE, x); }
    public static Var reciprocal(Var x) { return unary(UnaryOp.RECIPROCAL, x); }
    public static Var sin(Var x) { return unary(UnaryOp.SIN, x); }
    public static Var cos(Var x) { return unary(UnaryOp.COS, x); }

    // ---------------------------------------------------------------- matmul, linear

    /** The SwiGLU gate {@code silu(a) ⊙ b} as one fused node (forward and backward one pass each). */
    public static Var swiglu(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        return rec("swiglu", Ops.swiglu(ad, bd), new Var[]{a, b}, new Tensor[]{ad, bd}, (g, n) -> {
            Tensor[] r = Ops.swigluBackward(ad, bd, g);
            return grads(n[0] ? r[0] : null, n[1] ? r[1] : null);
        });
    }

    /**
     * The LayerScale residual {@code x + y ⊙ γ} (x, y [..., C], γ [C]) as one fused node: one pass forward;
     * backward gx = g, gy = g ⊙ γ and gγ = Σ g ⊙ y without intermediate tensors (ResidualKernels).
     */
    public static Var addScaled(Var x, Var y, Var gamma) {
        Tensor xd = x.data(), yd = y.data(), gd = gamma.data();
        Tensor out = Ops.residualScaled(xd, yd, gd);
        return rec("addScaled", out, new Var[]{x, y, gamma}, new Tensor[]{yd, gd}, (g, n) -> {
            Tensor[] r = Ops.residualScaledBackward(g, yd, gd, n[1], n[2]);
            return grads(n[0] ? g : null, r[0], r[1]);
        });
    }

    /** Batched matmul [..., m, k] x [..., k, n] with broadcast batch dims. */
    public static Var matmul(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        return rec("matmul", Ops.matmul(ad, bd), new Var[]{a, b}, new Tensor[]{ad, bd}, (g, n) -> grads(
                n[0] ? Ops.reduceToShape(Ops.matmul(g, bd.transpose(-1, -2)), ad.shape()) : null,
                n[1] ? Ops.reduceToShape(Ops.matmul(ad.transpose(-1, -2), g), bd.shape()) : null));
    }

    /** PyTorch Linear: x [..., in], w [out, in], b [out] nullable; y = x·wᵀ + b. */
    public static Var linear(Var x, Var w, Var b) {
        Tensor xd = x.data(), wd = w.data(), bd = b == null ? null : b.data();
        int[] xs = xd.shape();
        int in = wd.size(1), out = wd.size(0);
        if (wd.dim() != 2 || xd.size(-1) != in)
            throw new IllegalArgumentException("linear: x " + Arrays.toString(xs) + " and w " + Arrays.toString(wd.shape()) + " (w must be [out, in])");
        Tensor x2 = xd.reshape(-1, in);
        Tensor y = Ops.linear(x2, wd, bd);
        int[] ys = xs.clone();
        ys[ys.length - 1] = out;
        y = y.reshape(ys);
        return rec("linear", y, new Var[]{x, w, b}, new Tensor[]{xd, wd}, (g, n) -> {
            Tensor g2 = g.reshape(-1, out);
            return grads(n[0] ? Ops.matmul(g2, wd).reshape(xs) : null,
                    n[1] ? Ops.matmul(g2.transpose(0, 1), x2) : null,
                    n.length > 2 && n[2] ? Ops.sum(g2, 0, false) : null);
        });
    }

    // ---------------------------------------------------------------- reductions

    /** Sum of all elements (rank 0). */
    public static Var sum(Var x) {
        int[] xs = x.shape();
        return rec("sum", Ops.sumAll(x.data()), new Var[]{x}, null, (g, n) -> grads(expandTo(g, xs)));
    }

    public static Var sum(Var x, int axis, boolean keepdim) {
        int[] xs = x.shape();
        int a = Shape.axis(axis, xs.length);
        return rec("sum", Ops.sum(x.data(), a, keepdim), new Var[]{x}, null,
                (g, n) -> grads(expandTo(keepdim ? g : g.unsqueeze(a), xs)));
    }

    public static Var mean(Var x) {
        int[] xs = x.shape();
        double inv = 1.0 / Math.max(1, Shape.numel(xs));
        return rec("mean", Ops.meanAll(x.data()), new Var[]{x}, null, (g, n) -> grads(expandTo(Ops.mulScalar(g, inv), xs)));
    }

    public static Var mean(Var x, int axis, boolean keepdim) {
        int[] xs = x.shape();
        int a = Shape.axis(axis, xs.length);
        double inv = 1.0 / xs[a];
        return rec("mean", Ops.mean(x.data(), a, keepdim), new Var[]{x}, null,
                (g, n) -> grads(expandTo(Ops.mulScalar(keepdim ? g : g.unsqueeze(a), inv), xs)));
    }

    // ---------------------------------------------------------------- softmax, norms, losses

    /** Softmax over the last axis. */
    public static Var softmax(Var x) {
        Tensor y = Ops.softmax(x.data());
        return rec("softmax", y, new Var[]{x}, new Tensor[]{y}, (g, n) -> grads(Ops.softmaxBackward(y, g)));
    }

    public static Var logSoftmax(Var x) {
        Tensor y = Ops.logSoftmax(x.data());
        return rec("logSoftmax", y, new Var[]{x}, new Tensor[]{y}, (g, n) -> grads(Ops.logSoftmaxBackward(y, g)));
    }

    /** LayerNorm over the last axis; w, b nullable ([C]). */
    public static Var layerNorm(Var x, Var w, Var b, double eps) {
        Tensor xd = x.data(), wd = w == null ? null : w.data(), bd = b == null ? null : b.data();
        Ops.LayerNormResult r = Ops.layerNorm(xd, wd, bd, eps);
        Tensor[] saved = wd == null ? new Tensor[]{xd, r.mean(), r.rstd()} : new Tensor[]{xd, wd, r.mean(), r.rstd()};
        return rec("layerNorm", r.y(), new Var[]{x, w, b}, saved, (g, n) -> {
            boolean affine = (n[1] && wd != null) || (n[2] && bd != null);
            Ops.LayerNormGrads lg = Ops.layerNormBackward(xd, g, wd, r.mean(), r.rstd(), affine);
            return grads(n[0] ? lg.gx() : null,
                    n[1] && wd != null ? lg.gGamma().reshape(wd.shape()) : null,
                    n[2] && bd != null ? lg.gBeta().reshape(bd.shape()) : null);
        });
    }

    /** Mean cross-entropy of logits [B, C] against class labels (fused log-softmax + NLL). */
    public static Var crossEntropy(Var logits, int[] labels) {
        Tensor ld = logits.data();
        if (ld.dim() != 2 || ld.size(0) != labels.length)
            throw new IllegalArgumentException("crossEntropy: logits " + Arrays.toString(ld.shape()) + " vs " + labels.length + " labels (need [B, C])");
        int B = ld.size(0), C = ld.size(1);
        for (int l : labels) if (l < 0 || l >= C) throw new IndexOutOfBoundsException("crossEntropy: label " + l + " out of range [0, " + C + ")");
        Tensor ls = Ops.logSoftmax(ld);
        // gather/scatter the label entries with index ops: the whole loss stays on the logits' device
        int[] at = new int[B];
        for (int i = 0; i < B; i++) at[i] = i * C + labels[i];
        Tensor picked = Ops.indexSelect(ls.reshape(B * C, 1), at);
        Tensor loss = Ops.mulScalar(Ops.sumAll(picked), -1.0 / B);
        return rec("crossEntropy", loss, new Var[]{logits}, new Tensor[]{ls}, (g, n) -> {
            // softmax − onehot, scaled by g / B
            Tensor minusOne = Ops.fill_(picked.copy(), -1.0);
            Tensor p = Ops.indexAdd(Ops.exp(ls).reshape(B * C, 1), at, minusOne).reshape(B, C);
            return grads(Ops.mul(p, Ops.mulScalar(g, 1.0 / B)));
        });
    }

    /** x / max(||x||₂, eps) over the last axis (as torch.nn.functional.normalize). */
    public static Var l2Normalize(Var x, double eps) {
        Var norm = sqrt(sum(square(x), -1, true));
        return div(x, clampMin(norm, eps));
    }

    // ---------------------------------------------------------------- shape ops

    public static Var reshape(Var x, int... shape) {
        int[] xs = x.shape();
        return rec("reshape", x.data().reshape(shape), new Var[]{x}, null, (g, n) -> grads(g.reshape(xs)));
    }

    public static Var unsqueeze(Var x, int axis) {
        int[] xs = x.shape();
        return rec("unsqueeze", x.data().unsqueeze(axis), new Var[]{x}, null, (g, n) -> grads(g.reshape(xs)));
    }

    /** A view with permuted axes. */
    public static Var permute(Var x, int... order) {
        int[] inv = new int[order.length];
        for (int i = 0; i < order.length; i++) inv[Shape.axis(order[i], order.length)] = i;
        return rec("permute", x.data().permute(order), new Var[]{x}, null, (g, n) -> grads(g.permute(inv).contiguous()));
    }

    public static Var transpose(Var x, int a, int b) {
        return rec("transpose", x.data().transpose(a, b), new Var[]{x}, null, (g, n) -> grads(g.transpose(a, b).contiguous()));
    }

    public static Var contiguous(Var x) {
        return rec("contiguous", x.data().contiguous(), new Var[]{x}, null, (g, n) -> grads(g));
    }

    /** Elements [start, end) along axis (a view); the gradient pads with zeros. */
    public static Var slice(Var x, int axis, int start, int end) {
        int[] xs = x.shape();
        int a = Shape.axis(axis, xs.length);
        Tensor out = x.data().slice(a, start, end);
        int s0 = start < 0 ? start + xs[a] : start;
        int len = out.size(a);
        return rec("slice", out, new Var[]{x}, null, (g, n) -> grads(padAxis(g, a, s0, xs[a] - s0 - len)));
    }

    /** Drops an axis by picking one index (a view). */
    public static Var select(Var x, int axis, int index) {
        int[] xs = x.shape();
        int a = Shape.axis(axis, xs.length);
        int i = index < 0 ? index + xs[a] : index;
        return rec("select", x.data().select(a, i), new Var[]{x}, null,
                (g, n) -> grads(padAxis(g.unsqueeze(a), a, i, xs[a] - i - 1)));
    }

    private static Tensor padAxis(Tensor g, int axis, int before, int after) {
        if (before == 0 && after == 0) return g.contiguous();
        java.util.List<Tensor> parts = new java.util.ArrayList<>();
        int[] s = g.shape();
        if (before > 0) { s[axis] = before; parts.add(Tensor.zeros(g.dtype(), s)); }
        parts.add(g);
        if (after > 0) { int[] s2 = g.shape(); s2[axis] = after; parts.add(Tensor.zeros(g.dtype(), s2)); }
        return Ops.cat(axis, parts.toArray(new Tensor[0]));
    }

    public static Var cat(int axis, Var... xs) {
        Tensor[] ts = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) ts[i] = xs[i].data();
        Tensor out = Ops.cat(axis, ts);
        int a = Shape.axis(axis, out.dim());
        int[] sizes = new int[xs.length];
        for (int i = 0; i < xs.length; i++) sizes[i] = ts[i].size(a);
        return rec("cat", out, xs, null, (g, n) -> {
            Tensor[] r = new Tensor[xs.length];
            int at = 0;
            for (int i = 0; i < xs.length; i++) {
                if (n[i]) r[i] = g.slice(a, at, at + sizes[i]).contiguous();
                at += sizes[i];
            }
            return r;
        });
    }

    /** Rows of x along axis 0. */
    public static Var indexSelect(Var x, int[] rows) {
        int[] xs = x.shape();
        int[] rc = rows.clone();
        return rec("indexSelect", Ops.indexSelect(x.data(), rc), new Var[]{x}, null,
                (g, n) -> grads(Ops.indexAdd(Tensor.zeros(g.dtype(), xs), rc, g)));
    }

    /** out = base; out[rows[i]] += src[i] (axis 0). */
    public static Var indexAdd(Var base, int[] rows, Var src) {
        int[] rc = rows.clone();
        return rec("indexAdd", Ops.indexAdd(base.data(), rc, src.data()), new Var[]{base, src}, null,
                (g, n) -> grads(n[0] ? g : null, n[1] ? Ops.indexSelect(g, rc) : null));
    }

    // ---------------------------------------------------------------- attention, convolutions, resize

    /**
     * Multi-head self-attention on a fused qkv [B, N, 3D] → [B, N, D]; RoPE (nullable) on q and k of the
     * last N - prefix tokens. Saves qkv, out and the log-sum-exp for the fused backward.
     */
    public static Var attention(Var qkv, int heads, RopeTable rope, int prefix) {
        Tensor q = qkv.data();
        Ops.AttentionResult r = Ops.attention(q, heads, rope, prefix);
        return rec("attention", r.out(), new Var[]{qkv}, new Tensor[]{q, r.out(), r.lse()},
                (g, n) -> grads(Ops.attentionBackward(q, r.out(), r.lse(), g, heads, rope, prefix)));
    }

    /** PyTorch Conv2d with square stride and padding: x [B,C,H,W], w [O,C,kh,kw], b [O] nullable. */
    public static Var conv2d(Var x, Var w, Var b, int stride, int pad) {
        Tensor xd = x.data(), wd = w.data();
        Tensor y = Ops.conv2d(xd, wd, b == null ? null : b.data(), stride, pad);
        return rec("conv2d", y, new Var[]{x, w, b}, new Tensor[]{xd, wd}, (g, n) ->
                Ops.conv2dBackward(xd, wd, g, stride, stride, pad, pad, n[0], n[1], n[2]));
    }

    /** Depthwise conv (stride 1): x [B,C,H,W], w [C,1,k,k], b [C] nullable. */
    public static Var depthwiseConv2d(Var x, Var w, Var b, int pad) {
        Tensor xd = x.data(), wd = w.data();
        Tensor y = Ops.depthwiseConv2d(xd, wd, b == null ? null : b.data(), pad);
        return rec("depthwiseConv2d", y, new Var[]{x, w, b}, new Tensor[]{xd, wd}, (g, n) ->
                Ops.depthwiseConv2dBackward(xd, wd, g, pad, n[0], n[1], n[2]));
    }

    /** Interpolation of [..., H, W] to [..., oh, ow]; mode "bilinear" or "bicubic" (align_corners=False). */
    public static Var resize(Var x, int oh, int ow, String mode, boolean antialias) {
        int h = x.size(-2), w = x.size(-1);
        return rec("resize", Ops.resize(x.data(), oh, ow, mode, antialias), new Var[]{x}, null,
                (g, n) -> grads(Ops.resizeBackward(g, h, w, mode, antialias)));
    }

    /** Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p); identity when not training. */
    public static Var dropout(Var x, double p, Random rng, boolean training) {
        if (!training || p == 0) return x;
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        Tensor xd = x.data();
        Tensor mask = Tensor.zeros(xd.dtype(), xd.shape());
        double keep = 1.0 / (1.0 - p);
        for (int i = 0; i < mask.numel(); i++) if (rng.nextDouble() >= p) mask.storage().set(i, keep);
        return mul(x, Var.constant(mask));
    }
}
