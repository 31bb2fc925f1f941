package dino4j.tensor;

import dino4j.kernels.AttentionCuda;
import dino4j.kernels.BinaryOp;
import dino4j.kernels.ConvCuda;
import dino4j.kernels.ConvKernels;
import dino4j.kernels.DepthwiseConvKernels;
import dino4j.kernels.ElementwiseCuda;
import dino4j.kernels.GemmCuda;
import dino4j.kernels.GramCuda;
import dino4j.kernels.KoLeoCuda;
import dino4j.kernels.LayerNormCuda;
import dino4j.kernels.OptimizerCuda;
import dino4j.kernels.ReduceCuda;
import dino4j.kernels.ResidualCuda;
import dino4j.kernels.ResizeCuda;
import dino4j.kernels.RopeTable;
import dino4j.kernels.SinkhornCuda;
import dino4j.kernels.SoftmaxCuda;
import dino4j.kernels.UnaryOp;
import dino4j.runtime.Cuda;
import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The CUDA backend: F32 ops on tensors whose storage lives on {@link Device#CUDA} run our kernels
 * ({@code dino4j.kernels.*Cuda}, one {@code .cu} family each); it implements every {@link Backend} op.
 * {@link #canRun} accepts an op when every tensor argument is F32 and at least one lives on the GPU;
 * anything else (F64 gradient checks, CPU tensors) runs on the CPU backend, the data following lazily
 * (see {@link Storage}). Results are new
 * device-born tensors. Matmuls use {@link #matmulPrecision()}: TF32 tensor cores by default (as PyTorch's
 * {@code set_float32_matmul_precision("high")}), {@code -Ddino4j.cuda.matmul=fp32|tf32|bf16} to change.
 */
public final class CudaBackend implements Backend {
    private static volatile CudaBackend installed;
    private final CudaContext c;
    private volatile GemmCuda.Precision precision;
    private final Map<float[], Storage> ropeCache = new WeakHashMap<>();

    private CudaBackend(CudaContext c) {
        this.c = c;
        String p = System.getProperty("dino4j.cuda.matmul", "tf32").toUpperCase();
        try {
            precision = GemmCuda.Precision.valueOf(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-Ddino4j.cuda.matmul must be fp32, tf32 or bf16, got '" + p.toLowerCase() + "'");
        }
    }

    /**
     * Registers the CUDA backend when a GPU and our kernels are present and returns it; otherwise returns
     * null and prints one line saying why the CPU is used (once).
     */
    public static synchronized CudaBackend install() {
        if (installed != null) return installed;
        if (!Cuda.available()) {
            System.err.println("dino4j: " + Cuda.status());
            return null;
        }
        installed = new CudaBackend(Cuda.context());
        Backends.register(installed);
        return installed;
    }

    /** The installed backend, or null. */
    public static CudaBackend get() { return installed; }

    public GemmCuda.Precision matmulPrecision() { return precision; }

    public void setMatmulPrecision(GemmCuda.Precision p) { precision = p; }

    public CudaContext context() { return c; }

    @Override public String name() { return "cuda"; }

    @Override public boolean canRun(String op, Tensor... args) {
        boolean onGpu = false;
        for (Tensor t : args) {
            if (t == null) continue;
            if (t.dtype() != DType.F32) return false;
            if (t.device() == Device.CUDA) onGpu = true;
        }
        return onGpu;
    }

    // ---------------------------------------------------------------- helpers

    private Tensor zeros(int... shape) {
        Tensor t = out(shape);
        if (t.numel() > 0) c.memset(w(t), 0, 4L * t.numel());
        return t;
    }

    private static Tensor out(int... shape) {
        return new Tensor(Storage.allocateOnDevice(DType.F32, Math.max(Shape.numel(shape), 0)), shape, Shape.contiguousStrides(shape), 0);
    }

    /**
     * Device pointer to a tensor's first element, for reading (uploads when the host copy is newer). A CPU
     * scalar (the {@code s} of {@code x * s}) comes from a small cache of device constants instead: an upload
     * waits for the stream, and one per scalar op would serialise the whole step.
     */
    private CUdeviceptr in(Tensor t) {
        Storage s = t.storage();
        if (s.length() == 1 && s.home() == Device.CPU && s.hostValid()) return constant((float) s.get(0));
        return s.deviceForRead().at(4L * t.offset());
    }

    private final Map<Integer, DeviceBuffer> constants = new java.util.HashMap<>();

    private synchronized CUdeviceptr constant(float v) {
        DeviceBuffer b = constants.get(Float.floatToRawIntBits(v));
        if (b == null) {
            if (constants.size() >= 4096) constants.clear();    // buffers of dropped entries go back when GC'd
            b = c.alloc(4);
            c.staging().upload(b.ptr(), new float[]{v}, 0, 1, "scalar constant");
            b.bindTo(b);                                          // never released while cached (self-reference)
            constants.put(Float.floatToRawIntBits(v), b);
        }
        return b.ptr();
    }

    /** Device pointer for writing into an existing tensor (marks its host copy stale). */
    private static CUdeviceptr inout(Tensor t) {
        return t.storage().deviceForWrite(true).at(4L * t.offset());
    }

    private static CUdeviceptr w(Tensor fresh) {
        return fresh.storage().deviceForWrite(false).at(4L * fresh.offset());
    }

    private Tensor contig(Tensor t) {
        return t.isContiguous() ? t : copy(t);
    }

    private static int[] pad8(int[] a) {
        if (a.length > 8) throw new IllegalArgumentException("CUDA kernels take tensors of rank ≤ 8, got rank " + a.length);
        return Arrays.copyOf(a, 8);
    }

    // ---------------------------------------------------------------- element-wise

    @Override public Tensor binary(BinaryOp op, Tensor a, Tensor b, int[] os) {
        Tensor o = out(os);
        if (o.numel() == 0) return o;
        int[] as = CpuBackend.broadcastStrides(a, os), bs = CpuBackend.broadcastStrides(b, os), shape = os;
        if (os.length == 0) { shape = new int[]{1}; as = new int[]{0}; bs = new int[]{0}; }
        ElementwiseCuda.binary(c, op, shape.length, pad8(shape), in(a), pad8(as), in(b), pad8(bs), w(o));
        return o;
    }

    @Override public Tensor unary(UnaryOp op, Tensor x) {
        Tensor xc = contig(x), o = out(x.shape());
        if (o.numel() > 0) ElementwiseCuda.unary(c, op, o.numel(), in(xc), w(o));
        return o;
    }

    @Override public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gy) {
        Tensor xc = contig(x), gc = contig(gy), o = out(x.shape());
        if (o.numel() > 0) ElementwiseCuda.unaryBackward(c, op, o.numel(), in(xc), in(gc), w(o));
        return o;
    }

    @Override public Tensor copy(Tensor x) {
        Tensor o = out(x.shape());
        if (o.numel() == 0) return o;
        if (x.isContiguous()) {
            c.copy(w(o), in(x), 4L * o.numel());
            return o;
        }
        int[] sh = x.shape(), st = x.strides();
        if (sh.length == 0) { sh = new int[]{1}; st = new int[]{0}; }
        ElementwiseCuda.copyStrided(c, 4, sh.length, pad8(sh), in(x), pad8(st), w(o));
        return o;
    }

    // ---------------------------------------------------------------- matmul

    private record MatView(Tensor t, boolean trans, int ld) {}

    private MatView matView(Tensor t) {
        int rows = t.size(-2), cols = t.size(-1), s2 = t.stride(-2), s1 = t.stride(-1);
        if ((s1 == 1 || cols == 1) && (s2 >= cols || rows == 1)) return new MatView(t, false, Math.max(Math.max(s2, cols), 1));
        if ((s2 == 1 || rows == 1) && (s1 >= rows || cols == 1)) return new MatView(t, true, Math.max(Math.max(s1, rows), 1));
        return new MatView(copy(t), false, Math.max(cols, 1));
    }

    @Override public Tensor matmul(Tensor a, Tensor b) {
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        int[] ba = Arrays.copyOf(a.shape(), a.dim() - 2), bb = Arrays.copyOf(b.shape(), b.dim() - 2);
        int[] bshape = Shape.broadcast(ba, bb);
        int batch = Shape.numel(bshape);
        Tensor o = out(CpuBackend.concat(bshape, m, n));
        if (o.numel() == 0) return o;
        if (OpTimeline.ON) OpTimeline.addFlops(2L * batch * m * n * k);
        CUdeviceptr op = w(o);
        if (Shape.numel(bb) == 1 && a.isContiguous()) {       // weight-like b: fold the batch into the rows
            Tensor b2 = b;
            while (b2.dim() > 2) b2 = b2.select(0, 0);
            MatView B = matView(b2);
            GemmCuda.gemm(c, precision, false, B.trans, batch * m, n, k, 1f, in(a), k, 0, in(B.t), B.ld, 0, 0f, op, n, 0, 1, null);
            return o;
        }
        MatView A = matView(a), B = matView(b);
        int[] offA = CpuBackend.batchOffsets(A.t, bshape), offB = CpuBackend.batchOffsets(B.t, bshape);
        int dA = batch > 1 ? offA[1] - offA[0] : 0, dB = batch > 1 ? offB[1] - offB[0] : 0;
        boolean uniform = true;
        for (int i = 1; i < batch && uniform; i++) uniform = offA[i] - offA[i - 1] == dA && offB[i] - offB[i - 1] == dB;
        CUdeviceptr pa = A.t.storage().deviceForRead().ptr(), pb = B.t.storage().deviceForRead().ptr();
        if (uniform) {
            GemmCuda.gemm(c, precision, A.trans, B.trans, m, n, k, 1f, pa.withByteOffset(4L * offA[0]), A.ld, dA,
                    pb.withByteOffset(4L * offB[0]), B.ld, dB, 0f, op, n, (long) m * n, batch, null);
            return o;
        }
        for (int i = 0; i < batch; i++)
            GemmCuda.gemm(c, precision, A.trans, B.trans, m, n, k, 1f, pa.withByteOffset(4L * offA[i]), A.ld, 0,
                    pb.withByteOffset(4L * offB[i]), B.ld, 0, 0f, op.withByteOffset(4L * i * m * n), n, 0, 1, null);
        return o;
    }

    @Override public Tensor linear(Tensor x, Tensor wt, Tensor bias) {
        Tensor xc = contig(x);
        int m = xc.size(0), k = xc.size(1), n = wt.size(0);
        Tensor o = out(m, n);
        if (o.numel() == 0) return o;
        if (OpTimeline.ON) OpTimeline.addFlops(2L * m * n * k);
        MatView W = matView(wt.transpose(0, 1));   // [K, N] view of w [N, K]: transposed, ld = K for a contiguous w
        Tensor bc = bias == null ? null : contig(bias);
        GemmCuda.gemm(c, precision, false, W.trans, m, n, k, 1f, in(xc), k, 0, in(W.t), W.ld, 0, 0f, w(o), n, 0, 1,
                bc == null ? null : in(bc));
        return o;
    }

    // ---------------------------------------------------------------- reductions

    @Override public Tensor reduce(String kind, Tensor x, int axis, boolean keepdim) {
        int[] sh = x.shape();
        int len = sh[axis], outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= sh[i];
        for (int i = axis + 1; i < sh.length; i++) inner *= sh[i];
        if (kind.equals("max") && len == 0) throw new IllegalArgumentException("max over an empty axis of " + Shape.str(sh));
        Tensor xc = contig(x), o = out(CpuBackend.reducedShape(sh, axis, keepdim));
        if (o.numel() == 0) return o;
        if (len == 0) { ElementwiseCuda.fill(c, o.numel(), kind.equals("mean") ? Float.NaN : 0f, w(o)); return o; }
        ReduceCuda.reduce(c, kind, outer, len, inner, in(xc), w(o));
        return o;
    }

    @Override public Tensor argmax(Tensor x, int axis, boolean keepdim) {
        int[] sh = x.shape();
        int len = sh[axis], outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= sh[i];
        for (int i = axis + 1; i < sh.length; i++) inner *= sh[i];
        if (len == 0) throw new IllegalArgumentException("argmax over an empty axis of " + Shape.str(sh));
        int[] os = CpuBackend.reducedShape(sh, axis, keepdim);
        Tensor o = new Tensor(Storage.allocateOnDevice(DType.I64, Shape.numel(os)), os, Shape.contiguousStrides(os), 0);
        if (o.numel() > 0) ReduceCuda.argmax(c, outer, len, inner, in(contig(x)), o.storage().deviceForWrite(false).ptr());
        return o;
    }

    @Override public Tensor sumAll(Tensor x) {
        Tensor o = out();
        if (x.numel() == 0) ElementwiseCuda.fill(c, 1, 0f, w(o));
        else ReduceCuda.sumAll(c, x.numel(), in(contig(x)), w(o));
        return o;
    }

    // ---------------------------------------------------------------- softmax, layer norm, residual

    @Override public Tensor softmax(Tensor x, boolean log) {
        Tensor xc = contig(x), o = out(x.shape());
        int cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
        if (rows > 0) SoftmaxCuda.softmax(c, log, rows, cols, in(xc), w(o));
        return o;
    }

    @Override public Tensor softmaxBackward(Tensor y, Tensor gy, boolean log) {
        Tensor yc = contig(y), gc = contig(gy), o = out(y.shape());
        int cols = y.size(-1), rows = cols == 0 ? 0 : y.numel() / cols;
        if (rows > 0) SoftmaxCuda.softmaxBackward(c, log, rows, cols, in(yc), in(gc), w(o));
        return o;
    }

    @Override public Tensor[] layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        Tensor xc = contig(x), y = out(x.shape());
        int cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
        Tensor mean = out(rows), rstd = out(rows);
        if (rows > 0) LayerNormCuda.forward(c, rows, cols, in(xc), gamma == null ? null : in(contig(gamma)),
                beta == null ? null : in(contig(beta)), (float) eps, w(y), w(mean), w(rstd));
        return new Tensor[]{y, mean, rstd};
    }

    @Override public Tensor[] layerNormBackward(Tensor x, Tensor gy, Tensor gamma, Tensor mean, Tensor rstd, boolean wantAffine) {
        Tensor xc = contig(x), gc = contig(gy), gx = out(x.shape());
        int cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
        Tensor gg = wantAffine ? zeros(cols) : null, gb = wantAffine ? zeros(cols) : null;   // the kernel adds into them
        if (rows > 0) LayerNormCuda.backward(c, rows, cols, in(xc), in(gc), gamma == null ? null : in(contig(gamma)),
                in(contig(mean)), in(contig(rstd)), w(gx), gg == null ? null : w(gg), gb == null ? null : w(gb));
        return new Tensor[]{gx, gg, gb};
    }

    @Override public Tensor residualScaled(Tensor x, Tensor y, Tensor gamma) {
        int cols = gamma.numel(), rows = x.numel() / Math.max(1, cols);
        Tensor o = out(x.shape());
        if (o.numel() > 0) ResidualCuda.forward(c, rows, cols, in(contig(x)), in(contig(y)), in(contig(gamma)), w(o));
        return o;
    }

    @Override public Tensor[] residualScaledBackward(Tensor g, Tensor y, Tensor gamma, boolean needY, boolean needGamma) {
        int cols = gamma.numel(), rows = g.numel() / Math.max(1, cols);
        Tensor gy = needY ? out(g.shape()) : null, gg = needGamma ? zeros(cols) : null;   // gγ is accumulated into
        if (rows > 0 && (needY || needGamma))
            ResidualCuda.backward(c, rows, cols, in(contig(g)), in(contig(y)), in(contig(gamma)), gy == null ? null : w(gy), gg == null ? null : w(gg));
        return new Tensor[]{gy, gg};
    }

    @Override public Tensor swiglu(Tensor a, Tensor b) {
        Tensor o = out(a.shape());
        ElementwiseCuda.swiglu(c, o.numel(), in(contig(a)), in(contig(b)), w(o));
        return o;
    }

    @Override public Tensor[] swigluBackward(Tensor a, Tensor b, Tensor gy) {
        Tensor ga = out(a.shape()), gb = out(a.shape());
        ElementwiseCuda.swigluBackward(c, ga.numel(), in(contig(a)), in(contig(b)), in(contig(gy)), w(ga), w(gb));
        return new Tensor[]{ga, gb};
    }

    // ---------------------------------------------------------------- attention

    /** The RoPE table's sin and cos on the device, uploaded once per table. */
    private synchronized CUdeviceptr[] rope(RopeTable r) {
        Storage s = ropeCache.get(r.sin());
        int n = r.sin().length;
        if (s == null) {
            float[] both = new float[2 * n];
            System.arraycopy(r.sin(), 0, both, 0, n);
            System.arraycopy(r.cos(), 0, both, n, n);
            s = Storage.wrap(both);
            ropeCache.put(r.sin(), s);
        }
        DeviceBuffer b = s.deviceForRead();
        return new CUdeviceptr[]{b.ptr(), b.at(4L * n)};
    }

    @Override public Tensor[] attention(Tensor qkv, int heads, RopeTable rope, int prefix) {
        int B = qkv.size(0), N = qkv.size(1), D = qkv.size(2) / 3, Dh = D / heads;
        Tensor q = contig(qkv), o = out(B, N, D), lse = out(B, heads, N);
        if (o.numel() == 0) return new Tensor[]{o, lse};
        CUdeviceptr p = in(q);
        CUdeviceptr[] r = rope == null ? new CUdeviceptr[2] : rope(rope);
        AttentionCuda.forward(c, B, heads, N, Dh, (float) (1.0 / Math.sqrt(Dh)), p, p.withByteOffset(4L * D), p.withByteOffset(8L * D),
                N * 3 * D, 3 * D, Dh, r[0], r[1], prefix, w(o), w(lse));
        return new Tensor[]{o, lse};
    }

    @Override public Tensor attentionBackward(Tensor qkv, Tensor outT, Tensor lseT, Tensor gOutT, int heads, RopeTable rope, int prefix) {
        int B = qkv.size(0), N = qkv.size(1), D = qkv.size(2) / 3, Dh = D / heads;
        Tensor q = contig(qkv), g = out(B, N, 3 * D);
        if (g.numel() == 0) return g;
        CUdeviceptr p = in(q), gp = w(g);
        CUdeviceptr[] r = rope == null ? new CUdeviceptr[2] : rope(rope);
        AttentionCuda.backward(c, B, heads, N, Dh, (float) (1.0 / Math.sqrt(Dh)), p, p.withByteOffset(4L * D), p.withByteOffset(8L * D),
                N * 3 * D, 3 * D, Dh, r[0], r[1], prefix, in(contig(outT)), in(contig(gOutT)), in(contig(lseT)),
                gp, gp.withByteOffset(4L * D), gp.withByteOffset(8L * D));
        return g;
    }

    // ---------------------------------------------------------------- convolutions (im2col + GEMM)

    @Override public Tensor conv2d(Tensor xT, Tensor wT, Tensor bT, int sh, int sw, int ph, int pw) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), O = wT.size(0), kh = wT.size(2), kw = wT.size(3);
        int OH = ConvKernels.outSize(H, kh, sh, ph), OW = ConvKernels.outSize(W, kw, sw, pw), L = OH * OW, CK = C * kh * kw;
        Tensor y = out(B, O, OH, OW);
        if (y.numel() == 0) return y;
        Tensor cols = out(B, CK, L);
        ConvCuda.im2col(c, B, C, H, W, kh, kw, sh, sw, ph, pw, in(contig(xT)), w(cols));
        // y[b] [O, L] = w [O, CK] · cols[b] [CK, L] (+ bias per row O)
        GemmCuda.gemm(c, precision, false, false, O, L, CK, 1f, in(contig(wT)), CK, 0, in(cols), L, (long) CK * L,
                0f, w(y), L, (long) O * L, B, null);
        if (bT != null) ElementwiseCuda.addInPlace(c, 4, pad8(new int[]{B, O, OH, OW}), w(y), in(contig(bT)), pad8(new int[]{0, 1, 0, 0}));
        return y;
    }

    @Override public Tensor[] conv2dBackward(Tensor xT, Tensor wT, Tensor gyT, int sh, int sw, int ph, int pw, boolean needX, boolean needW, boolean needB) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), O = wT.size(0), kh = wT.size(2), kw = wT.size(3);
        int OH = ConvKernels.outSize(H, kh, sh, ph), OW = ConvKernels.outSize(W, kw, sw, pw), L = OH * OW, CK = C * kh * kw;
        Tensor gy = contig(gyT), wc = contig(wT);
        Tensor gx = null, gw = null, gb = null;
        if (needW) {
            Tensor cols = out(B, CK, L);
            ConvCuda.im2col(c, B, C, H, W, kh, kw, sh, sw, ph, pw, in(contig(xT)), w(cols));
            // gw [O, CK] = Σ_b gy[b] [O, L] · cols[b]ᵀ [L, CK]: one GEMM over the folded (b, l) axis per image, summed
            gw = out(O, CK);
            ElementwiseCuda.fill(c, (long) O * CK, 0f, w(gw));
            for (int b = 0; b < B; b++)
                GemmCuda.gemm(c, precision, false, true, O, CK, L, 1f, in(gy).withByteOffset(4L * b * O * L), L, 0,
                        in(cols).withByteOffset(4L * b * CK * L), L, 0, 1f, inout(gw), CK, 0, 1, null);
            gw = gw.reshape(wT.shape());
        }
        if (needX) {
            Tensor cols = out(B, CK, L);
            // cols[b] [CK, L] = wᵀ [CK, O] · gy[b] [O, L]
            GemmCuda.gemm(c, precision, true, false, CK, L, O, 1f, in(wc), CK, 0, in(gy), L, (long) O * L, 0f, w(cols), L, (long) CK * L, B, null);
            gx = out(B, C, H, W);
            ConvCuda.col2im(c, B, C, H, W, kh, kw, sh, sw, ph, pw, in(cols), w(gx), false);
        }
        if (needB) gb = reduce("sum", reduce("sum", gy.reshape(B, O, L), 2, false), 0, false);
        return new Tensor[]{gx, gw, gb};
    }

    @Override public Tensor depthwiseConv2d(Tensor xT, Tensor wT, Tensor bT, int pad) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), k = wT.size(-1);
        int OH = DepthwiseConvKernels.outSize(H, k, pad), OW = DepthwiseConvKernels.outSize(W, k, pad);
        Tensor y = out(B, C, OH, OW);
        if (y.numel() > 0) ConvCuda.depthwiseForward(c, B, C, H, W, k, pad, in(contig(xT)), in(contig(wT)), bT == null ? null : in(contig(bT)), w(y));
        return y;
    }

    @Override public Tensor[] depthwiseConv2dBackward(Tensor xT, Tensor wT, Tensor gyT, int pad, boolean needX, boolean needW, boolean needB) {
        int B = xT.size(0), C = xT.size(1), H = xT.size(2), W = xT.size(3), k = wT.size(-1);
        Tensor gx = needX ? out(B, C, H, W) : null, gw = needW ? zeros(wT.shape()) : null, gb = needB ? zeros(C) : null;  // gw, gb accumulate
        ConvCuda.depthwiseBackward(c, B, C, H, W, k, pad, in(contig(xT)), in(contig(wT)), in(contig(gyT)),
                gx == null ? null : w(gx), gw == null ? null : w(gw), gb == null ? null : w(gb));
        return new Tensor[]{gx, gw, gb};
    }

    // ---------------------------------------------------------------- resize

    @Override public Tensor resize(Tensor xT, int oh, int ow, String mode, boolean antialias) {
        int[] sh = xT.shape();
        int H = sh[sh.length - 2], W = sh[sh.length - 1], P = H * W == 0 ? 0 : xT.numel() / (H * W);
        sh[sh.length - 2] = oh;
        sh[sh.length - 1] = ow;
        Tensor y = out(sh);
        if (P > 0 && y.numel() > 0) ResizeCuda.resize(c, CpuBackend.mode(mode), antialias, P, H, W, oh, ow, in(contig(xT)), w(y));
        return y;
    }

    @Override public Tensor resizeBackward(Tensor gyT, int h, int wd, String mode, boolean antialias) {
        int[] sh = gyT.shape();
        int oh = sh[sh.length - 2], ow = sh[sh.length - 1], P = oh * ow == 0 ? 0 : gyT.numel() / (oh * ow);
        sh[sh.length - 2] = h;
        sh[sh.length - 1] = wd;
        Tensor gx = out(sh);
        if (gx.numel() == 0) return gx;
        if (P == 0) ElementwiseCuda.fill(c, gx.numel(), 0f, w(gx));
        else ResizeCuda.resizeBackward(c, CpuBackend.mode(mode), antialias, P, h, wd, oh, ow, in(contig(gyT)), w(gx));
        return gx;
    }

    // ---------------------------------------------------------------- indexing, concatenation

    @Override public Tensor cat(int axis, Tensor[] ts) {
        int[] os = ts[0].shape();
        int total = 0;
        for (Tensor t : ts) total += t.size(axis);
        os[axis] = total;
        Tensor o = out(os);
        if (o.numel() == 0) return o;
        int[] ostr = Shape.contiguousStrides(os);
        CUdeviceptr base = w(o);
        int at = 0;
        for (Tensor t : ts) {
            if (t.numel() > 0)
                ElementwiseCuda.copyStridedTo(c, 4, t.dim(), pad8(t.shape()), in(t), pad8(t.strides()),
                        base.withByteOffset(4L * at * ostr[axis]), pad8(ostr));
            at += t.size(axis);
        }
        return o;
    }

    private DeviceBuffer indexBuffer(int[] rows) {
        DeviceBuffer b = c.alloc(4L * Math.max(1, rows.length));
        c.staging().upload(b.ptr(), rows, 0, rows.length, "index rows");
        return b;
    }

    @Override public Tensor indexSelect(Tensor x, int[] rows) {
        int[] sh = x.shape();
        int cols = x.numel() / Math.max(1, sh[0]);
        sh[0] = rows.length;
        Tensor o = out(sh);
        if (o.numel() == 0) return o;
        DeviceBuffer idx = indexBuffer(rows);
        ElementwiseCuda.indexSelect(c, rows.length, cols, in(contig(x)), idx.ptr(), w(o));
        idx.release();   // stream-ordered allocator: safe once the kernel is enqueued
        return o;
    }

    @Override public Tensor indexAdd(Tensor base, int[] rows, Tensor src) {
        int cols = base.numel() / Math.max(1, base.size(0));
        Tensor o = out(base.shape());
        if (o.numel() == 0) return o;
        DeviceBuffer idx = indexBuffer(rows);
        ElementwiseCuda.indexAdd(c, base.size(0), cols, in(contig(base)), idx.ptr(), rows.length, in(contig(src)), w(o));
        idx.release();
        return o;
    }

    // ---------------------------------------------------------------- SSL losses

    @Override public Tensor sinkhorn(Tensor logits, double temp, double btot, int iters) {
        int K = logits.size(-1), B = K == 0 ? 0 : logits.numel() / K;
        if (btot != Math.rint(btot) || btot < 1 || btot > Integer.MAX_VALUE)
            return Backends.cpu().sinkhorn(logits, temp, btot, iters);      // the kernel takes a whole sample count
        Tensor o = out(logits.shape());
        if (o.numel() > 0) SinkhornCuda.sinkhorn(c, in(contig(logits)), w(o), B, K, (float) temp, (int) btot, iters);
        return o;
    }

    @Override public FusedLoss koleo(Tensor x) {
        int N = x.size(0), D = x.size(1);
        Tensor xc = contig(x);
        // nn holds int32 neighbour indices (raw bits in a 4-byte device buffer; never read on the host)
        Tensor xhat = out(N, D), norms = out(N), nn = out(N), dist = out(N), loss = out();
        KoLeoCuda.forward(c, in(xc), N, D, w(xhat), w(norms), w(nn), w(dist), w(loss));
        int[] shape = x.shape();
        return FusedLoss.of(loss, (g, needs) -> {
            Tensor gx = out(shape);
            KoLeoCuda.backward(c, g.floatValue(), in(xhat), in(norms), in(nn), in(dist), N, D, w(gx));
            return new Tensor[]{gx};
        });
    }

    @Override public FusedLoss gram(Tensor s, Tensor t) {
        int N = s.dim() == 3 ? s.size(0) : 1, P = s.size(-2), D = s.size(-1);
        Tensor sc = contig(s), tc = contig(t);
        Tensor sHat = out(N * P * D), sNorm = out(N * P), tHat = out(N * P * D), tNorm = out(N * P), loss = out();
        GramCuda.forward(c, in(sc), in(tc), N, P, D, w(sHat), w(sNorm), w(tHat), w(tNorm), w(loss));
        int[] shape = s.shape();
        return FusedLoss.of(loss, (g, needs) -> {
            boolean needT = needs.length > 1 && needs[1];
            Tensor gs = out(shape), gt = needT ? out(shape) : null;
            GramCuda.backward(c, g.floatValue(), in(sHat), in(sNorm), in(tHat), in(tNorm), N, P, D, w(gs), needT ? w(gt) : null);
            return new Tensor[]{gs, gt};
        });
    }

    // ---------------------------------------------------------------- in place, optimizer

    @Override public void addInPlace(Tensor dst, Tensor src) {
        if (dst.numel() > 0) {
            int[] ds = dst.shape(), ss = CpuBackend.broadcastStrides(src, ds);
            if (ds.length == 0) { ds = new int[]{1}; ss = new int[]{0}; }
            CUdeviceptr s = in(src);
            ElementwiseCuda.addInPlace(c, ds.length, pad8(ds), inout(dst), s, pad8(ss));
        }
        dst.bumpVersion();
    }

    @Override public void fill(Tensor dst, double value) {
        if (dst.numel() > 0) {
            // a fill over the whole storage need not upload the old contents first
            boolean whole = dst.numel() == dst.storage().length() && dst.isContiguous();
            ElementwiseCuda.fill(c, dst.numel(), (float) value, dst.storage().deviceForWrite(!whole).at(4L * dst.offset()));
        }
        dst.bumpVersion();
    }

    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double b1, double b2, double eps, double wd, long step) {
        OptimizerCuda.adamw(c, p.numel(), inout(p), in(g), inout(m), inout(v), (float) lr, (float) b1, (float) b2, (float) eps, (float) wd, step);
        p.bumpVersion();
        m.bumpVersion();
        v.bumpVersion();
    }

    @Override public void ema(Tensor t, Tensor s, double mom) {
        OptimizerCuda.ema(c, t.numel(), inout(t), in(s), (float) mom);
        t.bumpVersion();
    }
}
