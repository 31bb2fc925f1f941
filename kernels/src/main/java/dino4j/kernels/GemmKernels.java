package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, row-major: {@code C = alpha * op(A) * op(B) + beta * C} where
 * {@code op(A)[i,p] = transA ? A[p*lda + i] : A[i*lda + p]} (M×K) and likewise op(B) (K×N).
 *
 * <p>Version ladder: v1 {@link #reference} (scalar, double) — v2 naive vectorised — v3 (this) BLIS-style:
 * B packed into K-blocked column panels of width {@link #NR} (= 2 vectors), A packed into row panels of
 * {@link #MR} rows, an MR×NR register-tiled outer-product micro-kernel (12 vector accumulators held in
 * locals, broadcast A, {@code fma}, no cross-lane reduction), packing buffers reused per thread, the
 * problem split over N (or M) across {@link Parallel}'s owned pool. Edge tiles are computed on zero-padded
 * panels and written out through a scratch tile. {@code beta == 0} never reads C.
 */
public final class GemmKernels {
    private GemmKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Micro-tile rows (A broadcasts per k step). */
    public static final int MR = 6;
    /** Micro-tile columns: two vectors. */
    public static final int NR = 2 * L;
    /** K block: one packed B micro-panel (KC×NR floats) stays in L1, an A block (MC×KC) in L2. */
    static final int KC = Integer.getInteger("dino4j.gemm.kc", 256);
    static final int MC = roundUp(Integer.getInteger("dino4j.gemm.mc", 144), MR);
    static final int NC = roundUp(Integer.getInteger("dino4j.gemm.nc", 2048), NR);
    /** Below this many multiply-adds the call runs on the calling thread (fork/join costs more). */
    static final long SERIAL_FMAS = 1L << 17;

    private static int roundUp(int x, int m) { return Math.max(m, (x + m - 1) / m * m); }

    /** Per-thread packing buffers (no allocation in the hot loop). */
    private static final class Scratch {
        final float[] ap = new float[MC * KC];
        final float[] bp = new float[NC * KC];
        final float[] tile = new float[MR * NR];
    }
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("negative size " + m + "x" + n + "x" + k);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) { scaleC(m, n, beta, c, cOff, ldc); return; }
        long fmas = (long) m * n * k;
        int threads = Parallel.threads();
        if (threads == 1 || fmas < SERIAL_FMAS) {
            gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
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
                    gemmSerial(transA, transB, m, j1 - j0, k, alpha, a, aOff, lda, b, bo, ldb, beta, c, cOff + j0, ldc);
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
                    gemmSerial(transA, transB, i1 - i0, n, k, alpha, a, ao, lda, b, bOff, ldb, beta, c, cOff + i0 * ldc, ldc);
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
                    gemmSerial(transA, transB, m, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB, ldb,
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

    /** The blocked algorithm on the calling thread (loop order jc, pc, ic, jr, ir as in BLIS). */
    static void gemmSerial(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc) {
        Scratch s = SCRATCH.get();
        float[] ap = s.ap, bp = s.bp, tile = s.tile;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                // beta is applied once, before the first K block: 0 -> overwrite, 1 -> add, else pre-scale C.
                boolean accumulate = pc > 0 || beta != 0f;
                if (pc == 0 && beta != 0f && beta != 1f) scaleC(m, nc, beta, c, cOff + jc, ldc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(transA, a, aOff, lda, ic, mc, pc, kc, ap);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int bi = jr * kc; // panel jr/NR starts at (jr/NR)*kc*NR
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            int ci = cOff + (ic + ir) * ldc + jc + jr;
                            kernel6x2(ap, ir * kc, bp, bi, kc, c, ci, ldc, alpha, accumulate, mr, nr, tile);
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
                        ap[d] = a[src]; ap[d + 1] = a[src + 1]; ap[d + 2] = a[src + 2];
                        ap[d + 3] = a[src + 3]; ap[d + 4] = a[src + 4]; ap[d + 5] = a[src + 5];
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
     * The 6×(2 vectors) micro-kernel: C[0:mr, 0:nr] = alpha * Ap·Bp (+ C when {@code accumulate}; otherwise
     * C is not read).
     * Written out by hand so that the 12 accumulators stay in registers.
     */
    static void kernel6x2(float[] ap, int ai, float[] bp, int bi, int kc, float[] c, int ci, int ldc,
                          float alpha, boolean accumulate, int mr, int nr, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector av;
            av = FloatVector.broadcast(F, ap[ai]);     c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(F, ap[ai + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(F, ap[ai + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(F, ap[ai + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(F, ap[ai + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(F, ap[ai + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            ai += MR;
            bi += NR;
        }
        FloatVector va = FloatVector.broadcast(F, alpha);
        if (mr == MR && nr == NR) {
            // Written out (no helper taking vectors) so C2 never boxes the accumulators at a call boundary.
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
                c51.fma(va, FloatVector.fromArray(F, c, ci + L)).intoArray(c, ci + L);
            } else {
                c00.mul(va).intoArray(c, ci); c01.mul(va).intoArray(c, ci + L); ci += ldc;
                c10.mul(va).intoArray(c, ci); c11.mul(va).intoArray(c, ci + L); ci += ldc;
                c20.mul(va).intoArray(c, ci); c21.mul(va).intoArray(c, ci + L); ci += ldc;
                c30.mul(va).intoArray(c, ci); c31.mul(va).intoArray(c, ci + L); ci += ldc;
                c40.mul(va).intoArray(c, ci); c41.mul(va).intoArray(c, ci + L); ci += ldc;
                c50.mul(va).intoArray(c, ci); c51.mul(va).intoArray(c, ci + L);
            }
        } else {
            c00.intoArray(tile, 0);           c01.intoArray(tile, L);
            c10.intoArray(tile, NR);          c11.intoArray(tile, NR + L);
            c20.intoArray(tile, 2 * NR);      c21.intoArray(tile, 2 * NR + L);
            c30.intoArray(tile, 3 * NR);      c31.intoArray(tile, 3 * NR + L);
            c40.intoArray(tile, 4 * NR);      c41.intoArray(tile, 4 * NR + L);
            c50.intoArray(tile, 5 * NR);      c51.intoArray(tile, 5 * NR + L);
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
