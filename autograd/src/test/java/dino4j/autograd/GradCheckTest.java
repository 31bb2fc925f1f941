package dino4j.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dino4j.kernels.RopeKernels;
import dino4j.kernels.RopeTable;
import dino4j.kernels.UnaryOp;
import dino4j.tensor.DType;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Float64 finite-difference checks of every differentiable op in {@link F}. */
class GradCheckTest {
    private final Random rng = new Random(42);

    private Tensor randn(int... shape) { return Tensor.randn(rng, DType.F64, shape); }

    /** Uniform in [lo, hi). */
    private Tensor rand(double lo, double hi, int... shape) { return Tensor.rand(rng, DType.F64, lo, hi, shape); }

    private static void ok(Function<List<Var>, Var> fn, Tensor... in) { GradCheck.assertGradients(fn, in); }

    private static void ok(double tol, Function<List<Var>, Var> fn, Tensor... in) { GradCheck.assertGradients(tol, fn, in); }

    @Test void broadcastingBinaries() {
        ok(v -> F.add(v.get(0), v.get(1)), randn(2, 3, 4), randn(3, 1));
        ok(v -> F.sub(v.get(0), v.get(1)), randn(4), randn(2, 3, 4));
        ok(v -> F.mul(v.get(0), v.get(1)), randn(2, 1, 4), randn(3, 1));
        ok(v -> F.div(v.get(0), v.get(1)), randn(2, 3, 4), rand(1, 2, 1, 4));
        ok(v -> F.maximum(v.get(0), v.get(1)), randn(2, 3), randn(3));
        ok(v -> F.minimum(v.get(0), v.get(1)), randn(2, 3), randn(2, 1));
        ok(v -> F.mul(v.get(0), v.get(0)), randn(3, 2)); // same input twice
    }

    @Test void layerScaleResidual() {
        ok(v -> F.addScaled(v.get(0), v.get(1), v.get(2)), randn(2, 3, 5), randn(2, 3, 5), randn(5));
        // and the fused F32 node equals the composite x + y·γ in value and gradients
        Tensor x = randn(3, 7).to(dino4j.tensor.DType.F32), y = randn(3, 7).to(dino4j.tensor.DType.F32), g = randn(7).to(dino4j.tensor.DType.F32);
        Var[] a = {Var.leaf(x), Var.leaf(y), Var.leaf(g)}, b = {Var.leaf(x), Var.leaf(y), Var.leaf(g)};
        Var fa = F.addScaled(a[0], a[1], a[2]), fb = F.add(b[0], F.mul(b[1], b[2]));
        org.junit.jupiter.api.Assertions.assertArrayEquals(fb.data().toFloatArray(), fa.data().toFloatArray(), 1e-6f);
        Tensor seed = randn(3, 7).to(dino4j.tensor.DType.F32);
        fa.backward(seed);
        fb.backward(seed);
        for (int i = 0; i < 3; i++)
            org.junit.jupiter.api.Assertions.assertArrayEquals(b[i].grad().toFloatArray(), a[i].grad().toFloatArray(), 1e-5f, "grad " + i);
    }

    @Test void scalarOps() {
        ok(v -> F.addScalar(v.get(0), 0.7), randn(2, 3));
        ok(v -> F.mulScalar(v.get(0), -1.3), randn(2, 3));
        ok(v -> F.pow(v.get(0), 2.5), rand(0.5, 2, 2, 3));
        ok(v -> F.clampMin(v.get(0), 0.1), randn(3, 4));
    }

    @Test void unaries() {
        Tensor x = randn(3, 4);
        for (UnaryOp op : new UnaryOp[]{UnaryOp.EXP, UnaryOp.TANH, UnaryOp.SIGMOID, UnaryOp.RELU, UnaryOp.GELU, UnaryOp.SILU,
                UnaryOp.SQUARE, UnaryOp.SIN, UnaryOp.COS, UnaryOp.ABS, UnaryOp.NEG})
            ok(v -> F.unary(op, v.get(0)), x);
        Tensor pos = rand(0.5, 3, 3, 4);
        for (UnaryOp op : new UnaryOp[]{UnaryOp.LOG, UnaryOp.SQRT, UnaryOp.RSQRT, UnaryOp.RECIPROCAL})
            ok(v -> F.unary(op, v.get(0)), pos);
        ok(v -> F.neg(v.get(0)), x);
        ok(v -> F.exp(v.get(0)), x);
        ok(v -> F.gelu(v.get(0)), Tensor.of(new double[]{-4, -3.2, -2.9, -1, 0.3, 2.99, 3.01, 5}, 8));
        ok(v -> F.swiglu(v.get(0), v.get(1)), Tensor.of(new double[]{-9, -4, -1, -0.2, 0, 0.4, 2, 7}, 2, 4), randn(2, 4));
    }

    @Test void matmulAndLinear() {
        ok(v -> F.matmul(v.get(0), v.get(1)), randn(3, 4), randn(4, 5));
        ok(v -> F.matmul(v.get(0), v.get(1)), randn(2, 3, 4), randn(2, 4, 5));
        ok(v -> F.matmul(v.get(0), v.get(1)), randn(2, 1, 3, 4), randn(3, 4, 2));
        ok(v -> F.matmul(v.get(0), v.get(1)), randn(2, 3, 4), randn(4, 5)); // weight-like b
        ok(v -> F.matmul(v.get(0), F.transpose(v.get(1), -1, -2)), randn(2, 3, 4), randn(2, 5, 4));
        ok(v -> F.matmul(F.transpose(v.get(0), 0, 1), v.get(1)), randn(4, 3), randn(4, 2));
        ok(v -> F.linear(v.get(0), v.get(1), v.get(2)), randn(2, 3, 4), randn(5, 4), randn(5));
        ok(v -> F.linear(v.get(0), v.get(1), null), randn(3, 4), randn(2, 4));
    }

    @Test void reductions() {
        ok(v -> F.sum(v.get(0)), randn(2, 3));
        ok(v -> F.sum(v.get(0), 1, false), randn(2, 3, 4));
        ok(v -> F.sum(v.get(0), -1, true), randn(2, 3, 4));
        ok(v -> F.mean(v.get(0)), randn(2, 3));
        ok(v -> F.mean(v.get(0), 0, false), randn(2, 3, 4));
        ok(v -> F.mean(v.get(0), 2, true), randn(2, 3, 4));
    }

    @Test void softmaxFamilyAndLosses() {
        ok(v -> F.softmax(v.get(0)), randn(3, 5));
        ok(v -> F.logSoftmax(v.get(0)), randn(2, 2, 5));
        ok(v -> F.crossEntropy(v.get(0), new int[]{1, 0, 4, 4}), randn(4, 5));
        ok(v -> F.l2Normalize(v.get(0), 1e-12), randn(3, 4));
    }

    @Test void layerNorm() {
        ok(v -> F.layerNorm(v.get(0), v.get(1), v.get(2), 1e-6), randn(2, 3, 6), randn(6), randn(6));
        ok(v -> F.layerNorm(v.get(0), null, null, 1e-5), randn(4, 5));
        ok(v -> F.layerNorm(v.get(0), v.get(1), null, 1e-6), randn(3, 5), randn(5));
    }

    @Test void shapeOps() {
        ok(v -> F.reshape(v.get(0), 3, -1), randn(2, 3, 2));
        ok(v -> F.mul(F.permute(v.get(0), 2, 0, 1), v.get(1)), randn(2, 3, 4), randn(4, 2, 3));
        ok(v -> F.transpose(v.get(0), 0, 2), randn(2, 3, 4));
        ok(v -> F.contiguous(F.transpose(v.get(0), 0, 1)), randn(2, 3));
        ok(v -> F.slice(v.get(0), 1, 1, 3), randn(2, 4, 3));
        ok(v -> F.slice(v.get(0), 0, 0, 2), randn(3, 2));
        ok(v -> F.select(v.get(0), -1, 1), randn(2, 3, 4));
        ok(v -> F.unsqueeze(v.get(0), 1), randn(2, 3));
        ok(v -> F.cat(1, v.get(0), v.get(1), v.get(0)), randn(2, 1, 3), randn(2, 2, 3));
    }

    @Test void indexing() {
        ok(v -> F.indexSelect(v.get(0), new int[]{2, 0, 2}), randn(3, 2, 2));
        ok(v -> F.indexAdd(v.get(0), new int[]{1, 3, 1}, v.get(1)), randn(4, 3), randn(3, 3));
        // batch-subset stochastic depth: x[idx] += s * branch(x[idx])
        ok(v -> {
            int[] idx = {2, 0};
            Var sub = F.indexSelect(v.get(0), idx);
            return F.indexAdd(v.get(0), idx, F.mulScalar(F.tanh(sub), 1.5));
        }, randn(3, 2, 4));
    }

    @Test void attention() {
        // no rope, prefix 0: B=2, N=5, D=8, 2 heads
        ok(v -> F.attention(v.get(0), 2, null, 0), randn(2, 5, 24));
        // rope on all tokens: 2x3 grid, head dim 4
        RopeTable r23 = RopeKernels.table(2, 3, RopeKernels.periods(4, 100));
        ok(v -> F.attention(v.get(0), 2, r23, 0), randn(1, 6, 24));
        // rope with prefix 2 (cls + register): 2x2 grid, head dim 8
        RopeTable r22 = RopeKernels.table(2, 2, RopeKernels.periods(8, 100));
        ok(v -> F.attention(v.get(0), 2, r22, 2), randn(2, 6, 48));
        // composed with linear projections
        ok(v -> F.linear(F.attention(F.linear(v.get(0), v.get(1), null), 1, r22, 1), v.get(2), null),
                randn(1, 5, 4), randn(24, 4), randn(3, 8));
    }

    @Test void convolutions() {
        // patch-embed style: kernel = stride = 16
        ok(v -> F.conv2d(v.get(0), v.get(1), v.get(2), 16, 0), randn(1, 1, 32, 32), randn(2, 1, 16, 16), randn(2));
        // 3x3, stride 1, pad 1
        ok(v -> F.conv2d(v.get(0), v.get(1), v.get(2), 1, 1), randn(2, 2, 5, 5), randn(3, 2, 3, 3), randn(3));
        ok(v -> F.conv2d(v.get(0), v.get(1), null, 2, 1), randn(1, 2, 6, 5), randn(2, 2, 3, 3));
        // ConvNeXt depthwise 7x7 pad 3
        ok(v -> F.depthwiseConv2d(v.get(0), v.get(1), v.get(2), 3), randn(1, 2, 6, 6), randn(2, 1, 7, 7), randn(2));
        ok(v -> F.depthwiseConv2d(v.get(0), v.get(1), null, 1), randn(2, 3, 4, 5), randn(3, 1, 3, 3));
    }

    @Test void resize() {
        for (String mode : new String[]{"bilinear", "bicubic"})
            for (boolean aa : new boolean[]{false, true}) {
                ok(v -> F.resize(v.get(0), 3, 4, mode, aa), randn(1, 2, 5, 7));
                ok(v -> F.resize(v.get(0), 8, 9, mode, aa), randn(2, 1, 5, 6));
            }
    }

    @Test void dropout() {
        ok(v -> F.dropout(v.get(0), 0.3, new Random(7), true), randn(4, 5));
        Tensor x = randn(3, 3);
        Var v = Var.leaf(x);
        assertTrue(F.dropout(v, 0.5, new Random(1), false) == v);
    }

    @Test void checkerCatchesAWrongGradient() {
        // a deliberately wrong backward (factor 2 off) must be reported
        Function<List<Var>, Var> wrong = v -> Graph.record("wrongSquare", Ops.square(v.get(0).data()), new Var[]{v.get(0)}, null,
                (g, n) -> new Tensor[]{Ops.mul(g, v.get(0).data())});
        GradCheck.Result r = GradCheck.check(wrong, randn(3));
        assertTrue(r.maxRelError() > 0.1, r.toString());
    }
}
