package dino4j.tensor;

import dino4j.kernels.BinaryOp;
import dino4j.kernels.RopeTable;
import dino4j.kernels.UnaryOp;

/**
 * One implementation of the tensor math (the CPU, later CUDA). {@link Ops} validates arguments
 * (shapes, dtypes) and then asks {@link Backends#select} for the first registered backend whose
 * {@link #canRun} accepts the op and its arguments; the CPU backend accepts everything.
 *
 * <p>Contract: inputs may be arbitrary strided views; every returned tensor is new and contiguous.
 * Optional operands (layer-norm gamma/beta, conv bias) are null, also in {@link #canRun}'s args.
 * Methods returning arrays document their order. Shapes and dtypes are already checked by {@link Ops}.
 */
public interface Backend {
    String name();

    /** The explicit "can I run this" check: {@code op} is the {@link Ops} method name. */
    boolean canRun(String op, Tensor... args);

    /** Broadcasting binary op; {@code outShape} is the broadcast shape of a and b. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b, int[] outShape);

    Tensor unary(UnaryOp op, Tensor x);

    /** {@code gy * f'(x)} (same shape as x). */
    Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gy);

    /** Batched matmul {@code [..., m, k] x [..., k, n]} with broadcast batch dims (rank ≥ 2 each). */
    Tensor matmul(Tensor a, Tensor b);

    /**
     * PyTorch Linear on rows: x [M, K] · wᵀ (w [N, K]) + bias [N] (nullable) → [M, N]. The default composes
     * matmul and add; a backend fuses the bias into the GEMM's C initialisation.
     */
    default Tensor linear(Tensor x, Tensor w, Tensor bias) {
        Tensor y = matmul(x, w.transpose(0, 1));
        return bias == null ? y : binary(BinaryOp.ADD, y, bias, y.shape());
    }

    /** Reductions over one axis: kind is "sum", "mean" or "max". */
    Tensor reduce(String kind, Tensor x, int axis, boolean keepdim);

    /** Index of the maximum along an axis (I64). */
    Tensor argmax(Tensor x, int axis, boolean keepdim);

    /** Rank-0 tensor holding the sum of all elements. */
    Tensor sumAll(Tensor x);

    Tensor softmax(Tensor x, boolean log);

    Tensor softmaxBackward(Tensor y, Tensor gy, boolean log);

    /** Returns {y, mean [rows], rstd [rows]} (rows = numel / last dim). gamma / beta nullable. */
    Tensor[] layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps);

    /** Returns {gx, gGamma, gBeta} (the last two null unless wantAffine). */
    Tensor[] layerNormBackward(Tensor x, Tensor gy, Tensor gamma, Tensor mean, Tensor rstd, boolean wantAffine);

    /** Fused attention on qkv [B,N,3D]; returns {out [B,N,D], lse [B,H,N]}. */
    Tensor[] attention(Tensor qkv, int heads, RopeTable rope, int prefix);

    /** Gradient w.r.t. qkv [B,N,3D]. */
    Tensor attentionBackward(Tensor qkv, Tensor out, Tensor lse, Tensor gOut, int heads, RopeTable rope, int prefix);

    /** x [B,C,H,W], w [O,C,kh,kw], bias [O] nullable → [B,O,OH,OW]. */
    Tensor conv2d(Tensor x, Tensor w, Tensor bias, int sh, int sw, int ph, int pw);

    /** Returns {gx, gw, gbias}, each null unless wanted. */
    Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor gy, int sh, int sw, int ph, int pw, boolean needX, boolean needW, boolean needB);

    /** x [B,C,H,W], w [C,1,k,k], bias [C] nullable, stride 1, symmetric pad. */
    Tensor depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int pad);

    Tensor[] depthwiseConv2dBackward(Tensor x, Tensor w, Tensor gy, int pad, boolean needX, boolean needW, boolean needB);

    /** x [..., H, W] → [..., oh, ow]; mode "bilinear" or "bicubic" (align_corners=False). */
    Tensor resize(Tensor x, int oh, int ow, String mode, boolean antialias);

    /** Adjoint of {@link #resize}: gy [..., oh, ow] → [..., h, w]. */
    Tensor resizeBackward(Tensor gy, int h, int w, String mode, boolean antialias);

    Tensor cat(int axis, Tensor[] ts);

    /** A contiguous copy of any strided view (same dtype). */
    Tensor copy(Tensor x);

    /**
     * The LayerScale residual {@code x + y ⊙ γ} (x, y contiguous [rows, C], γ [C]) in one pass.
     */
    Tensor residualScaled(Tensor x, Tensor y, Tensor gamma);

    /** The SwiGLU gate {@code silu(a) ⊙ b} (a, b the same shape), one fused pass. */
    Tensor swiglu(Tensor a, Tensor b);

    /** Backward of {@link #swiglu}: {ga = gy ⊙ b ⊙ silu'(a), gb = gy ⊙ silu(a)}, one fused pass. */
    Tensor[] swigluBackward(Tensor a, Tensor b, Tensor gy);

    /** Returns {gy = g ⊙ γ (or null), gγ = Σ_rows g ⊙ y (or null)}; gx is g itself. */
    Tensor[] residualScaledBackward(Tensor g, Tensor y, Tensor gamma, boolean needY, boolean needGamma);

    Tensor indexSelect(Tensor x, int[] rows);

    /** out = copy of base; out[rows[i]] += src[i] (axis 0). */
    Tensor indexAdd(Tensor base, int[] rows, Tensor src);

    /** dst += src (dst contiguous; src broadcastable to dst). */
    void addInPlace(Tensor dst, Tensor src);

    void fill(Tensor dst, double value);

    /** In-place AdamW on flat contiguous tensors (param, m, v updated). step starts at 1. */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
               double weightDecay, long step);

    /**
     * Sinkhorn-Knopp targets of teacher logits [B, K] (rows = samples): {@code exp(logits / temp)} balanced
     * over {@code iters} column/row normalisations with {@code btot} samples in all (spec §3.2).
     */
    Tensor sinkhorn(Tensor logits, double temp, double btot, int iters);

    /**
     * KoLeo of one group of features x [N, D] (spec §3.4): {@code −mean log(‖x̂_i − x̂_nn(i) + ε‖ + ε)}, x̂ the
     * L2-normalised rows, nn(i) the nearest other row by dot product. Backward: ∂/∂x.
     */
    FusedLoss koleo(Tensor x);

    /**
     * Gram anchoring loss of student patches s vs teacher patches t, both [N, P, D]: the mean over n, i, j of
     * {@code ((ŜŜᵀ)_ij − (T̂T̂ᵀ)_ij)²} with rows L2-normalised; the P×P matrices need not be stored whole.
     * Backward: ∂/∂s, ∂/∂t.
     */
    FusedLoss gram(Tensor s, Tensor t);

    /** teacher = momentum * teacher + (1 - momentum) * student, in place. */
    void ema(Tensor teacher, Tensor student, double momentum);
}
