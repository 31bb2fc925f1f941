package dino4j.tensor;

import dino4j.kernels.BinaryOp;
import dino4j.kernels.GemmCuda;
import dino4j.kernels.RopeKernels;
import dino4j.kernels.RopeTable;
import dino4j.kernels.UnaryOp;
import dino4j.runtime.Cuda;
import dino4j.runtime.Transfers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link Backend} op through {@link Ops} on CUDA tensors against the same op on the CPU backend
 * (float32, relative L2 ≤ 1e-5; matmuls in exact FP32 mode), plus the lazy host/device coherence rules.
 * Skipped where there is no GPU.
 */
@Tag("gpu")
class CudaBackendTest {
    static CudaBackend be;

    @BeforeAll static void gpu() {
        Assumptions.assumeTrue(Cuda.available(), Cuda.status());
        be = CudaBackend.install();
        be.setMatmulPrecision(GemmCuda.Precision.FP32);
    }

    static final Random R = new Random(42);

    static Tensor rnd(int... shape) { return Tensor.randn(R, shape); }

    static Tensor pos(int... shape) { return Tensor.rand(R, DType.F32, 0.2, 2.0, shape); }

    static double rel(Tensor got, Tensor ref) {
        float[] a = got.toFloatArray(), b = ref.toFloatArray();
        assertEquals(b.length, a.length, "element count");
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) { double d = (double) a[i] - b[i]; num += d * d; den += (double) b[i] * b[i]; }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Runs f on CPU tensors and on CUDA copies of them; the CUDA result must live on the GPU and match. */
    static void same(String what, Function<Tensor[], Tensor> f, Tensor... cpu) {
        Tensor ref = f.apply(cpu);
        Tensor[] gpu = new Tensor[cpu.length];
        for (int i = 0; i < cpu.length; i++) gpu[i] = cpu[i] == null ? null : cpu[i].cuda();
        Tensor got = f.apply(gpu);
        assertSame(Device.CUDA, got.device(), what + ": result should stay on the GPU");
        assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        double e = rel(got, ref);
        assertTrue(e <= 1e-5, what + ": relative L2 error " + e);
    }

    @Test void elementwise() {
        for (BinaryOp op : BinaryOp.values()) {
            Tensor a = op == BinaryOp.POW ? pos(3, 1, 5) : rnd(3, 1, 5), b = op == BinaryOp.DIV ? pos(1, 4, 1) : rnd(1, 4, 1);
            same("binary " + op, t -> Ops.binary(op, t[0], t[1]), a, b);
        }
        same("bias row", t -> Ops.add(t[0], t[1]), rnd(7, 33), rnd(33));
        same("transposed view", t -> Ops.mul(t[0].transpose(0, 1), t[1]), rnd(5, 6), rnd(6, 5));
        for (UnaryOp op : UnaryOp.values()) {
            boolean domain = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || op == UnaryOp.RECIPROCAL;
            Tensor x = domain ? pos(4, 37) : rnd(4, 37);
            same("unary " + op, t -> Ops.unary(op, t[0]), x);
            same("unary backward " + op, t -> Ops.unaryBackward(op, t[0], t[1]), x, rnd(4, 37));
        }
    }

    @Test void matmulAndLinear() {
        same("matmul 2d", t -> Ops.matmul(t[0], t[1]), rnd(33, 17), rnd(17, 65));
        same("matmul batched broadcast", t -> Ops.matmul(t[0], t[1]), rnd(2, 3, 9, 17), rnd(17, 5));
        same("matmul both batched", t -> Ops.matmul(t[0], t[1]), rnd(4, 9, 17), rnd(4, 17, 6));
        same("matmul transposed b", t -> Ops.matmul(t[0], t[1].transpose(-1, -2)), rnd(4, 9, 17), rnd(4, 6, 17));
        same("linear + bias", t -> Ops.linear(t[0], t[1], t[2]), rnd(50, 24), rnd(31, 24), rnd(31));
        same("linear no bias", t -> Ops.linear(t[0], t[1], null), rnd(50, 24), rnd(31, 24));
    }

    @Test void reductionsSoftmaxNorm() {
        for (int axis = 0; axis < 3; axis++) {
            int ax = axis;
            same("sum axis " + ax, t -> Ops.sum(t[0], ax, false), rnd(5, 7, 9));
            same("mean axis " + ax, t -> Ops.mean(t[0], ax, true), rnd(5, 7, 9));
            same("max axis " + ax, t -> Ops.max(t[0], ax, false), rnd(5, 7, 9));
        }
        Tensor x = rnd(6, 11);
        assertArrayEquals(Ops.argmax(x, 1, false).storage().longs(), Ops.argmax(x.cuda(), 1, false).storage().longs(), "argmax");
        same("sumAll", t -> Ops.sumAll(t[0]), rnd(1000, 37));
        same("softmax", t -> Ops.softmax(t[0]), rnd(9, 1000));
        same("logSoftmax", t -> Ops.logSoftmax(t[0]), rnd(9, 70000));
        same("softmax backward", t -> Ops.softmaxBackward(Ops.softmax(t[0]), t[1]), rnd(9, 130), rnd(9, 130));
        same("logSoftmax backward", t -> Ops.logSoftmaxBackward(Ops.logSoftmax(t[0]), t[1]), rnd(9, 130), rnd(9, 130));
        same("layerNorm y", t -> Ops.layerNorm(t[0], t[1], t[2], 1e-6).y(), rnd(13, 384), rnd(384), rnd(384));
        same("layerNorm gx", t -> {
            var r = Ops.layerNorm(t[0], t[1], t[2], 1e-6);
            return Ops.layerNormBackward(t[0], t[3], t[1], r.mean(), r.rstd(), true).gx();
        }, rnd(13, 384), rnd(384), rnd(384), rnd(13, 384));
        same("layerNorm gGamma", t -> {
            var r = Ops.layerNorm(t[0], t[1], t[2], 1e-6);
            return Ops.layerNormBackward(t[0], t[3], t[1], r.mean(), r.rstd(), true).gGamma();
        }, rnd(13, 384), rnd(384), rnd(384), rnd(13, 384));
        same("sinkhorn", t -> Ops.sinkhorn(t[0], 0.07, 37, 3), rnd(37, 1003));
        same("sinkhorn 3-d", t -> Ops.sinkhorn(t[0], 0.04, 2 * 19, 3), rnd(2, 19, 4096));
        same("swiglu", t -> Ops.swiglu(t[0], t[1]), rnd(7, 300), rnd(7, 300));
        same("swiglu ga", t -> Ops.swigluBackward(t[0], t[1], t[2])[0], rnd(7, 300), rnd(7, 300), rnd(7, 300));
        same("swiglu gb", t -> Ops.swigluBackward(t[0], t[1], t[2])[1], rnd(7, 300), rnd(7, 300), rnd(7, 300));
        same("koleo", t -> Ops.koleo(t[0]).loss(), rnd(200, 96));
        same("koleo backward", t -> Ops.koleo(t[0]).backward(0.7, true)[0], rnd(200, 96));
        same("gram", t -> Ops.gram(t[0], t[1]).loss(), rnd(2, 150, 64), rnd(2, 150, 64));
        same("gram backward s", t -> Ops.gram(t[0], t[1]).backward(1.3, true, true)[0], rnd(2, 150, 64), rnd(2, 150, 64));
        same("gram backward t", t -> Ops.gram(t[0], t[1]).backward(1.3, true, true)[1], rnd(2, 150, 64), rnd(2, 150, 64));
        same("residual", t -> Ops.residualScaled(t[0], t[1], t[2]), rnd(2, 9, 48), rnd(2, 9, 48), rnd(48));
        same("residual gy", t -> Ops.residualScaledBackward(t[0], t[1], t[2], true, true)[0], rnd(2, 9, 48), rnd(2, 9, 48), rnd(48));
        same("residual gamma", t -> Ops.residualScaledBackward(t[0], t[1], t[2], true, true)[1], rnd(2, 9, 48), rnd(2, 9, 48), rnd(48));
    }

    @Test void attentionWithRope() {
        int B = 2, H = 3, Dh = 32, h = 4, w = 5, prefix = 5, N = prefix + h * w, D = H * Dh;
        RopeTable rope = RopeKernels.table(h, w, RopeKernels.periods(Dh, 100.0));
        same("attention out", t -> Ops.attention(t[0], H, rope, prefix).out(), rnd(B, N, 3 * D));
        same("attention lse", t -> Ops.attention(t[0], H, rope, prefix).lse(), rnd(B, N, 3 * D));
        same("attention backward", t -> {
            var r = Ops.attention(t[0], H, rope, prefix);
            return Ops.attentionBackward(t[0], r.out(), r.lse(), t[1], H, rope, prefix);
        }, rnd(B, N, 3 * D), rnd(B, N, D));
    }

    @Test void convolutionsResizeIndexing() {
        same("patch conv", t -> Ops.conv2d(t[0], t[1], t[2], 16, 0), rnd(2, 3, 64, 48), rnd(24, 3, 16, 16), rnd(24));
        same("3x3 conv", t -> Ops.conv2d(t[0], t[1], t[2], 1, 1), rnd(2, 5, 9, 11), rnd(7, 5, 3, 3), rnd(7));
        for (int k = 0; k < 3; k++) {
            int which = k;
            same("conv backward " + k, t -> Ops.conv2dBackward(t[0], t[1], t[2], 2, 2, 1, 1, true, true, true)[which],
                    rnd(2, 5, 9, 11), rnd(7, 5, 3, 3), rnd(2, 7, 5, 6));
            same("depthwise backward " + k, t -> Ops.depthwiseConv2dBackward(t[0], t[1], t[2], 3, true, true, true)[which],
                    rnd(2, 8, 10, 9), rnd(8, 1, 7, 7), rnd(2, 8, 10, 9));
        }
        same("depthwise", t -> Ops.depthwiseConv2d(t[0], t[1], t[2], 3), rnd(2, 8, 10, 9), rnd(8, 1, 7, 7), rnd(8));
        same("bicubic down aa", t -> Ops.resize(t[0], 14, 12, "bicubic", true), rnd(2, 3, 56, 45));
        same("bilinear up", t -> Ops.resize(t[0], 32, 33, "bilinear", false), rnd(2, 3, 28, 28));
        same("resize backward", t -> Ops.resizeBackward(t[0], 56, 45, "bicubic", true), rnd(2, 3, 14, 12));
        same("cat axis 1", t -> Ops.cat(1, t[0], t[1], t[2]), rnd(2, 1, 8), rnd(2, 4, 8), rnd(2, 3, 8));
        same("cat of views", t -> Ops.cat(0, t[0].transpose(0, 1), t[1]), rnd(4, 6), rnd(2, 4));
        same("indexSelect", t -> Ops.indexSelect(t[0], new int[]{3, 0, 3, 7}), rnd(8, 5, 3));
        same("indexAdd", t -> Ops.indexAdd(t[0], new int[]{1, 1, 6, 0}, t[1]), rnd(8, 5), rnd(4, 5));
    }

    @Test void inPlaceAndOptimizer() {
        same("addInPlace broadcast", t -> Ops.addInPlace(t[0].copy(), t[1]), rnd(6, 9), rnd(9));
        same("fill", t -> Ops.fill_(t[0].copy(), 2.5), rnd(4, 4));
        same("adamw", t -> {
            Tensor p = t[0].copy(), m = t[2].copy(), v = Ops.abs(t[3]);
            for (int s = 1; s <= 3; s++) Ops.adamw(p, t[1], m, v, 1e-2, 0.9, 0.999, 1e-8, 0.05, s);
            return Ops.cat(0, p, m, v);
        }, rnd(1000), rnd(1000), rnd(1000), rnd(1000));
        same("ema", t -> { Tensor te = t[0].copy(); Ops.ema(te, t[1], 0.99); return te; }, rnd(777), rnd(777));
    }

    @Test void coherenceMovesDataOnlyWhenTheOtherSideReads() {
        Tensor x = rnd(1000).cuda();
        Transfers.reset();
        Tensor y = Ops.mulScalar(x, 2);           // uploads x (and the scalar) once
        long up = Transfers.uploads();
        Tensor z = Ops.addScalar(y, 1);           // y is device-born: no download, no upload of y
        assertEquals(0, Transfers.downloads(), "no download while results stay on the GPU");
        assertTrue(Transfers.uploads() - up <= 1, "only the scalar may be uploaded");
        float[] host = z.toFloatArray();          // one download
        assertEquals(1, Transfers.downloads());
        float[] xs = x.toFloatArray();
        for (int i = 0; i < 1000; i++) assertEquals(xs[i] * 2 + 1, host[i], 1e-6);
        // a host write makes the device copy stale: the next GPU op sees the new value
        z.storage().floats()[0] = 100f;
        assertEquals(200f, Ops.mulScalar(z, 2).toFloatArray()[0], 0f);
        // a slice fill on the GPU keeps the rest of the storage
        Tensor big = rnd(10, 10).cuda();
        float[] before = big.toFloatArray();
        Ops.fill_(big.select(0, 3), 7);
        float[] after = big.toFloatArray();
        for (int i = 0; i < 100; i++) assertEquals(i / 10 == 3 ? 7f : before[i], after[i], 0f, "element " + i);
    }

    @Test void arenaFreesWhatWasBornInsideAndKeepsTheRest() {
        Tensor param = rnd(256).cuda(), m = Tensor.zeros(256), v = Tensor.zeros(256);
        Tensor grad = rnd(256).cuda();
        float[] before = param.toFloatArray();
        Tensor inside, readInside;
        double sum;
        try (var arena = StepArena.open("test")) {
            inside = Ops.mulScalar(grad, 2);                       // born on the device
            readInside = Ops.addScalar(grad, 1);
            readInside.toFloatArray();                             // host copy made current inside
            Ops.adamw(param, inside, m, v, 1e-2, 0.9, 0.999, 1e-8, 0.0, 1);   // in place on pre-arena tensors
            sum = Ops.sumAll(inside).item();
            assertTrue(arena.size() >= 3, "device-born storages are collected");
        }
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, inside::toFloatArray);
        assertTrue(e.getMessage().contains("StepArena 'test'"), e.getMessage());
        assertEquals(256, readInside.toFloatArray().length, "a tensor whose host copy is current survives");
        float[] after = param.toFloatArray(), mv = m.toFloatArray();
        boolean changed = false;
        for (int i = 0; i < 256; i++) changed |= after[i] != before[i];
        assertTrue(changed, "the in-place update of a pre-arena parameter survives the arena");
        assertTrue(mv[0] != 0 || mv[1] != 0, "optimizer state written inside the arena survives");
        assertEquals(2 * Ops.sumAll(grad).item(), sum, 1e-3);
    }
}
