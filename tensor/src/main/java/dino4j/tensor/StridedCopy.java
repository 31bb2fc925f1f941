package dino4j.tensor;

/** Copies a strided view into a contiguous destination, converting dtype; fast for F32→F32 and F64→F64. */
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
        // odometer over the source view; the destination is contiguous
        int rank = shape.length;
        int[] idx = new int[rank];
        int so = src.offset(), d = dst.offset();
        int inner = rank == 0 ? 1 : shape[rank - 1], innerStride = rank == 0 ? 0 : st[rank - 1];
        Storage s = src.storage(), t = dst.storage();
        Object sa = s.readArray(), ta = array(t);
        for (int done = 0; done < n; done += inner) {
            if (sd == DType.F32 && dd == DType.F32) {
                float[] a = (float[]) sa, b = (float[]) ta;
                for (int i = 0, p = so; i < inner; i++, p += innerStride) b[d + i] = a[p];
            } else if (sd == DType.F64 && dd == DType.F64) {
                double[] a = (double[]) sa, b = (double[]) ta;
                for (int i = 0, p = so; i < inner; i++, p += innerStride) b[d + i] = a[p];
            } else {
                for (int i = 0, p = so; i < inner; i++, p += innerStride) t.set(d + i, s.get(p));
            }
            d += inner;
            for (int ax = rank - 2; ax >= 0; ax--) {
                idx[ax]++;
                so += st[ax];
                if (idx[ax] < shape[ax]) break;
                so -= st[ax] * shape[ax];
                idx[ax] = 0;
            }
        }
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
