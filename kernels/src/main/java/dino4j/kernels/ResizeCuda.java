package dino4j.kernels;

import dino4j.kernels.ResizeKernels.Mode;
import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code resize.cu}: 2-D bilinear / bicubic resize of planes {@code [P, H, W] → [P, OH, OW]}
 * (align_corners = False, antialias on or off) and its exact adjoint, with {@link ResizeKernels}' semantics.
 * The per-axis weight tables are built on the device, bit-identical to {@link ResizeKernels#axisWeights};
 * both directions are gathers (deterministic). Each call takes its tables and a {@code [P, H, OW]}
 * intermediate from the stream-ordered allocator and releases them after enqueue.
 */
public final class ResizeCuda {
    private ResizeCuda() {}

    private static final String FAMILY = "resize";
    private static final int BLOCK = 256;

    /** {@code y[P, OH, OW] = resize(x[P, H, W])} (y written). */
    public static void resize(CudaContext c, Mode mode, boolean antialias, int P, int H, int W, int OH, int OW,
                              CUdeviceptr x, CUdeviceptr y) {
        check(mode, P, H, W, OH, OW);
        notNull(x, "x"); notNull(y, "y");
        if (P == 0) return;
        Tables t = new Tables(c, mode, antialias, H, W, OH, OW, false);
        DeviceBuffer tmp = c.alloc(4L * P * H * OW);
        try {
            long nt = (long) P * H * OW, ny = (long) P * OH * OW;
            c.kernel(FAMILY, "resize_fwd_w").launch1d(nt, BLOCK, nt, W, OW, x, t.w.start, t.w.len, t.w.weight, t.w.maxLen, tmp.ptr());
            c.kernel(FAMILY, "resize_fwd_h").launch1d(ny, BLOCK, ny, H, OH, OW, tmp.ptr(), t.h.start, t.h.len, t.h.weight, t.h.maxLen, y);
        } finally {
            tmp.release();
            t.release();
        }
    }

    /** Exact adjoint of {@link #resize}: {@code gx[P, H, W] = Aᵀ gy[P, OH, OW]} (gx WRITTEN). */
    public static void resizeBackward(CudaContext c, Mode mode, boolean antialias, int P, int H, int W, int OH, int OW,
                                      CUdeviceptr gy, CUdeviceptr gx) {
        check(mode, P, H, W, OH, OW);
        notNull(gy, "gy"); notNull(gx, "gx");
        if (P == 0) return;
        Tables t = new Tables(c, mode, antialias, H, W, OH, OW, true);
        DeviceBuffer tmp = c.alloc(4L * P * H * OW);
        try {
            long nt = (long) P * H * OW, nx = (long) P * H * W;
            c.kernel(FAMILY, "resize_bwd_h").launch1d(nt, BLOCK, nt, H, OH, OW, gy, t.h.start, t.h.len, t.h.weight, t.h.maxLen,
                    t.h.lo, t.h.hi, tmp.ptr());
            c.kernel(FAMILY, "resize_bwd_w").launch1d(nx, BLOCK, nx, W, OW, tmp.ptr(), t.w.start, t.w.len, t.w.weight, t.w.maxLen,
                    t.w.lo, t.w.hi, gx);
        } finally {
            tmp.release();
            t.release();
        }
    }

    /** Window length per output of one axis, exactly as {@link ResizeKernels#axisWeights} sizes it. */
    static int maxLen(Mode mode, boolean antialias, int in, int out) {
        if (!antialias) return mode == Mode.BILINEAR ? 2 : 4;
        double scale = (double) in / out;
        double interp = mode == Mode.BILINEAR ? 2 : 4;
        double support = scale >= 1.0 ? interp * 0.5 * scale : interp * 0.5;
        return (int) Math.ceil(support) * 2 + 1;
    }

    /**
     * Enqueues the build of one axis' table on the device: {@code start[out]}, {@code len[out]} (ints) and
     * {@code weight[out·maxLen]} (floats), bit-identical to {@link ResizeKernels#axisWeights}' start, len and
     * float weights ({@code maxLen} from {@link #maxLen}). Package-private for the conformance test.
     */
    static void axisTable(CudaContext c, Mode mode, boolean aa, int in, int out, int maxLen,
                          CUdeviceptr start, CUdeviceptr len, CUdeviceptr weight) {
        c.kernel(FAMILY, "resize_axis_table").launch1d(out, BLOCK, mode == Mode.BICUBIC ? 1 : 0, aa ? 1 : 0, in, out, maxLen,
                start, len, weight);
    }

    /** Device pointers of one axis' table: start[out], len[out], weight[out·maxLen] (+ lo[in], hi[in] for the adjoint). */
    private record Axis(int maxLen, CUdeviceptr start, CUdeviceptr len, CUdeviceptr weight, CUdeviceptr lo, CUdeviceptr hi) {}

    /** Both axes' tables in one scratch buffer, built by enqueued kernels. */
    private static final class Tables {
        final DeviceBuffer buf;
        final Axis w, h;

        Tables(CudaContext c, Mode mode, boolean aa, int H, int W, int OH, int OW, boolean ranges) {
            int mw = maxLen(mode, aa, W, OW), mh = maxLen(mode, aa, H, OH);
            long words = sizeOf(OW, mw, W, ranges) + sizeOf(OH, mh, H, ranges);
            buf = c.alloc(4L * words);
            w = build(c, mode, aa, W, OW, mw, ranges, 0);
            h = build(c, mode, aa, H, OH, mh, ranges, sizeOf(OW, mw, W, ranges));
        }

        private static long sizeOf(int out, int maxLen, int in, boolean ranges) {
            return 2L * out + (long) out * maxLen + (ranges ? 2L * in : 0);
        }

        private Axis build(CudaContext c, Mode mode, boolean aa, int in, int out, int maxLen, boolean ranges, long at) {
            CUdeviceptr start = buf.at(4 * at), len = buf.at(4 * (at + out)), weight = buf.at(4 * (at + 2L * out));
            axisTable(c, mode, aa, in, out, maxLen, start, len, weight);
            CUdeviceptr lo = null, hi = null;
            if (ranges) {
                long r = at + 2L * out + (long) out * maxLen;
                lo = buf.at(4 * r);
                hi = buf.at(4 * (r + in));
                c.kernel(FAMILY, "resize_axis_range").launch1d(in, BLOCK, in, out, start, len, lo, hi);
            }
            return new Axis(maxLen, start, len, weight, lo, hi);
        }

        void release() { buf.release(); }
    }

    private static void check(Mode mode, int P, int H, int W, int OH, int OW) {
        if (mode == null) throw new IllegalArgumentException("mode must not be null");
        if (P < 0) throw new IllegalArgumentException("P must be >= 0, got " + P);
        if (H < 1) throw new IllegalArgumentException("H must be >= 1, got " + H);
        if (W < 1) throw new IllegalArgumentException("W must be >= 1, got " + W);
        if (OH < 1) throw new IllegalArgumentException("OH must be >= 1, got " + OH);
        if (OW < 1) throw new IllegalArgumentException("OW must be >= 1, got " + OW);
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
