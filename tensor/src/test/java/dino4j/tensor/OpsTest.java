package dino4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dino4j.kernels.BinaryOp;
import dino4j.kernels.RopeKernels;
import dino4j.kernels.RopeTable;
import dino4j.kernels.UnaryOp;

import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Every F32 op against the F64 (reference) path on random data: relative L2 ≤ 1e-5; plus exact small cases. */
class OpsTest {
    private static final double TOL = 1e-5;
    private final Random rng = new Random(11);

    private Tensor randn(int... shape) { return Tensor.randn(rng, DType.F64, shape); }
    private Tensor rand(double lo, double hi, int... shape) { return Tensor.rand(rng, DType.F64, lo, hi, shape); }

    private static double relL2(Tensor ref, Tensor got) {
        assertArrayEquals(ref.shape(), got.shape(), "shape");
        double[] a = ref.toDoubleArray(), b = got.toDoubleArray();
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) { num += (a[i] - b[i]) * (a[i] - b[i]); den += a[i] * a[i]; }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Runs op on F64 inputs and on their F32 conversions; every output must agree. */
    private static void agree(String what, Function<Tensor[], Tensor[]> op, Tensor... in64) {
        Tensor[] in32 = new Tensor[in64.length];
        for (int i = 0; i < in64.length; i++) in32[i] = in64[i] == null ? null : in64[i].to(DType.F32);
        Tensor[] r64 = op.apply(in64), r32 = op.apply(in32);
        for (int i = 0; i < r64.length; i++) {
            if (r64[i] == null) continue;
            assertEquals(DType.F64, r64[i].dtype(), what);
            assertEquals(DType.F32, r32[i].dtype(), what);
            assertTrue(r32[i].isContiguous(), what + " output contiguous");
            double e = relL2(r64[i], r32[i]);
            assertTrue(e <= TOL, what + " output " + i + ": relative L2 " + e);
        }
    }

    private static void agree1(String what, Function<Tensor[], Tensor> op, Tensor... in64) {
        agree(what, a -> new Tensor[]{op.apply(a)}, in64);
    }

    @Test void binariesWithBroadcasting() {
        int[][][] cases = {{{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{5}, {}}, {{1}, {2, 3}}, {{3, 1, 2}, {1, 4, 1}}};
        for (BinaryOp op : BinaryOp.values())
            for (int[][] c : cases) {
                Tensor a = op == BinaryOp.POW ? rand(0.5, 2, c[0]) : randn(c[0]);
                Tensor b = op == BinaryOp.DIV ? rand(0.5, 2, c[1]) : op == BinaryOp.POW ? rand(-2, 2, c[1]) : randn(c[1]);
                agree1(op + " " + java.util.Arrays.deepToString(c), t -> Ops.binary(op, t[0], t[1]), a, b);
            }
        // strided inputs
        agree1("add of transposed views", t -> Ops.add(t[0].transpose(0, 1), t[1].slice(1, 1, 5)), randn(4, 3), randn(3, 5));
        agree1("mulScalar", t -> Ops.mulScalar(t[0], 1.7), randn(3, 3));
        agree1("rsubScalar", t -> Ops.rsubScalar(t[0], 1.7), randn(3, 3));
    }

    @Test void binaryExactValues() {
        Tensor a = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3), b = Tensor.of(new float[]{10, 20}, 2, 1);
        assertArrayEquals(new float[]{11, 12, 13, 24, 25, 26}, Ops.add(a, b).toFloatArray());
        assertArrayEquals(new float[]{1, 1, 1, 1, 1, 1}, Ops.minimumScalar(a, 1).toFloatArray());
        assertArrayEquals(new int[]{2, 3}, Ops.add(a, Tensor.scalar(1)).shape());
    }

    @Test void unaries() {
        for (UnaryOp op : UnaryOp.values()) {
            boolean pos = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || op == UnaryOp.RECIPROCAL;
            Tensor x = pos ? rand(0.3, 3, 4, 37) : Tensor.rand(rng, DType.F64, -4, 4, 4, 37);
            Tensor gy = randn(4, 37);
            agree1(op.name(), t -> Ops.unary(op, t[0]), x);
            agree1(op + " backward", t -> Ops.unaryBackward(op, t[0], t[1]), x, gy);
        }
        Tensor x = Tensor.of(new double[]{-1, 0, 2}, 3);
        assertArrayEquals(new double[]{0, 0, 2}, Ops.relu(x).toDoubleArray(), 0);
        assertArrayEquals(new double[]{-1.0 * 0.15865525393145707, 0, 2 * 0.9772498680518208}, Ops.gelu(x).toDoubleArray(), 1e-15);
    }

    @Test void matmul() {
        agree1("2d", t -> Ops.matmul(t[0], t[1]), randn(7, 5), randn(5, 9));
        agree1("batched", t -> Ops.matmul(t[0], t[1]), randn(3, 7, 5), randn(3, 5, 9));
        agree1("broadcast batch", t -> Ops.matmul(t[0], t[1]), randn(2, 1, 4, 5), randn(3, 5, 6));
        agree1("weight", t -> Ops.matmul(t[0], t[1]), randn(2, 3, 5), randn(5, 6));
        agree1("transposed a, b", t -> Ops.matmul(t[0].transpose(-1, -2), t[1].transpose(-1, -2)), randn(2, 5, 4), randn(2, 6, 5));
        agree1("permuted", t -> Ops.matmul(t[0].permute(1, 0, 2), t[1]), randn(4, 2, 5), randn(5, 3));
        // exact small case with a transposed view
        Tensor a = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3), b = Tensor.of(new double[]{1, 0, 1, 0, 1, 1}, 2, 3);
        assertArrayEquals(new double[]{4, 5, 10, 11}, Ops.matmul(a, b.transpose(0, 1)).toDoubleArray(), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.matmul(a, b));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test void reductions() {
        Tensor x = randn(3, 4, 5);
        for (int axis = -3; axis < 3; axis++) {
            int ax = axis;
            agree1("sum " + ax, t -> Ops.sum(t[0], ax, false), x);
            agree1("mean " + ax, t -> Ops.mean(t[0], ax, true), x);
            agree1("max " + ax, t -> Ops.max(t[0], ax, ax % 2 == 0), x);
        }
        agree1("sumAll", t -> Ops.sumAll(t[0]), x);
        agree1("sum of view", t -> Ops.sum(t[0].transpose(0, 2), 1, false), x);
        Tensor s = Tensor.of(new double[]{1, 5, 3, 7, 2, 0}, 2, 3);
        assertArrayEquals(new double[]{8, 7, 3}, Ops.sum(s, 0, false).toDoubleArray(), 0);
        assertArrayEquals(new int[]{2, 1}, Ops.max(s, 1, true).shape());
        assertArrayEquals(new double[]{5, 7}, Ops.max(s, 1, false).toDoubleArray(), 0);
        assertArrayEquals(new long[]{1, 0}, Ops.argmax(s, 1, false).storage().longs());
        assertEquals(DType.I64, Ops.argmax(s.to(DType.F32), -1, true).dtype());
        assertEquals(18, Ops.sumAllValue(s), 0);
    }

    @Test void reduceToShape() {
        Tensor g = Tensor.of(new double[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 2, 3);
        assertArrayEquals(new double[]{22, 26, 30}, Ops.reduceToShape(g, new int[]{3}).toDoubleArray(), 0);
        assertArrayEquals(new double[]{6, 15, 24, 33}, Ops.reduceToShape(g, new int[]{2, 2, 1}).toDoubleArray(), 0);
        assertArrayEquals(new double[]{21, 57}, Ops.reduceToShape(g, new int[]{2, 1, 1}).toDoubleArray(), 0);
        assertArrayEquals(new double[]{78}, Ops.reduceToShape(g, new int[]{}).toDoubleArray(), 0);
        assertSame(g, Ops.reduceToShape(g, new int[]{2, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> Ops.reduceToShape(g, new int[]{2}));
    }

    @Test void softmaxAndLayerNorm() {
        Tensor x = Tensor.rand(rng, DType.F64, -5, 5, 6, 33), gy = randn(6, 33);
        agree1("softmax", t -> Ops.softmax(t[0]), x);
        agree1("logSoftmax", t -> Ops.logSoftmax(t[0]), x);
        agree1("softmax of a view", t -> Ops.softmax(t[0].transpose(0, 1)), x);
        agree1("softmaxBackward", t -> Ops.softmaxBackward(Ops.softmax(t[0]), t[1]), x, gy);
        agree1("logSoftmaxBackward", t -> Ops.logSoftmaxBackward(Ops.logSoftmax(t[0]), t[1]), x, gy);
        Tensor g = rand(0.5, 1.5, 33), b = randn(33);
        agree("layerNorm", t -> { var r = Ops.layerNorm(t[0], t[1], t[2], 1e-6); return new Tensor[]{r.y(), r.mean(), r.rstd()}; }, x, g, b);
        agree("layerNorm no affine", t -> { var r = Ops.layerNorm(t[0], null, null, 1e-5); return new Tensor[]{r.y()}; }, x);
        agree("layerNormBackward", t -> {
            var r = Ops.layerNorm(t[0], t[1], null, 1e-6);
            var gr = Ops.layerNormBackward(t[0], t[2], t[1], r.mean(), r.rstd(), true);
            return new Tensor[]{gr.gx(), gr.gGamma(), gr.gBeta()};
        }, x, g, gy);
        double[] row = Ops.softmax(Tensor.of(new double[]{0, Math.log(3)}, 1, 2)).toDoubleArray();
        assertArrayEquals(new double[]{0.25, 0.75}, row, 1e-15);
    }

    @Test void attention() {
        RopeTable rope = RopeKernels.table(2, 3, RopeKernels.periods(16, 100));
        Tensor qkv = randn(2, 8, 96), gOut = randn(2, 8, 32);
        for (RopeTable r : new RopeTable[]{null, rope}) {
            int prefix = r == null ? 0 : 2;
            agree("attention rope=" + (r != null), t -> {
                var a = Ops.attention(t[0], 2, r, prefix);
                return new Tensor[]{a.out(), a.lse(), Ops.attentionBackward(t[0], a.out(), a.lse(), t[1], 2, r, prefix)};
            }, qkv, gOut);
        }
        // one token: the output is v
        Tensor one = randn(1, 1, 12);
        Tensor out = Ops.attention(one, 2, null, 0).out();
        assertArrayEquals(one.slice(2, 8, 12).toDoubleArray(), out.toDoubleArray(), 1e-15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.attention(randn(1, 5, 96), 2, rope, 0));
        assertTrue(e.getMessage().contains("rope"), e.getMessage());
    }

    @Test void convolutionsAndResize() {
        Tensor x = randn(2, 3, 9, 8), w = randn(4, 3, 3, 3), b = randn(4);
        agree1("conv2d s1 p1", t -> Ops.conv2d(t[0], t[1], t[2], 1, 1), x, w, b);
        agree1("conv2d s2 p0", t -> Ops.conv2d(t[0], t[1], null, 2, 0), x, w);
        Tensor pw = randn(5, 3, 4, 4);
        agree1("patch embed", t -> Ops.conv2d(t[0], t[1], t[2], 4, 0), randn(2, 3, 8, 12), pw, randn(5));
        Tensor gy = randn(2, 4, 9, 8);
        agree("conv2dBackward", t -> Ops.conv2dBackward(t[0], t[1], t[2], 1, 1, 1, 1, true, true, true), x, w, gy);
        Tensor dw = randn(3, 1, 7, 7), db = randn(3);
        agree1("depthwise 7x7", t -> Ops.depthwiseConv2d(t[0], t[1], t[2], 3), x, dw, db);
        agree("depthwiseBackward", t -> Ops.depthwiseConv2dBackward(t[0], t[1], t[2], 3, true, true, true), x, dw, randn(2, 3, 9, 8));
        for (String mode : new String[]{"bilinear", "bicubic"})
            for (boolean aa : new boolean[]{false, true}) {
                agree1("resize down " + mode + aa, t -> Ops.resize(t[0], 4, 5, mode, aa), x);
                agree1("resize up " + mode + aa, t -> Ops.resize(t[0], 13, 11, mode, aa), x);
                agree1("resizeBackward " + mode + aa, t -> Ops.resizeBackward(t[0], 9, 8, mode, aa), randn(2, 3, 4, 5));
            }
        // identity resize and a constant image stay put
        assertTrue(relL2(x, Ops.resize(x, 9, 8, "bicubic", false)) < 1e-14);
        Tensor ones = Tensor.full(DType.F64, 1, 1, 1, 6, 6);
        for (String mode : new String[]{"bilinear", "bicubic"})
            assertArrayEquals(Tensor.full(DType.F64, 1, 1, 1, 3, 4).toDoubleArray(), Ops.resize(ones, 3, 4, mode, true).toDoubleArray(), 1e-12);
        // bilinear 2x upsampling of [0, 1] (align_corners=False): 0, .25, .75, 1
        assertArrayEquals(new double[]{0, 0.25, 0.75, 1}, Ops.resize(Tensor.of(new double[]{0, 1}, 1, 2), 1, 4, "bilinear", false).toDoubleArray(), 1e-15);
    }

    @Test void indexingAndCat() {
        Tensor a = randn(2, 3), b = randn(2, 1), c = randn(2, 2);
        agree1("cat", t -> Ops.cat(1, t[0], t[1], t[2]), a, b, c);
        Tensor cat = Ops.cat(-1, a, b);
        assertEquals(b.get(1, 0), cat.get(1, 3), 0);
        assertEquals(a.get(1, 2), cat.get(1, 2), 0);
        assertArrayEquals(new int[]{4, 3}, Ops.cat(0, a, a).shape());
        Tensor x = Tensor.of(new double[]{0, 1, 2, 3, 4, 5}, 3, 2);
        assertArrayEquals(new double[]{4, 5, 0, 1, 4, 5}, Ops.indexSelect(x, new int[]{2, 0, 2}).toDoubleArray(), 0);
        Tensor s = Tensor.of(new double[]{1, 1, 10, 10}, 2, 2);
        assertArrayEquals(new double[]{11, 12, 2, 3, 4, 5}, Ops.indexAdd(x, new int[]{0, 0}, s).toDoubleArray(), 0);
        assertArrayEquals(new double[]{0, 1, 2, 3, 4, 5}, x.toDoubleArray(), 0); // base untouched
        agree1("indexAdd", t -> Ops.indexAdd(t[0], new int[]{2, 0}, t[1]), randn(3, 4), randn(2, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> Ops.indexSelect(x, new int[]{3}));
        assertThrows(IllegalArgumentException.class, () -> Ops.cat(0, a, b));
    }

    @Test void optimizerHelpers() {
        for (DType dt : new DType[]{DType.F32, DType.F64}) {
            Tensor p = Tensor.of(new double[]{1, -2}, 2).to(dt), g = Tensor.of(new double[]{0.5, -0.5}, 2).to(dt);
            Tensor m = Tensor.zeros(dt, 2), v = Tensor.zeros(dt, 2);
            Ops.adamw(p, g, m, v, 0.1, 0.9, 0.999, 1e-8, 0.01, 1);
            // step 1: m̂ = g, v̂ = g², update = lr * sign(g) (eps aside), after decay p *= 1 - lr*wd
            assertEquals(1 * (1 - 0.001) - 0.1, p.get(0), 1e-6);
            assertEquals(-2 * (1 - 0.001) + 0.1, p.get(1), 1e-6);
            Tensor t = Tensor.of(new double[]{1, 1}, 2).to(dt), s = Tensor.of(new double[]{0, 2}, 2).to(dt);
            Ops.ema(t, s, 0.9);
            assertEquals(0.9, t.get(0), 1e-6);
            assertEquals(1.1, t.get(1), 1e-6);
        }
    }

    @Test void dtypeErrorsNameTheOpAndBothDtypes() {
        Tensor a = Tensor.zeros(DType.F32, 2), b = Tensor.zeros(DType.F64, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.add(a, b));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("F32") && e.getMessage().contains("F64"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> Ops.exp(Tensor.zeros(DType.BF16, 2)));
        assertTrue(e2.getMessage().contains("exp") && e2.getMessage().contains("BF16"), e2.getMessage());
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class, () -> Ops.mul(Tensor.zeros(2, 3), Tensor.zeros(4)));
        assertTrue(e3.getMessage().contains("mul") && e3.getMessage().contains("[2, 3]") && e3.getMessage().contains("[4]"), e3.getMessage());
    }

    @Test void dispatcherPicksFirstCapableBackend() {
        Backend cpu = Backends.cpu();
        int[] calls = {0};
        Backend fake = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "name" -> "fake";
                    case "canRun" -> "sumAll".equals(args[0]);
                    case "sumAll" -> { calls[0]++; yield Tensor.full(DType.F32, 42); }
                    case "hashCode" -> 7;
                    case "equals" -> proxy == args[0];
                    default -> throw new AssertionError("unexpected " + method.getName());
                });
        Backends.register(fake);
        try {
            assertEquals(42, Ops.sumAllValue(Tensor.ones(3)), 0);
            assertEquals(1, calls[0]);
            assertArrayEquals(new float[]{2, 2}, Ops.add(Tensor.ones(2), Tensor.ones(2)).toFloatArray()); // falls back to the CPU
            assertSame(cpu, Backends.select("add", Tensor.ones(1)));
        } finally {
            Backends.unregister(fake);
        }
        assertEquals(3, Ops.sumAllValue(Tensor.ones(3)), 0);
    }
}
