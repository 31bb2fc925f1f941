package dino4j.kernels;

import dino4j.runtime.CudaContext;
import jcuda.driver.CUdeviceptr;

import java.util.Locale;

/**
 * Launchers of the {@code elementwise} CUDA family (kernels/src/main/cuda/elementwise.cu): broadcasting
 * binary ops, unary ops and their backward, strided copies, fill, add-in-place, indexSelect / indexAdd.
 * Same semantics as {@link ElementwiseKernels} (float32). Everything is enqueued on the context's stream.
 *
 * <p>Shapes and strides are element counts; a stride of 0 broadcasts. Before a launch the dims are
 * coalesced as the CPU kernel does (size-1 dims dropped, dims that are contiguous for every operand
 * merged), then the cheapest kernel that fits is picked: a contiguous 1-D kernel (float4), a 2-D
 * "rows" kernel (bias row, per-row column, scalar) or the general strided kernel (rank ≤ 8).
 * The strided and rows kernels index with 32-bit linear indices, so they need fewer than 2^31 elements.
 */
public final class ElementwiseCuda {
    private ElementwiseCuda() {}

    static final String FAMILY = "elementwise";
    static final int MAX_RANK = 8;
    private static final int BLOCK = 256;

    // =====================================================================================
    // Binary
    // =====================================================================================

    /**
     * {@code out = a op b} over {@code outShape} (out contiguous); a and b are read at the given element
     * strides per output dim (0 broadcasts; any strided view). {@code out} may alias a or b when they are
     * contiguous in outShape.
     */
    public static void binary(CudaContext c, BinaryOp op, int rank, int[] outShape, CUdeviceptr a, int[] aStrides,
                              CUdeviceptr b, int[] bStrides, CUdeviceptr out) {
        if (op == null) throw new IllegalArgumentException("op is null");
        checkRank(rank);
        checkShape("outShape", outShape, rank);
        checkStrides("aStrides", aStrides, rank);
        checkStrides("bStrides", bStrides, rank);
        nonNull("a", a); nonNull("b", b); nonNull("out", out);
        long total = numel(outShape, rank);
        if (total == 0) return;
        String name = op.name().toLowerCase(Locale.ROOT);
        Layout l = coalesce(rank, outShape, aStrides, bStrides);
        int nd = l.rank;
        int[] d = l.shape, sa = l.strides[0], sb = l.strides[1];
        if (nd == 1 && sa[0] == 1 && sb[0] == 1) {
            c.kernel(FAMILY, "elementwise_binary_contig_" + name)
                    .launch(grid(c, (total + 3) / 4), 1, 1, BLOCK, 1, 1, 0, total, a, b, out);
            return;
        }
        checkInt("outShape", total);
        int ac = sa[nd - 1], bc = sb[nd - 1];
        if (nd <= 2 && (ac == 0 || ac == 1) && (bc == 0 || bc == 1)) {
            int rows = nd == 2 ? d[0] : 1, cols = d[nd - 1];
            int ar = nd == 2 ? sa[0] : 0, br = nd == 2 ? sb[0] : 0;
            boolean vec = cols % 4 == 0 && (ac == 0 || ar % 4 == 0) && (bc == 0 || br % 4 == 0);
            int[] ds = divider(cols), dv = divider(vec ? cols / 4 : 1);
            c.kernel(FAMILY, "elementwise_binary_rows_" + name)
                    .launch(grid(c, vec ? total / 4 : total), 1, 1, BLOCK, 1, 1, 0,
                            rows, cols, ds[0], ds[1], dv[0], dv[1], vec ? 1 : 0, a, ar, ac, b, br, bc, out);
            return;
        }
        Dims dims = dims(l);
        c.kernel(FAMILY, "elementwise_binary_strided_" + name)
                .launch(grid(c, total), 1, 1, BLOCK, 1, 1, 0,
                        (int) total, nd, dims.shape, dims.magic, dims.shift, a, pad(sa), b, pad(sb), out);
    }

    /** {@code dst += src} where dst is contiguous of {@code dstShape} and src is read at {@code srcStrides} (broadcast allowed). */
    public static void addInPlace(CudaContext c, int rank, int[] dstShape, CUdeviceptr dst, CUdeviceptr src, int[] srcStrides) {
        checkRank(rank);
        checkShape("dstShape", dstShape, rank);
        binary(c, BinaryOp.ADD, rank, dstShape, dst, contiguousStrides(dstShape, rank), src, srcStrides, dst);
    }

    // =====================================================================================
    // Unary
    // =====================================================================================

    /** {@code y = f(x)}, contiguous, n elements (y may alias x). */
    public static void unary(CudaContext c, UnaryOp op, long n, CUdeviceptr x, CUdeviceptr y) {
        if (op == null) throw new IllegalArgumentException("op is null");
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        nonNull("x", x); nonNull("y", y);
        if (n == 0) return;
        c.kernel(FAMILY, "elementwise_unary_" + op.name().toLowerCase(Locale.ROOT))
                .launch(grid(c, (n + 3) / 4), 1, 1, BLOCK, 1, 1, 0, n, x, y);
    }

    /** {@code gx = gy·f'(x)} (written, not accumulated), contiguous, n elements. */
    public static void unaryBackward(CudaContext c, UnaryOp op, long n, CUdeviceptr x, CUdeviceptr gy, CUdeviceptr gx) {
        if (op == null) throw new IllegalArgumentException("op is null");
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        nonNull("x", x); nonNull("gy", gy); nonNull("gx", gx);
        if (n == 0) return;
        c.kernel(FAMILY, "elementwise_unary_grad_" + op.name().toLowerCase(Locale.ROOT))
                .launch(grid(c, (n + 3) / 4), 1, 1, BLOCK, 1, 1, 0, n, x, gy, gx);
    }

    /** {@code y = silu(a)·b}, contiguous, n elements (the SwiGLU gate). */
    public static void swiglu(CudaContext c, long n, CUdeviceptr a, CUdeviceptr b, CUdeviceptr y) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        nonNull("a", a); nonNull("b", b); nonNull("y", y);
        if (n == 0) return;
        c.kernel(FAMILY, "elementwise_swiglu").launch(grid(c, n), 1, 1, BLOCK, 1, 1, 0, n, a, b, y);
    }

    /** SwiGLU backward: {@code ga = gy·b·silu'(a)}, {@code gb = gy·silu(a)} (written), contiguous, n elements. */
    public static void swigluBackward(CudaContext c, long n, CUdeviceptr a, CUdeviceptr b, CUdeviceptr gy, CUdeviceptr ga, CUdeviceptr gb) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        nonNull("a", a); nonNull("b", b); nonNull("gy", gy); nonNull("ga", ga); nonNull("gb", gb);
        if (n == 0) return;
        c.kernel(FAMILY, "elementwise_swiglu_grad").launch(grid(c, n), 1, 1, BLOCK, 1, 1, 0, n, a, b, gy, ga, gb);
    }

    // =====================================================================================
    // Fill and copies
    // =====================================================================================

    /** {@code dst[0..n) = value} (float32). */
    public static void fill(CudaContext c, long n, float value, CUdeviceptr dst) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        nonNull("dst", dst);
        if (n == 0) return;
        c.kernel(FAMILY, "elementwise_fill").launch(grid(c, (n + 3) / 4), 1, 1, BLOCK, 1, 1, 0, n, value, dst);
    }

    /** Gathers a strided view (elements of {@code elemBytes} = 1, 2, 4 or 8 bytes) into contiguous {@code dst}. */
    public static void copyStrided(CudaContext c, int elemBytes, int rank, int[] shape, CUdeviceptr src, int[] srcStrides,
                                   CUdeviceptr dst) {
        checkRank(rank);
        checkShape("shape", shape, rank);
        copyStridedTo(c, elemBytes, rank, shape, src, srcStrides, dst, contiguousStrides(shape, rank));
    }

    /**
     * {@code dst[idx·dstStrides] = src[idx·srcStrides]} for every index of {@code shape} (e.g. cat into a
     * slice of the output). The destination must not overlap itself (no zero strides over dims > 1) nor the
     * source. A copy that is contiguous on both sides becomes a device memcpy; one that transposes the
     * last two dims goes through 32×32 shared-memory tiles.
     */
    public static void copyStridedTo(CudaContext c, int elemBytes, int rank, int[] shape, CUdeviceptr src, int[] srcStrides,
                                     CUdeviceptr dst, int[] dstStrides) {
        String suffix = switch (elemBytes) {
            case 1 -> "b1"; case 2 -> "b2"; case 4 -> "b4"; case 8 -> "b8";
            default -> throw new IllegalArgumentException("elemBytes must be 1, 2, 4 or 8, got " + elemBytes);
        };
        checkRank(rank);
        checkShape("shape", shape, rank);
        checkStrides("srcStrides", srcStrides, rank);
        checkStrides("dstStrides", dstStrides, rank);
        nonNull("src", src); nonNull("dst", dst);
        long total = numel(shape, rank);
        if (total == 0) return;
        Layout l = coalesce(rank, shape, srcStrides, dstStrides);
        int nd = l.rank;
        int[] d = l.shape, ss = l.strides[0], ds = l.strides[1];
        if (nd == 1 && ss[0] == 1 && ds[0] == 1) {
            c.copy(dst, src, total * elemBytes);
            return;
        }
        checkInt("shape", total);
        Dims dims = dims(l);
        if (nd >= 2 && ss[nd - 2] == 1 && ss[nd - 1] != 1 && ss[nd - 1] != 0 && ds[nd - 1] == 1 && d[nd - 2] >= 8 && d[nd - 1] >= 8) {
            int rr = d[nd - 2], cc = d[nd - 1];
            int tilesR = (rr + 31) / 32, tilesC = (cc + 31) / 32;
            long tiles = (total / ((long) rr * cc)) * tilesR * tilesC;
            c.kernel(FAMILY, "elementwise_copy_transpose_" + suffix)
                    .launch((int) Math.min(tiles, maxBlocks(c)), 1, 1, 32, 8, 1, 0,
                            nd - 2, dims.shape, dims.magic, dims.shift, src, pad(ss), dst, pad(ds),
                            rr, cc, ss[nd - 1], ds[nd - 2], tilesR, tilesC, tiles);
            return;
        }
        c.kernel(FAMILY, "elementwise_copy_strided_" + suffix)
                .launch(grid(c, total), 1, 1, BLOCK, 1, 1, 0,
                        (int) total, nd, dims.shape, dims.magic, dims.shift, src, pad(ss), dst, pad(ds));
    }

    // =====================================================================================
    // Indexing
    // =====================================================================================

    /**
     * {@code out[i, :] = x[index[i], :]} for i < rows; x is [R, cols] float32, index int32[rows]. Indices are
     * not range-checked on the device (the caller validates them).
     */
    public static void indexSelect(CudaContext c, int rows, int cols, CUdeviceptr x, CUdeviceptr index, CUdeviceptr out) {
        if (rows < 0) throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        if (cols < 0) throw new IllegalArgumentException("cols must be >= 0, got " + cols);
        nonNull("x", x); nonNull("index", index); nonNull("out", out);
        if (rows == 0 || cols == 0) return;
        int perRow = cols % 4 == 0 ? cols / 4 : cols;
        int gx = (perRow + BLOCK - 1) / BLOCK;
        c.kernel(FAMILY, "elementwise_index_select")
                .launch(gx, Math.min(rows, 65535), 1, BLOCK, 1, 1, 0, rows, cols, x, index, out);
    }

    /**
     * {@code out = base} then {@code out[index[i], :] += src[i, :]} for i = 0..n-1 in order (base, out:
     * [baseRows, cols] float32; src [n, cols]; index int32[n], repeats allowed). Deterministic and equal to
     * the CPU loop bit for bit (no atomics). {@code out} may be the same object as {@code base} (in place);
     * otherwise they must not overlap. Indices outside [0, baseRows) are skipped.
     */
    public static void indexAdd(CudaContext c, int baseRows, int cols, CUdeviceptr base, CUdeviceptr index, int n,
                                CUdeviceptr src, CUdeviceptr out) {
        if (baseRows < 0) throw new IllegalArgumentException("baseRows must be >= 0, got " + baseRows);
        if (cols < 0) throw new IllegalArgumentException("cols must be >= 0, got " + cols);
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        nonNull("base", base); nonNull("index", index); nonNull("src", src); nonNull("out", out);
        if (out != base) c.copy(out, base, 4L * baseRows * cols);
        if (n == 0 || cols == 0 || baseRows == 0) return;
        final int block = 128;
        int colTiles = (cols + block - 1) / block;
        // Enough (column tile, row slice) blocks to fill the device; every block scans all n indices.
        int slices = (int) Math.max(1, Math.min(Math.min(baseRows, 65535), (4L * c.multiprocessors() + colTiles - 1) / colTiles));
        int rowsPerSlice = (baseRows + slices - 1) / slices;
        slices = (baseRows + rowsPerSlice - 1) / rowsPerSlice;
        c.kernel(FAMILY, "elementwise_index_add")
                .launch(colTiles, slices, 1, block, 1, 1, 0, baseRows, cols, n, rowsPerSlice, index, src, out);
    }

    // =====================================================================================
    // Layout helpers
    // =====================================================================================

    /** Coalesced iteration space: rank ≥ 1 dims (outer → inner) and per-operand strides. */
    record Layout(int rank, int[] shape, int[][] strides) {}

    /**
     * Drops size-1 dims and merges a dim into the next-inner one when it is contiguous with it for every
     * operand ({@code stride[i] == stride[i+1]·shape[i+1]}). A shape of all ones becomes one dim of 1 with
     * unit strides.
     */
    static Layout coalesce(int rank, int[] shape, int[]... strides) {
        int ops = strides.length;
        int[] d = new int[rank];
        int[][] s = new int[ops][rank];
        int nd = 0;
        for (int i = rank - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (nd > 0) {
                boolean merge = true;
                for (int k = 0; k < ops && merge; k++) merge = (long) strides[k][i] == (long) s[k][nd - 1] * d[nd - 1];
                if (merge) { d[nd - 1] *= shape[i]; continue; }
            }
            d[nd] = shape[i];
            for (int k = 0; k < ops; k++) s[k][nd] = strides[k][i];
            nd++;
        }
        if (nd == 0) {
            int[][] one = new int[ops][];
            for (int k = 0; k < ops; k++) one[k] = new int[]{1};
            return new Layout(1, new int[]{1}, one);
        }
        int[] rd = new int[nd];
        int[][] rs = new int[ops][nd];
        for (int i = 0; i < nd; i++) {
            rd[i] = d[nd - 1 - i];
            for (int k = 0; k < ops; k++) rs[k][i] = s[k][nd - 1 - i];
        }
        return new Layout(nd, rd, rs);
    }

    /** The by-value Dims8 structs of a layout: shape (padded with 1) and each dim's magic divider. */
    record Dims(int[] shape, int[] magic, int[] shift) {}

    static Dims dims(Layout l) {
        int[] sh = new int[MAX_RANK], mg = new int[MAX_RANK], sf = new int[MAX_RANK];
        for (int i = 0; i < MAX_RANK; i++) {
            int v = i < l.rank ? l.shape[i] : 1;
            int[] dv = divider(v);
            sh[i] = v; mg[i] = dv[0]; sf[i] = dv[1];
        }
        return new Dims(sh, mg, sf);
    }

    /**
     * {magic, shift} such that {@code n / d == (umulhi(n, magic) + n) >>> shift} for 0 ≤ n < 2^31 and
     * 1 ≤ d < 2^31 (magic as unsigned 32-bit bits).
     */
    static int[] divider(int d) {
        if (d < 1) throw new IllegalArgumentException("divisor must be >= 1, got " + d);
        int shift = 0;
        while ((1L << shift) < d) shift++;
        long magic = ((1L << 32) * ((1L << shift) - d)) / d + 1;
        return new int[]{(int) magic, shift};
    }

    static int[] pad(int[] a) {
        int[] r = new int[MAX_RANK];
        System.arraycopy(a, 0, r, 0, Math.min(a.length, MAX_RANK));
        return r;
    }

    static int[] contiguousStrides(int[] shape, int rank) {
        int[] s = new int[rank];
        long st = 1;
        for (int i = rank - 1; i >= 0; i--) {
            s[i] = (int) st;
            st *= Math.max(1, shape[i]);
        }
        return s;
    }

    static long numel(int[] shape, int rank) {
        long t = 1;
        for (int i = 0; i < rank; i++) t *= shape[i];
        return t;
    }

    static long maxBlocks(CudaContext c) { return 32L * c.multiprocessors(); }

    /** Blocks of {@link #BLOCK} threads for {@code work} items, capped (the kernels loop grid-stride). */
    static int grid(CudaContext c, long work) {
        return (int) Math.max(1, Math.min((work + BLOCK - 1) / BLOCK, maxBlocks(c)));
    }

    static void checkRank(int rank) {
        if (rank < 0 || rank > MAX_RANK) throw new IllegalArgumentException("rank must be in [0, 8], got " + rank);
    }

    static void checkShape(String what, int[] shape, int rank) {
        if (shape == null || shape.length < rank) throw new IllegalArgumentException(what + " needs " + rank + " dims");
        for (int i = 0; i < rank; i++)
            if (shape[i] < 0) throw new IllegalArgumentException(what + "[" + i + "] is negative: " + shape[i]);
    }

    static void checkStrides(String what, int[] strides, int rank) {
        if (strides == null || strides.length < rank) throw new IllegalArgumentException(what + " needs " + rank + " entries");
    }

    static void checkInt(String what, long total) {
        if (total > Integer.MAX_VALUE)
            throw new IllegalArgumentException(what + ": " + total + " elements; strided kernels take fewer than 2^31");
    }

    static void nonNull(String what, CUdeviceptr p) {
        if (p == null) throw new IllegalArgumentException(what + " is null");
    }
}
