package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, row-major: {@code C = alpha * op(A) * op(B) + beta * C} where
 * {@code op(A)[i,p] = transA ? A[p*lda + i] : A[i*lda + p]} (M×K) and likewise op(B) (K×N).
 *
 * <p>Version ladder: v1 {@link #reference} (scalar, double) — v2 naive vectorised — v3 (this) BLIS-style:
 * B packed into K-blocked column panels of width {@link #NR} (= 2 vectors), A packed into row panels of
 * {@link #MR} rows, an MR×NR register-tiled outer-product micro-kernel (2·MR vector accumulators held in
 * locals, broadcast A, {@code fma}, no cross-lane reduction), packing buffers reused per thread, the
 * problem split over N (or M) across {@link Parallel}'s owned pool. Edge tiles are computed on zero-padded
 * panels and written out through a scratch tile. {@code beta == 0} never reads C. Small problems with B not
 * transposed (attention-sized, ≤ 2^21 multiply-adds) skip packing: {@link #micro} reads A and B in place. Larger ones
 * pack B only: full MR-row tiles read A in place (its rows are contiguous in K, or MR-wide contiguous when transposed);
 * ragged bottom tiles use a zero-padded packed A panel. Wide problems (≥ {@link #PACK_A_MIN_NC} columns per block)
 * pack A too.
 *
 * <p>Three copies of the micro-kernel, identical but for how they index: {@link #micro} (any strides; the
 * unpacked small-problem path), {@link #microRowA} (row-major A in place, packed B) and {@link #microPacked}
 * (both packed). With strides known to C2 as constants (or unit stride per row) it hoists the array range
 * checks out of the k loop; with variable strides it checks every broadcast. Measured on the training shapes
 * (17664×768×192 etc., scratch harness, warm caches): 15–40 % more GFLOP/s than the strided kernel alone;
 * in the SSL step 121 → 134 GFLOP/s on average over 3 interleaved profile pairs. Java has no templates and a
 * vector passed to a non-inlined helper is boxed, so the copies stay written out: one method holding the three
 * k loops before one shared epilogue was tried, and C2 left it to the Vector API's boxed fallback (a
 * 17664×768×192 product ran for minutes instead of milliseconds; jstack showed FloatVector.lanewiseTemplate).
 */
public final class GemmKernels {
    private GemmKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** MR lanes: one packed-A row of a transposed A in one move. */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /** Micro-tile rows (A broadcasts per k step). */
    public static final int MR = 8;
    /** Micro-tile columns: two vectors. */
    public static final int NR = 2 * L;
    /**
     * Blocking (measured on the 2-core Xeon, 48 KiB L1d / 2 MiB L2 per core, see bench/results/gemm-cpu.md):
     * K block 256 (one packed B micro-panel KC×NR = 32 KiB stays in L1), A block MC×KC = 96 KiB and B block
     * KC×NC = 1 MiB both stay in L2. Overridable with -Ddino4j.gemm.kc/mc/nc for tuning runs.
     */
    static final int KC = Integer.getInteger("dino4j.gemm.kc", 256);
    static final int MC = roundUp(Integer.getInteger("dino4j.gemm.mc", 96), MR);
    static final int NC = roundUp(Integer.getInteger("dino4j.gemm.nc", 1024), NR);
    /** Below this many multiply-adds the call runs on the calling thread (fork/join costs more). */
    static final long SERIAL_FMAS = 3L << 20;
    /** At or below this many multiply-adds (64×64×64 is 2^18) a non-transposed B is read in place, unpacked. */
    static final long DIRECT_FMAS = 1L << 21;
    /** Pack every A panel (the classic BLIS path) instead of reading full MR-row tiles in place; for comparisons. */
    static boolean PACK_A = Boolean.getBoolean("dino4j.gemm.packA");
    /**
     * With the constant-stride micro-kernels, a packed A block pays for its copy once it feeds this many
     * columns (measured: 17664×768×192 packed 240–280 GFLOP/s vs 200–230 in place; 17664×192×768 packed
     * 157–201 vs 192–236 in place; the 2-core Xeon, session 4).
     */
    static int PACK_A_MIN_NC = Integer.getInteger("dino4j.gemm.packAMinN", 384);
    /** Packed tiles run {@link #microPacked} (constant strides); false: the general {@link #micro}. For comparisons. */
    static boolean PACKED_MICRO = !"false".equals(System.getProperty("dino4j.gemm.packedMicro"));

    /** What a float32 GEMM may compute in: FP32 (the Vector-API kernels) or BF16 products on AMX or AVX512-BF16 ({@link GemmBf16}). */
    public enum Precision { FP32, BF16 }

    private static volatile Precision precision = parsePrecision("-Ddino4j.cpu.matmul", System.getProperty("dino4j.cpu.matmul", "fp32"));

    /** fp32 or bf16 (any case); the error names {@code option}. */
    public static Precision parsePrecision(String option, String p) {
        try {
            return Precision.valueOf(p.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " must be fp32 or bf16, got '" + p + "'");
        }
    }

    /** The requested precision; BF16 runs on AMX or AVX512-BF16 only where {@link GemmBf16#available()}, else FP32. */
    public static Precision matmulPrecision() { return precision; }

    /**
     * Sets the precision of large products ({@link GemmBf16#MIN_FMAS} multiply-adds or more; smaller ones and the
     * float64 reference always run in full precision). Returns the precision products will actually use.
     */
    public static Precision setMatmulPrecision(Precision p) {
        precision = java.util.Objects.requireNonNull(p, "precision");
        return p == Precision.BF16 && !GemmBf16.available() ? Precision.FP32 : p;
    }

    private static int roundUp(int x, int m) { return Math.max(m, (x + m - 1) / m * m); }

    /** Per-thread packing buffers (no allocation in the hot loop). */
    private static final class Scratch {
        final float[] ap = new float[MC * KC];
        float[] bp = new float[0];
        final float[] tile = new float[MR * NR];

        /** The B buffer, grown to the largest block this thread has packed (at most KC×NC). */
        float[] bp(int floats) {
            if (bp.length < floats) bp = new float[floats];
            return bp;
        }
    }
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null, 0);
    }

    /**
     * {@code C = op(A)·op(B) + bias} with bias[n] added to every row (PyTorch Linear): the bias seeds the
     * micro-kernel's accumulators, so C is written once and never read (no bias pass, no beta = 1 re-read).
     */
    public static void sgemmBias(boolean transA, boolean transB, int m, int n, int k,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] bias, int biasOff, float[] c, int cOff, int ldc) {
        if (bias == null) throw new IllegalArgumentException("sgemmBias needs a bias (use sgemm without one)");
        sgemm(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, 0f, c, cOff, ldc, bias, biasOff);
    }

    private static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("negative size " + m + "x" + n + "x" + k);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f || (bias != null && (long) m * n * k < SERIAL_FMAS)) {
            // trivial or small with a bias: C = bias rows, then accumulate (the pass over C is cheap here)
            if (bias == null) { scaleC(m, n, beta, c, cOff, ldc); return; }
            for (int i = 0; i < m; i++) System.arraycopy(bias, biasOff, c, cOff + i * ldc, n);
            if (k == 0 || alpha == 0f) return;
            bias = null;
            beta = 1f;
        }
        long fmas = (long) m * n * k;
        if (precision == Precision.BF16 && fmas >= GemmBf16.MIN_FMAS && GemmBf16.available()) {
            GemmBf16.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, bias, biasOff);
            return;
        }
        int threads = Parallel.threads();
        if (threads == 1 || fmas < SERIAL_FMAS) {
            if (bias != null) gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, bias, biasOff);
            else serial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        final float[] bs = bias;
        final float bt = beta;
        // Split the larger output dimension into NR- (or MR-) aligned chunks, one per thread at most.
        boolean splitN = n >= m ? n >= 2 * NR || m < 2 * MR : false;
        if (!splitN && m < 2 * MR) splitN = true;
        if (splitN) {
            int panels = (n + NR - 1) / NR;
            int tasks = Math.min(threads, panels);
            Parallel.forEachTask(tasks, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int j0 = Math.min(n, (int) ((long) panels * t / tasks) * NR);
                    int j1 = Math.min(n, (int) ((long) panels * (t + 1) / tasks) * NR);
                    if (j1 <= j0) continue;
                    int bo = transB ? bOff + j0 * ldb : bOff + j0;
                    gemmSerial(transA, transB, m, j1 - j0, k, alpha, a, aOff, lda, b, bo, ldb, bt, c, cOff + j0, ldc, bs, biasOff + j0);
                }
            });
        } else {
            int panels = (m + MR - 1) / MR;
            int tasks = Math.min(threads, panels);
            Parallel.forEachTask(tasks, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int i0 = Math.min(m, (int) ((long) panels * t / tasks) * MR);
                    int i1 = Math.min(m, (int) ((long) panels * (t + 1) / tasks) * MR);
                    if (i1 <= i0) continue;
                    int ao = transA ? aOff + i0 : aOff + i0 * lda;
                    gemmSerial(transA, transB, i1 - i0, n, k, alpha, a, ao, lda, b, bOff, ldb, bt, c, cOff + i0 * ldc, ldc, bs, biasOff);
                }
            });
        }
    }

    /** {@code batch} independent GEMMs; matrix {@code t} starts at {@code off + t*stride} in each array. */
    public static void sgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                    float[] a, int aOff, int lda, int strideA,
                                    float[] b, int bOff, int ldb, int strideB,
                                    float beta, float[] c, int cOff, int ldc, int strideC) {
        if (batch <= 0) return;
        long fmas = (long) m * n * k;
        int threads = Parallel.threads();
        // Small matrices: one serial GEMM per batch item, the batch spread over the pool.
        if (batch > 1 && threads > 1 && fmas < (1L << 21)) {
            Parallel.forRange(batch, 1, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    if (m == 0 || n == 0) continue;
                    if (k == 0 || alpha == 0f) { scaleC(m, n, beta, c, cOff + t * strideC, ldc); continue; }
                    serial(transA, transB, m, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB, ldb,
                            beta, c, cOff + t * strideC, ldc);
                }
            });
            return;
        }
        for (int t = 0; t < batch; t++) {
            sgemm(transA, transB, m, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB, ldb,
                    beta, c, cOff + t * strideC, ldc);
        }
    }

    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int r = cOff + i * ldc;
            if (beta == 0f) java.util.Arrays.fill(c, r, r + n, 0f);
            else if (beta != 1f) for (int j = 0; j < n; j++) c[r + j] *= beta;
        }
    }

    /** One GEMM on the calling thread: the unpacked small-problem path when it applies, else the blocked one. */
    static void serial(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float beta, float[] c, int cOff, int ldc) {
        if (!transB && m >= MR && n >= NR && (long) m * n * k <= DIRECT_FMAS) {
            direct(transA, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /**
     * Small problems, B not transposed: no packing (packing costs as much as the math at 64×64×64). Full
     * MR×NR tiles read A and B in place; the ragged right and bottom strips go through the blocked path.
     */
    static void direct(boolean transA, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                       float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (beta != 0f && beta != 1f) { scaleC(m, n, beta, c, cOff, ldc); beta = 1f; }
        boolean accumulate = beta != 0f;
        int m0 = m - m % MR, n0 = n - n % NR;
        int ars = transA ? 1 : lda, aps = transA ? lda : 1;
        for (int i = 0; i < m0; i += MR) {
            int ai = transA ? aOff + i : aOff + i * lda;
            for (int j = 0; j < n0; j += NR) {
                micro(a, ai, ars, aps, b, bOff + j, ldb, k, c, cOff + i * ldc + j, ldc, alpha, accumulate, MR, NR, null, null, 0);
            }
        }
        if (n0 < n) {
            gemmSerial(transA, false, m0, n - n0, k, alpha, a, aOff, lda, b, bOff + n0, ldb, beta, c, cOff + n0, ldc);
        }
        if (m0 < m) {
            int ao = transA ? aOff + m0 : aOff + m0 * lda;
            gemmSerial(transA, false, m - m0, n, k, alpha, a, ao, lda, b, bOff, ldb, beta, c, cOff + m0 * ldc, ldc);
        }
    }

    /** The blocked algorithm on the calling thread (loop order jc, pc, ic, jr, ir as in BLIS). */
    static void gemmSerial(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc) {
        gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null, 0);
    }

    /** As above; a non-null bias (with beta = 0, alpha = 1) seeds the accumulators of the first K block. */
    static void gemmSerial(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        Scratch s = SCRATCH.get();
        float[] ap = s.ap, tile = s.tile;
        float[] bp = s.bp(Math.min(KC, k) * roundUp(Math.min(NC, n), NR));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                // beta is applied once, before the first K block: 0 -> overwrite, 1 -> add, else pre-scale C.
                boolean accumulate = pc > 0 || beta != 0f;
                if (pc == 0 && beta != 0f && beta != 1f) scaleC(m, nc, beta, c, cOff + jc, ldc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp);
                int ars = transA ? 1 : lda, aps = transA ? lda : 1;
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    // rows [ic, ic + mFull) are read in place when A is row-major (measured 10–20 % faster at K = 192–768);
                    // a transposed A is packed (its MR-wide rows are lda apart: packing measured faster)
                    int mFull = PACK_A || transA || (PACKED_MICRO && nc >= PACK_A_MIN_NC) ? 0 : mc - mc % MR;
                    if (mFull < mc) packA(transA, a, aOff, lda, ic + mFull, mc - mFull, pc, kc, ap);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int bi = jr * kc; // panel jr/NR starts at (jr/NR)*kc*NR
                        float[] bz = pc == 0 ? bias : null;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            int ci = cOff + (ic + ir) * ldc + jc + jr;
                            if (ir < mFull) {
                                int ai = aOff + (ic + ir) * ars + pc * aps;
                                if (PACKED_MICRO) microRowA(a, ai, lda, bp, bi, kc, c, ci, ldc, alpha, accumulate, mr, nr, tile, bz, biasOff + jc + jr);
                                else micro(a, ai, ars, aps, bp, bi, NR, kc, c, ci, ldc, alpha, accumulate, mr, nr, tile, bz, biasOff + jc + jr);
                            } else if (PACKED_MICRO) {
                                microPacked(ap, (ir - mFull) * kc, bp, bi, kc, c, ci, ldc, alpha, accumulate, mr, nr, tile, bz, biasOff + jc + jr);
                            } else {
                                micro(ap, (ir - mFull) * kc, 1, MR, bp, bi, NR, kc, c, ci, ldc, alpha, accumulate, mr, nr, tile, bz, biasOff + jc + jr);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels, each kc×NR row-major, zero-padded. */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp) {
        int dst = 0;
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int j = jc + jr;
            if (!transB) {
                int src = bOff + pc * ldb + j;
                if (nr == NR) {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        FloatVector.fromArray(F, b, src).intoArray(bp, dst);
                        FloatVector.fromArray(F, b, src + L).intoArray(bp, dst + L);
                    }
                } else {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        for (int jj = 0; jj < nr; jj++) bp[dst + jj] = b[src + jj];
                        for (int jj = nr; jj < NR; jj++) bp[dst + jj] = 0f;
                    }
                }
            } else {
                // op(B)[p, j] = b[j*ldb + p]: each column of op(B) is contiguous in p.
                for (int jj = 0; jj < nr; jj++) {
                    int src = bOff + (j + jj) * ldb + pc;
                    int d = dst + jj;
                    for (int p = 0; p < kc; p++, d += NR) bp[d] = b[src + p];
                }
                if (nr < NR) {
                    for (int p = 0; p < kc; p++) for (int jj = nr; jj < NR; jj++) bp[dst + p * NR + jj] = 0f;
                }
                dst += kc * NR;
            }
        }
    }

    /** Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels, each kc×MR (k-major), zero-padded. */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] ap) {
        int dst = 0;
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int i = ic + ir;
            if (!transA) {
                for (int r = 0; r < mr; r++) {
                    int src = aOff + (i + r) * lda + pc;
                    int d = dst + r;
                    for (int p = 0; p < kc; p++, d += MR) ap[d] = a[src + p];
                }
                for (int r = mr; r < MR; r++) for (int p = 0; p < kc; p++) ap[dst + p * MR + r] = 0f;
            } else {
                int src = aOff + pc * lda + i;
                int d = dst;
                if (mr == MR) {
                    for (int p = 0; p < kc; p++, src += lda, d += MR) {
                        FloatVector.fromArray(F8, a, src).intoArray(ap, d);   // arraycopy of 8 costs more than the copy
                    }
                } else {
                    for (int p = 0; p < kc; p++, src += lda, d += MR) {
                        for (int r = 0; r < mr; r++) ap[d + r] = a[src + r];
                        for (int r = mr; r < MR; r++) ap[d + r] = 0f;
                    }
                }
            }
            dst += kc * MR;
        }
    }

    /**
     * The micro-kernel, MR×(2 vectors) (generated, MR=8): C[0:mr, 0:nr] = alpha·op(A)·op(B) (+ C when
     * {@code accumulate}; otherwise C is not read), op(A)[r, p] at {@code a[ai + r·ars + p·aps]} and
     * op(B)[p, 0:NR] contiguous at {@code b[bi + p·bstep]}. A packed panel is (ars, aps) = (1, MR), a
     * row-major A read in place (lda, 1), a transposed one (1, lda); a packed B panel has bstep = NR, an
     * unpacked non-transposed B ldb. Rows r ≥ mr of A must be readable (zero-padded panels); columns
     * ≥ nr of B are computed and dropped. Written out by hand so that the accumulators stay in registers
     * and no vector crosses a call boundary (C2 would box it).
     */
    static void micro(float[] a, int ai, int ars, int aps, float[] b, int bi, int bstep, int kc,
                      float[] c, int ci, int ldc, float alpha, boolean accumulate, int mr, int nr, float[] tile,
                      float[] bias, int bo) {
        // accumulators start at zero, or at the bias row (alpha is 1 then): C = bias + A·B in one write
        FloatVector z0 = FloatVector.zero(F), z1 = z0;
        if (bias != null) {
            z0 = FloatVector.fromArray(F, bias, bo, F.indexInRange(0, nr));
            z1 = FloatVector.fromArray(F, bias, bo + L, F.indexInRange(L, nr));
        }
        FloatVector c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1, c30 = z0, c31 = z1;
        FloatVector c40 = z0, c41 = z1, c50 = z0, c51 = z1, c60 = z0, c61 = z1, c70 = z0, c71 = z1;
        final int o1 = ars, o2 = 2 * ars, o3 = 3 * ars, o4 = 4 * ars, o5 = 5 * ars, o6 = 6 * ars, o7 = 7 * ars;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(F, b, bi);
            FloatVector b1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector av;
            av = FloatVector.broadcast(F, a[ai]); c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(F, a[ai + o1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(F, a[ai + o2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(F, a[ai + o3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(F, a[ai + o4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(F, a[ai + o5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(F, a[ai + o6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(F, a[ai + o7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            ai += aps;
            bi += bstep;
        }
        FloatVector va = FloatVector.broadcast(F, alpha);
        if (mr == MR && nr == NR) {
            if (accumulate) {
                c00.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c01.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c10.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c11.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c20.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c21.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c30.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c31.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c40.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c41.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c50.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c51.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c60.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c61.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c70.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c71.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L);
            } else {
                c00.mul(va).intoArray(c, ci); c01.mul(va).intoArray(c, ci + L); ci += ldc;
                c10.mul(va).intoArray(c, ci); c11.mul(va).intoArray(c, ci + L); ci += ldc;
                c20.mul(va).intoArray(c, ci); c21.mul(va).intoArray(c, ci + L); ci += ldc;
                c30.mul(va).intoArray(c, ci); c31.mul(va).intoArray(c, ci + L); ci += ldc;
                c40.mul(va).intoArray(c, ci); c41.mul(va).intoArray(c, ci + L); ci += ldc;
                c50.mul(va).intoArray(c, ci); c51.mul(va).intoArray(c, ci + L); ci += ldc;
                c60.mul(va).intoArray(c, ci); c61.mul(va).intoArray(c, ci + L); ci += ldc;
                c70.mul(va).intoArray(c, ci); c71.mul(va).intoArray(c, ci + L);
            }
        } else {
            c00.intoArray(tile, 0 * NR); c01.intoArray(tile, 0 * NR + L);
            c10.intoArray(tile, 1 * NR); c11.intoArray(tile, 1 * NR + L);
            c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
            c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
            c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
            c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
            c60.intoArray(tile, 6 * NR); c61.intoArray(tile, 6 * NR + L);
            c70.intoArray(tile, 7 * NR); c71.intoArray(tile, 7 * NR + L);
            for (int r = 0; r < mr; r++) {
                int row = ci + r * ldc, t = r * NR;
                if (accumulate) for (int j = 0; j < nr; j++) c[row + j] += alpha * tile[t + j];
                else for (int j = 0; j < nr; j++) c[row + j] = alpha * tile[t + j];
            }
        }
    }

    /** {@link #micro} on a packed A panel and a packed B panel. */
    static void microPacked(float[] a, int ai, float[] b, int bi, int kc,
                      float[] c, int ci, int ldc, float alpha, boolean accumulate, int mr, int nr, float[] tile,
                      float[] bias, int bo) {
        // accumulators start at zero, or at the bias row (alpha is 1 then): C = bias + A·B in one write
        FloatVector z0 = FloatVector.zero(F), z1 = z0;
        if (bias != null) {
            z0 = FloatVector.fromArray(F, bias, bo, F.indexInRange(0, nr));
            z1 = FloatVector.fromArray(F, bias, bo + L, F.indexInRange(L, nr));
        }
        FloatVector c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1, c30 = z0, c31 = z1;
        FloatVector c40 = z0, c41 = z1, c50 = z0, c51 = z1, c60 = z0, c61 = z1, c70 = z0, c71 = z1;
        // strides are compile-time constants here (packed A: MR floats per k, packed B: NR), so C2 can
        // hoist the array range checks out of the loop (with variable strides it checks every load)
        for (int p = 0; p < kc; p++) {
            int pa = ai + p * MR, pb = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, pb);
            FloatVector b1 = FloatVector.fromArray(F, b, pb + L);
            FloatVector av;
            av = FloatVector.broadcast(F, a[pa]); c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(F, a[pa + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(F, a[pa + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(F, a[pa + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(F, a[pa + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(F, a[pa + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(F, a[pa + 6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(F, a[pa + 7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
        }
        FloatVector va = FloatVector.broadcast(F, alpha);
        if (mr == MR && nr == NR) {
            if (accumulate) {
                c00.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c01.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c10.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c11.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c20.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c21.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c30.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c31.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c40.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c41.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c50.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c51.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c60.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c61.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c70.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c71.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L);
            } else {
                c00.mul(va).intoArray(c, ci); c01.mul(va).intoArray(c, ci + L); ci += ldc;
                c10.mul(va).intoArray(c, ci); c11.mul(va).intoArray(c, ci + L); ci += ldc;
                c20.mul(va).intoArray(c, ci); c21.mul(va).intoArray(c, ci + L); ci += ldc;
                c30.mul(va).intoArray(c, ci); c31.mul(va).intoArray(c, ci + L); ci += ldc;
                c40.mul(va).intoArray(c, ci); c41.mul(va).intoArray(c, ci + L); ci += ldc;
                c50.mul(va).intoArray(c, ci); c51.mul(va).intoArray(c, ci + L); ci += ldc;
                c60.mul(va).intoArray(c, ci); c61.mul(va).intoArray(c, ci + L); ci += ldc;
                c70.mul(va).intoArray(c, ci); c71.mul(va).intoArray(c, ci + L);
            }
        } else {
            c00.intoArray(tile, 0 * NR); c01.intoArray(tile, 0 * NR + L);
            c10.intoArray(tile, 1 * NR); c11.intoArray(tile, 1 * NR + L);
            c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
            c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
            c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
            c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
            c60.intoArray(tile, 6 * NR); c61.intoArray(tile, 6 * NR + L);
            c70.intoArray(tile, 7 * NR); c71.intoArray(tile, 7 * NR + L);
            for (int r = 0; r < mr; r++) {
                int row = ci + r * ldc, t = r * NR;
                if (accumulate) for (int j = 0; j < nr; j++) c[row + j] += alpha * tile[t + j];
                else for (int j = 0; j < nr; j++) c[row + j] = alpha * tile[t + j];
            }
        }
    }

    /** {@link #micro} on MR rows of a row-major A read in place ({@code lda} apart) and a packed B panel. */
    static void microRowA(float[] a, int ai, int lda, float[] b, int bi, int kc,
                      float[] c, int ci, int ldc, float alpha, boolean accumulate, int mr, int nr, float[] tile,
                      float[] bias, int bo) {
        // accumulators start at zero, or at the bias row (alpha is 1 then): C = bias + A·B in one write
        FloatVector z0 = FloatVector.zero(F), z1 = z0;
        if (bias != null) {
            z0 = FloatVector.fromArray(F, bias, bo, F.indexInRange(0, nr));
            z1 = FloatVector.fromArray(F, bias, bo + L, F.indexInRange(L, nr));
        }
        FloatVector c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1, c30 = z0, c31 = z1;
        FloatVector c40 = z0, c41 = z1, c50 = z0, c51 = z1, c60 = z0, c61 = z1, c70 = z0, c71 = z1;
        // each row's index is (its base) + p: unit stride in the loop variable, so C2 can hoist the range checks
        final int r0 = ai, r1 = ai + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda, r6 = r5 + lda, r7 = r6 + lda;
        for (int p = 0; p < kc; p++) {
            int pb = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, pb);
            FloatVector b1 = FloatVector.fromArray(F, b, pb + L);
            FloatVector av;
            av = FloatVector.broadcast(F, a[r0 + p]); c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(F, a[r1 + p]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(F, a[r2 + p]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(F, a[r3 + p]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(F, a[r4 + p]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(F, a[r5 + p]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(F, a[r6 + p]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(F, a[r7 + p]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
        }
        FloatVector va = FloatVector.broadcast(F, alpha);
        if (mr == MR && nr == NR) {
            if (accumulate) {
                c00.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c01.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c10.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c11.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c20.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c21.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c30.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c31.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c40.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c41.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c50.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c51.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c60.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c61.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L); ci += ldc;
                c70.fma(va, FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
                c71.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L);
            } else {
                c00.mul(va).intoArray(c, ci); c01.mul(va).intoArray(c, ci + L); ci += ldc;
                c10.mul(va).intoArray(c, ci); c11.mul(va).intoArray(c, ci + L); ci += ldc;
                c20.mul(va).intoArray(c, ci); c21.mul(va).intoArray(c, ci + L); ci += ldc;
                c30.mul(va).intoArray(c, ci); c31.mul(va).intoArray(c, ci + L); ci += ldc;
                c40.mul(va).intoArray(c, ci); c41.mul(va).intoArray(c, ci + L); ci += ldc;
                c50.mul(va).intoArray(c, ci); c51.mul(va).intoArray(c, ci + L); ci += ldc;
                c60.mul(va).intoArray(c, ci); c61.mul(va).intoArray(c, ci + L); ci += ldc;
                c70.mul(va).intoArray(c, ci); c71.mul(va).intoArray(c, ci + L);
            }
        } else {
            c00.intoArray(tile, 0 * NR); c01.intoArray(tile, 0 * NR + L);
            c10.intoArray(tile, 1 * NR); c11.intoArray(tile, 1 * NR + L);
            c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
            c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
            c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
            c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
            c60.intoArray(tile, 6 * NR); c61.intoArray(tile, 6 * NR + L);
            c70.intoArray(tile, 7 * NR); c71.intoArray(tile, 7 * NR + L);
            for (int r = 0; r < mr; r++) {
                int row = ci + r * ldc, t = r * NR;
                if (accumulate) for (int j = 0; j < nr; j++) c[row + j] += alpha * tile[t + j];
                else for (int j = 0; j < nr; j++) c[row + j] = alpha * tile[t + j];
            }
        }
    }

    /** Scalar reference in double (the conformance oracle and the float64 backend). */
    public static void reference(boolean transA, boolean transB, int m, int n, int k, double alpha,
                                 double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                                 double beta, double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0 ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }
}
