package dino4j.tensor;

import dino4j.kernels.Parallel;

/** Copies a strided view into a contiguous destination, converting dtype; fast (and parallel) for F32→F32 and F64→F64. */
final class StridedCopy {
    private StridedCopy() {}

    static void copy(Tensor src, Tensor dst) {
        int n = src.numel();
        if (n == 0) return;
        int[] shape = src.shape(), st = src.strides();
        DType sd = src.dtype(), dd = dst.dtype();
        if (sd == dd && src.isContiguous()) {
            System.arraycopy(src.storage().readArray(), src.offset(), array(dst.storage()), dst.offset(), n);
            return;
        }
        int rank = shape.length;
        int inner = rank == 0 ? 1 : shape[rank - 1];
        Storage s = src.storage(), t = dst.storage();
        Object sa = s.readArray(), ta = array(t);
        int rows = n / inner;
        if ((sd == DType.F32 && dd == DType.F32) || (sd == DType.F64 && dd == DType.F64)) {
            // rows of the innermost axis split over the pool; each range finds its own start (copies are exact,
            // so the result does not depend on the split)
            Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, inner)),
                    (r0, r1) -> copyRows(sa, ta, sd == DType.F32, shape, st, src.offset(), dst.offset(), r0, r1));
            return;
        }
        // other conversions: one odometer pass over the source view; the destination is contiguous
        int[] idx = new int[rank];
        int so = src.offset(), d = dst.offset(), innerStride = rank == 0 ? 0 : st[rank - 1];
        for (int done = 0; done < n; done += inner) {
            for (int i = 0, p = so; i < inner; i++, p += innerStride) t.set(d + i, s.get(p));
            d += inner;
            so = step(idx, shape, st, so);
        }
    }

    /** Elements copied per parallel chunk, at least. */
    private static final int GRAIN = 1 << 15;

    /** Rows [r0, r1) of the innermost axis, same dtype (float[] or double[]) on both sides. */
    private static void copyRows(Object sa, Object ta, boolean f32, int[] shape, int[] st, int srcOffset, int dstOffset, int r0, int r1) {
        int rank = shape.length;
        int inner = rank == 0 ? 1 : shape[rank - 1], innerStride = rank == 0 ? 0 : st[rank - 1];
        int[] idx = new int[rank];
        int so = srcOffset;
        for (int ax = rank - 2, r = r0; ax >= 0; ax--) {   // row r0 as mixed-radix digits over the outer axes
            idx[ax] = r % shape[ax];
            so += idx[ax] * st[ax];
            r /= shape[ax];
        }
        int d = dstOffset + r0 * inner;
        for (int row = r0; row < r1; row++) {
            if (f32) {
                float[] a = (float[]) sa, b = (float[]) ta;
                for (int i = 0, p = so; i < inner; i++, p += innerStride) b[d + i] = a[p];
            } else {
                double[] a = (double[]) sa, b = (double[]) ta;
                for (int i = 0, p = so; i < inner; i++, p += innerStride) b[d + i] = a[p];
            }
            d += inner;
            so = step(idx, shape, st, so);
        }
    }

    /** Advances the odometer over the outer axes by one row; returns the new source offset. */
    private static int step(int[] idx, int[] shape, int[] st, int so) {
        return advance(idx, shape, st, shape.length - 2, so);
    }

    /**
     * One step of a mixed-radix odometer over axes [0, lastAxis] of {@code shape} (the last one fastest): increments
     * {@code idx} and returns {@code offset} moved by the matching {@code strides}.
     */
    static int advance(int[] idx, int[] shape, int[] strides, int lastAxis, int offset) {
        for (int ax = lastAxis; ax >= 0; ax--) {
            idx[ax]++;
            offset += strides[ax];
            if (idx[ax] < shape[ax]) break;
            offset -= strides[ax] * shape[ax];
            idx[ax] = 0;
        }
        return offset;
    }

    private static Object array(Storage s) {
        return switch (s.dtype()) {
            case F32 -> s.floats();
            case F64 -> s.doubles();
            case BF16, F16 -> s.halves();
            case I64 -> s.longs();
            case I32 -> s.ints();
            case U8, BOOL -> s.bytes();
        };
    }
}
