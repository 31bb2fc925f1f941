package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multi-head scaled-dot-product attention with axial RoPE on q/k patch rows (spec §1.5/§1.6),
 * FlashAttention-2 style on the CPU: memory linear in the sequence length (the N×N score matrix is
 * never materialised; query tiles of 64 × key tiles of 64 with an online softmax),
 * the per-row log-sum-exp saved for the backward, which recomputes the probabilities from it.
 *
 * <p>Layout: element {@code (b, t, head, d)} of q/k/v (and of gq/gk/gv) lives at
 * {@code base + b*bStride + t*tStride + head*hStride + d} ({@code d} contiguous). With one fused qkv
 * buffer {@code [B, N, 3D]}: q at offset 0, k at D, v at 2D, tStride = 3D, hStride = Dh,
 * bStride = N*3D — and the gradients can go into one dqkv buffer of the same layout.
 * {@code out}/{@code gOut} are {@code [B, N, H*Dh]} contiguous (heads concatenated, head-major);
 * {@code lse} is {@code [B*H*N]} at index {@code (b*H + head)*N + t}, in natural-log units of the
 * scaled scores.
 *
 * <p>RoPE: when {@code rope != null}, tokens {@code [0, prefix)} (CLS + storage) are left unrotated and
 * token {@code t ≥ prefix} uses table row {@code t − prefix}; so {@code rope.tokens() == N − prefix}.
 * q and k are rotated while being copied into per-thread tiles (inputs are never modified); the
 * backward applies the inverse (transpose) rotation to dq/dk.
 *
 * <p>Parallel over (batch, head) (forward: also over query-block chunks when B·H is small next to the
 * thread count); each task owns its slice of every output, so no races (also when gq/gk/gv are one array). Per-thread scratch is reused across calls (no allocation in the hot loop).
 */
public final class AttentionKernels {
    private AttentionKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Query tile rows. */
    static final int BQ = Math.max(1, Integer.getInteger("dino4j.attn.bq", 64));
    /** Key tile columns (rounded to a multiple of the species length). Both overridable for tuning runs. */
    static final int BK = roundUp(Math.max(1, Integer.getInteger("dino4j.attn.bk", 64)), Simd.LANES);

    /**
     * Sequences of at most this many tokens (padded) take one query block and one key block: no online-softmax
     * rescaling and no ragged second tile (69 tokens used to run as 64 + 5 queries × 64 + 16 keys).
     * {@code -Ddino4j.attn.single=0} turns it off, for comparisons.
     */
    static final int SINGLE = Integer.getInteger("dino4j.attn.single", 128);

    static int blockQ(int N) { return N <= SINGLE ? Math.max(1, N) : BQ; }

    static int blockK(int NP) { return NP <= SINGLE ? Math.max(Simd.LANES, NP) : BK; }

    private static final class Scratch {
        final float[][] a = new float[16][];
        float[] get(int idx, int size) {
            float[] x = a[idx];
            if (x == null || x.length < size) { x = new float[Math.max(size, x == null ? 0 : x.length * 5 / 4)]; a[idx] = x; }
            return x;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static int roundUp(int x, int m) { return (x + m - 1) / m * m; }

    private static void checkArgs(int B, int H, int N, int Dh, RopeTable rope, int prefix) {
        if (B < 0 || H < 0 || N < 0 || Dh <= 0) throw new IllegalArgumentException("bad shape B=" + B + " H=" + H + " N=" + N + " Dh=" + Dh);
        if (rope != null) {
            if (prefix < 0 || prefix > N) throw new IllegalArgumentException("prefix " + prefix + " outside [0, " + N + "]");
            if (rope.headDim() != Dh) throw new IllegalArgumentException("rope headDim " + rope.headDim() + " != Dh " + Dh);
            if (rope.tokens() != N - prefix)
                throw new IllegalArgumentException("rope table has " + rope.tokens() + " rows, need N - prefix = " + (N - prefix));
        }
    }

    private static void checkRefArgs(int N, int Dh, RopeKernels.RefTable rope, int prefix) {
        if (rope != null) {
            if (prefix < 0 || prefix > N) throw new IllegalArgumentException("prefix " + prefix + " outside [0, " + N + "]");
            if (rope.headDim() != Dh) throw new IllegalArgumentException("rope headDim " + rope.headDim() + " != Dh " + Dh);
            if (rope.tokens() != N - prefix)
                throw new IllegalArgumentException("rope table has " + rope.tokens() + " rows, need N - prefix = " + (N - prefix));
        }
    }

    // =============================================================== forward

    /**
     * {@code out = softmax(scale · rope(q) rope(k)ᵀ) v} per (batch, head); {@code lse} (nullable when no
     * backward follows) receives the per-row log-sum-exp of the scaled scores. Inputs are not modified.
     */
    public static void forward(int B, int H, int N, int Dh, float scale,
                               float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                               int bStride, int tStride, int hStride,
                               RopeTable rope, int prefix,
                               float[] out, int outOff, float[] lse) {
        checkArgs(B, H, N, Dh, rope, prefix);
        if (B == 0 || H == 0 || N == 0) return;
        // (batch, head) tasks, split further into query-block chunks when there are too few to keep
        // every thread busy (each chunk re-prepares its head's K/V: O(N·Dh), small next to O(N²·Dh / chunks))
        int bq = blockQ(N), bh = B * H, nqb = (N + bq - 1) / bq;
        int chunks = Math.max(1, Math.min(nqb, (2 * Parallel.threads() + bh - 1) / bh));
        Parallel.forRange(bh * chunks, 1, (t0, t1) -> {
            Scratch s = SCRATCH.get();
            for (int task = t0; task < t1; task++) {
                int head = task / chunks, c = task % chunks;
                int b = head / H, h = head % H;
                int qs = (int) ((long) nqb * c / chunks) * bq, qe = Math.min(N, (int) ((long) nqb * (c + 1) / chunks) * bq);
                forwardTask(s, b, h, H, N, Dh, scale, q, qOff, k, kOff, v, vOff, bStride, tStride, hStride,
                        rope, prefix, out, outOff, lse, qs, qe);
            }
        });
    }

    /** Copies (b, h)'s rows of x into dst [NP × DP] (row stride DP), zero padding; rotates patch rows. */
    private static void loadRows(float[] x, int base, int tStride, int N, int NP, int Dh, int DP, float[] dst,
                                 RopeTable rope, int prefix) {
        for (int t = 0; t < N; t++) {
            System.arraycopy(x, base + t * tStride, dst, t * DP, Dh);
            if (DP > Dh) java.util.Arrays.fill(dst, t * DP + Dh, t * DP + DP, 0f);
        }
        java.util.Arrays.fill(dst, N * DP, NP * DP, 0f);
        if (rope != null && N > prefix) RopeKernels.rotate(N - prefix, Dh, dst, prefix * DP, DP, rope.sin(), rope.cos(), 0, false);
    }

    /**
     * Key-blocked transpose: for key block {@code kb} (tokens kb*bk ..), {@code dst[kb*Dh*bk + d*bk + t%bk] =
     * src[t*DP + d]} for d < Dh, t < NP (src rows ≥ N must already be zero). Keeps each key tile of the
     * transposed operand contiguous (row stride bk), so the tile GEMM does not stride across pages.
     */
    private static void transpose(float[] src, int NP, int Dh, int DP, float[] dst, int bk) {
        for (int t = 0; t < NP; t++) {
            int so = t * DP, dOff = (t / bk) * Dh * bk + (t % bk);
            for (int d = 0; d < Dh; d++) dst[dOff + d * bk] = src[so + d];
        }
    }

    private static int tpSize(int NP, int Dh, int bk) { return roundUp(NP, bk) * Dh; }

    private static void forwardTask(Scratch s, int b, int h, int H, int N, int Dh, float scale,
                                    float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                                    int bStride, int tStride, int hStride, RopeTable rope, int prefix,
                                    float[] out, int outOff, float[] lse, int qStart, int qEnd) {
        int NP = roundUp(N, L), DP = roundUp(Dh, L), bq = blockQ(N), bk = blockK(NP);
        float[] Q = s.get(0, NP * DP), K = s.get(1, NP * DP), KT = s.get(2, tpSize(NP, Dh, bk)), V = s.get(3, NP * DP);
        float[] S = s.get(4, bq * bk), O = s.get(5, bq * DP), M = s.get(6, bq), Lsum = s.get(7, bq);
        int hb = b * bStride + h * hStride;
        loadRows(q, qOff + hb, tStride, N, NP, Dh, DP, Q, rope, prefix);
        scaleRow(Q, 0, N * DP, scale); // scores come out pre-scaled
        loadRows(k, kOff + hb, tStride, N, NP, Dh, DP, K, rope, prefix);
        transpose(K, NP, Dh, DP, KT, bk);
        loadRows(v, vOff + hb, tStride, N, NP, Dh, DP, V, null, 0);
        int D = H * Dh;
        for (int q0 = qStart; q0 < qEnd; q0 += bq) {
            int mq = Math.min(bq, qEnd - q0);
            java.util.Arrays.fill(M, 0, mq, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(Lsum, 0, mq, 0f);
            java.util.Arrays.fill(O, 0, mq * DP, 0f);
            for (int k0 = 0; k0 < NP; k0 += bk) {
                int nk = Math.min(bk, NP - k0), nr = Math.min(nk, N - k0);
                mm(mq, nk, Dh, Q, q0 * DP, DP, 1, KT, k0 * Dh, bk, S, 0, bk, false);
                for (int i = 0; i < mq; i++) {
                    int ro = i * bk;
                    float mx = SoftmaxKernels.rowMax(nr, S, ro);
                    float mOld = M[i], mNew = Math.max(mOld, mx);
                    float sum = expShift(S, ro, nr, nk, mNew);
                    float alpha = (float) Math.exp(mOld - mNew);
                    Lsum[i] = Lsum[i] * alpha + sum;
                    M[i] = mNew;
                    if (alpha != 1f) scaleRow(O, i * DP, DP, alpha);
                }
                mm(mq, DP, nk, S, 0, bk, 1, V, k0 * DP, DP, O, 0, DP, true);
            }
            int lseBase = (b * H + h) * N + q0;
            for (int i = 0; i < mq; i++) {
                float inv = 1f / Lsum[i];
                int oo = outOff + (b * N + q0 + i) * D + h * Dh, so = i * DP;
                for (int d = 0; d < Dh; d++) out[oo + d] = O[so + d] * inv;
                if (lse != null) lse[lseBase + i] = M[i] + (float) Math.log(Lsum[i]);
            }
        }
    }

    /** x[o+j] = exp(x[o+j] − shift) for j < nr, 0 for nr ≤ j < nk; returns the sum. */
    private static float expShift(float[] x, int o, int nr, int nk, float shift) {
        var shv = FloatVector.broadcast(F, shift);
        var acc = FloatVector.zero(F);
        int bound = F.loopBound(nr), j = 0;
        for (; j < bound; j += L) {
            var e = VectorMath.exp(FloatVector.fromArray(F, x, o + j).sub(shv));
            e.intoArray(x, o + j);
            acc = acc.add(e);
        }
        float sum = VectorMath.sum(acc);
        for (; j < nr; j++) { float e = (float) Math.exp(x[o + j] - shift); x[o + j] = e; sum += e; }
        for (; j < nk; j++) x[o + j] = 0f;
        return sum;
    }

    private static void scaleRow(float[] x, int o, int n, float a) {
        var av = FloatVector.broadcast(F, a);
        int bound = F.loopBound(n), j = 0;
        for (; j < bound; j += L) FloatVector.fromArray(F, x, o + j).mul(av).intoArray(x, o + j);
        for (; j < n; j++) x[o + j] *= a;
    }

    // =============================================================== backward

    /**
     * Gradients of {@code Σ gOut ∘ out} w.r.t. the UNROTATED q, k, v (the same arrays/offsets as given
     * to {@link #forward}); gq/gk/gv are WRITTEN (not accumulated), in q/k/v's layout at their own
     * offsets (they may be one array). {@code out} and {@code lse} are the forward's outputs.
     */
    public static void backward(int B, int H, int N, int Dh, float scale,
                                float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                                int bStride, int tStride, int hStride,
                                RopeTable rope, int prefix,
                                float[] out, int outOff, float[] gOut, int gOutOff, float[] lse,
                                float[] gq, int gqOff, float[] gk, int gkOff, float[] gv, int gvOff) {
        checkArgs(B, H, N, Dh, rope, prefix);
        if (B == 0 || H == 0 || N == 0) return;
        Parallel.forRange(B * H, 1, (t0, t1) -> {
            Scratch s = SCRATCH.get();
            for (int task = t0; task < t1; task++) {
                int b = task / H, h = task % H;
                backwardTask(s, b, h, H, N, Dh, scale, q, qOff, k, kOff, v, vOff, bStride, tStride, hStride,
                        rope, prefix, out, outOff, gOut, gOutOff, lse, gq, gqOff, gk, gkOff, gv, gvOff);
            }
        });
    }

    private static void backwardTask(Scratch s, int b, int h, int H, int N, int Dh, float scale,
                                     float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                                     int bStride, int tStride, int hStride, RopeTable rope, int prefix,
                                     float[] out, int outOff, float[] gOut, int gOutOff, float[] lse,
                                     float[] gq, int gqOff, float[] gk, int gkOff, float[] gv, int gvOff) {
        int NP = roundUp(N, L), DP = roundUp(Dh, L), D = H * Dh, bq = blockQ(N), bk = blockK(NP);
        float[] Q = s.get(0, NP * DP), K = s.get(1, NP * DP), KT = s.get(2, tpSize(NP, Dh, bk)), VT = s.get(3, tpSize(NP, Dh, bk));
        float[] S = s.get(4, bq * bk), dP = s.get(5, bq * bk), dO = s.get(6, NP * DP), Dv = s.get(7, NP);
        float[] dQ = s.get(8, NP * DP), dK = s.get(9, NP * DP), dV = s.get(10, NP * DP), tmp = s.get(11, NP * DP);
        int hb = b * bStride + h * hStride;
        loadRows(q, qOff + hb, tStride, N, NP, Dh, DP, Q, rope, prefix);
        loadRows(k, kOff + hb, tStride, N, NP, Dh, DP, K, rope, prefix);
        transpose(K, NP, Dh, DP, KT, bk);
        loadRows(v, vOff + hb, tStride, N, NP, Dh, DP, tmp, null, 0);
        transpose(tmp, NP, Dh, DP, VT, bk);
        // dO rows and D_i = rowsum(dO ∘ O)
        loadRows(gOut, gOutOff + b * N * D + h * Dh, D, N, NP, Dh, DP, dO, null, 0);
        for (int t = 0; t < N; t++) {
            int oo = outOff + (b * N + t) * D + h * Dh, go = t * DP;
            float acc = 0f;
            for (int d = 0; d < Dh; d++) acc += dO[go + d] * out[oo + d];
            Dv[t] = acc;
        }
        java.util.Arrays.fill(dQ, 0, NP * DP, 0f);
        java.util.Arrays.fill(dK, 0, NP * DP, 0f);
        java.util.Arrays.fill(dV, 0, NP * DP, 0f);
        int lseBase = (b * H + h) * N;
        for (int k0 = 0; k0 < NP; k0 += bk) {
            int nk = Math.min(bk, NP - k0), nr = Math.min(nk, N - k0);
            for (int q0 = 0; q0 < N; q0 += bq) {
                int mq = Math.min(bq, N - q0);
                mm(mq, nk, Dh, Q, q0 * DP, DP, 1, KT, k0 * Dh, bk, S, 0, bk, false);
                for (int i = 0; i < mq; i++) probRow(S, i * bk, nr, nk, scale, lse[lseBase + q0 + i]);
                // dV[k0..] += P^T dO[q0..]
                mm(nk, DP, mq, S, 0, 1, bk, dO, q0 * DP, DP, dV, k0 * DP, DP, true);
                // dP = dO V^T
                mm(mq, nk, Dh, dO, q0 * DP, DP, 1, VT, k0 * Dh, bk, dP, 0, bk, false);
                // dS = scale * P ∘ (dP − D_i)   (into dP)
                for (int i = 0; i < mq; i++) dsRow(S, dP, i * bk, nk, Dv[q0 + i], scale);
                // dQ[q0..] += dS K[k0..];  dK[k0..] += dS^T Q[q0..]
                mm(mq, DP, nk, dP, 0, bk, 1, K, k0 * DP, DP, dQ, q0 * DP, DP, true);
                mm(nk, DP, mq, dP, 0, 1, bk, Q, q0 * DP, DP, dK, k0 * DP, DP, true);
            }
        }
        if (rope != null && N > prefix) {
            RopeKernels.rotate(N - prefix, Dh, dQ, prefix * DP, DP, rope.sin(), rope.cos(), 0, true);
            RopeKernels.rotate(N - prefix, Dh, dK, prefix * DP, DP, rope.sin(), rope.cos(), 0, true);
        }
        for (int t = 0; t < N; t++) {
            int so = t * DP, xo = hb + t * tStride;
            System.arraycopy(dQ, so, gq, gqOff + xo, Dh);
            System.arraycopy(dK, so, gk, gkOff + xo, Dh);
            System.arraycopy(dV, so, gv, gvOff + xo, Dh);
        }
    }

    /** x[o+j] = exp(scale*x[o+j] − lse) for j < nr, 0 for nr ≤ j < nk. */
    private static void probRow(float[] x, int o, int nr, int nk, float scale, float lse) {
        var sv = FloatVector.broadcast(F, scale);
        var lv = FloatVector.broadcast(F, lse);
        int bound = F.loopBound(nr), j = 0;
        for (; j < bound; j += L)
            VectorMath.exp(FloatVector.fromArray(F, x, o + j).fma(sv, lv.neg())).intoArray(x, o + j);
        for (; j < nr; j++) x[o + j] = (float) Math.exp(x[o + j] * scale - lse);
        for (; j < nk; j++) x[o + j] = 0f;
    }

    /** dp[o+j] = scale * p[o+j] * (dp[o+j] − di) over j < n (n a multiple of L). */
    private static void dsRow(float[] p, float[] dp, int o, int n, float di, float scale) {
        var dv = FloatVector.broadcast(F, di);
        var sv = FloatVector.broadcast(F, scale);
        for (int j = 0; j < n; j += L) {
            var pv = FloatVector.fromArray(F, p, o + j);
            FloatVector.fromArray(F, dp, o + j).sub(dv).mul(pv).mul(sv).intoArray(dp, o + j);
        }
    }

    // =============================================================== tile GEMM

    /**
     * C[m×n] (+)= A[m×k] · B[k×n], with {@code A(i,p) = a[aOff + i*ars + p*acs]} (any strides: A is only
     * broadcast), {@code B(p,j) = b[bOff + p*ldb + j]}, {@code C(i,j) = c[cOff + i*ldc + j]}.
     * {@code n} must be a multiple of the species length (callers pad). Register-blocked 4 rows × 4 vectors.
     */
    static void mm(int m, int n, int k, float[] a, int aOff, int ars, int acs,
                   float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean acc) {
        // three small methods, not one: with the 4×4 block, the 4×1 tail and the 1-row tail in one body C2 ran
        // out of its inlining budget and left fma to the Vector API's boxed fallback (JFR, 69-token attention)
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int j = mm4x4(i, n, k, a, aOff, ars, acs, b, bOff, ldb, c, cOff, ldc, acc);
            if (j < n) mm4x1(i, j, n, k, a, aOff, ars, acs, b, bOff, ldb, c, cOff, ldc, acc);
        }
        for (; i < m; i++) mm1(i, n, k, a, aOff, ars, acs, b, bOff, ldb, c, cOff, ldc, acc);
    }

    /** Rows i..i+3, columns in blocks of 4 vectors; returns the first column not done. */
    private static int mm4x4(int i, int n, int k, float[] a, int aOff, int ars, int acs,
                             float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean acc) {
        int a0 = aOff + i * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        int r0 = cOff + i * ldc, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
            if (acc) {
                c00 = FloatVector.fromArray(F, c, r0 + j); c01 = FloatVector.fromArray(F, c, r0 + j + L);
                c02 = FloatVector.fromArray(F, c, r0 + j + 2 * L); c03 = FloatVector.fromArray(F, c, r0 + j + 3 * L);
                c10 = FloatVector.fromArray(F, c, r1 + j); c11 = FloatVector.fromArray(F, c, r1 + j + L);
                c12 = FloatVector.fromArray(F, c, r1 + j + 2 * L); c13 = FloatVector.fromArray(F, c, r1 + j + 3 * L);
                c20 = FloatVector.fromArray(F, c, r2 + j); c21 = FloatVector.fromArray(F, c, r2 + j + L);
                c22 = FloatVector.fromArray(F, c, r2 + j + 2 * L); c23 = FloatVector.fromArray(F, c, r2 + j + 3 * L);
                c30 = FloatVector.fromArray(F, c, r3 + j); c31 = FloatVector.fromArray(F, c, r3 + j + L);
                c32 = FloatVector.fromArray(F, c, r3 + j + 2 * L); c33 = FloatVector.fromArray(F, c, r3 + j + 3 * L);
            } else {
                c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = FloatVector.zero(F);
            }
            int bp = bOff + j;
            for (int p = 0; p < k; p++, bp += ldb) {
                var b0 = FloatVector.fromArray(F, b, bp);
                var b1 = FloatVector.fromArray(F, b, bp + L);
                var b2 = FloatVector.fromArray(F, b, bp + 2 * L);
                var b3 = FloatVector.fromArray(F, b, bp + 3 * L);
                int pa = p * acs;
                var x = FloatVector.broadcast(F, a[a0 + pa]);
                c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
                x = FloatVector.broadcast(F, a[a1 + pa]);
                c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
                x = FloatVector.broadcast(F, a[a2 + pa]);
                c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
                x = FloatVector.broadcast(F, a[a3 + pa]);
                c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            }
            c00.intoArray(c, r0 + j); c01.intoArray(c, r0 + j + L); c02.intoArray(c, r0 + j + 2 * L); c03.intoArray(c, r0 + j + 3 * L);
            c10.intoArray(c, r1 + j); c11.intoArray(c, r1 + j + L); c12.intoArray(c, r1 + j + 2 * L); c13.intoArray(c, r1 + j + 3 * L);
            c20.intoArray(c, r2 + j); c21.intoArray(c, r2 + j + L); c22.intoArray(c, r2 + j + 2 * L); c23.intoArray(c, r2 + j + 3 * L);
            c30.intoArray(c, r3 + j); c31.intoArray(c, r3 + j + L); c32.intoArray(c, r3 + j + 2 * L); c33.intoArray(c, r3 + j + 3 * L);
        }
        return j;
    }

    /** Rows i..i+3, one vector of columns at a time from column j. */
    private static void mm4x1(int i, int j, int n, int k, float[] a, int aOff, int ars, int acs,
                              float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean acc) {
        int a0 = aOff + i * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        int r0 = cOff + i * ldc, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        for (; j < n; j += L) {
            FloatVector c0, c1, c2, c3;
            if (acc) {
                c0 = FloatVector.fromArray(F, c, r0 + j); c1 = FloatVector.fromArray(F, c, r1 + j);
                c2 = FloatVector.fromArray(F, c, r2 + j); c3 = FloatVector.fromArray(F, c, r3 + j);
            } else {
                c0 = c1 = c2 = c3 = FloatVector.zero(F);
            }
            int bp = bOff + j;
            for (int p = 0; p < k; p++, bp += ldb) {
                var b0 = FloatVector.fromArray(F, b, bp);
                int pa = p * acs;
                c0 = b0.fma(FloatVector.broadcast(F, a[a0 + pa]), c0);
                c1 = b0.fma(FloatVector.broadcast(F, a[a1 + pa]), c1);
                c2 = b0.fma(FloatVector.broadcast(F, a[a2 + pa]), c2);
                c3 = b0.fma(FloatVector.broadcast(F, a[a3 + pa]), c3);
            }
            c0.intoArray(c, r0 + j); c1.intoArray(c, r1 + j); c2.intoArray(c, r2 + j); c3.intoArray(c, r3 + j);
        }
    }

    /** One row i. */
    private static void mm1(int i, int n, int k, float[] a, int aOff, int ars, int acs,
                            float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean acc) {
        int a0 = aOff + i * ars, r0 = cOff + i * ldc;
        for (int j = 0; j < n; j += L) {
            var c0 = acc ? FloatVector.fromArray(F, c, r0 + j) : FloatVector.zero(F);
            int bp = bOff + j;
            for (int p = 0; p < k; p++, bp += ldb)
                c0 = FloatVector.fromArray(F, b, bp).fma(FloatVector.broadcast(F, a[a0 + p * acs]), c0);
            c0.intoArray(c, r0 + j);
        }
    }

    // =============================================================== double references

    /**
     * Plain materialised reference: per (b, head), rotate q/k patch rows with the double table, then
     * {@code out = softmax(scale · Q Kᵀ) V}; also writes {@code lse} (may be null).
     */
    public static void referenceForward(int B, int H, int N, int Dh, double scale,
                                        double[] q, int qOff, double[] k, int kOff, double[] v, int vOff,
                                        int bStride, int tStride, int hStride,
                                        RopeKernels.RefTable rope, int prefix,
                                        double[] out, int outOff, double[] lse) {
        checkRefArgs(N, Dh, rope, prefix);
        int D = H * Dh;
        double[] Q = new double[N * Dh], K = new double[N * Dh], p = new double[N];
        for (int b = 0; b < B; b++) for (int h = 0; h < H; h++) {
            int hb = b * bStride + h * hStride;
            refLoad(q, qOff + hb, tStride, N, Dh, Q, rope, prefix);
            refLoad(k, kOff + hb, tStride, N, Dh, K, rope, prefix);
            for (int i = 0; i < N; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int d = 0; d < Dh; d++) s += Q[i * Dh + d] * K[j * Dh + d];
                    p[j] = s * scale;
                    m = Math.max(m, p[j]);
                }
                double l = 0;
                for (int j = 0; j < N; j++) { p[j] = Math.exp(p[j] - m); l += p[j]; }
                int oo = outOff + (b * N + i) * D + h * Dh;
                for (int d = 0; d < Dh; d++) {
                    double acc = 0;
                    for (int j = 0; j < N; j++) acc += p[j] * v[vOff + hb + j * tStride + d];
                    out[oo + d] = acc / l;
                }
                if (lse != null) lse[(b * H + h) * N + i] = m + Math.log(l);
            }
        }
    }

    /**
     * Reference backward (recomputes the probabilities; {@code out} and {@code lse} are accepted for
     * signature symmetry with {@link #backward} and not read). gq/gk/gv are written.
     */
    public static void referenceBackward(int B, int H, int N, int Dh, double scale,
                                         double[] q, int qOff, double[] k, int kOff, double[] v, int vOff,
                                         int bStride, int tStride, int hStride,
                                         RopeKernels.RefTable rope, int prefix,
                                         double[] out, int outOff, double[] gOut, int gOutOff, double[] lse,
                                         double[] gq, int gqOff, double[] gk, int gkOff, double[] gv, int gvOff) {
        checkRefArgs(N, Dh, rope, prefix);
        int D = H * Dh;
        double[] Q = new double[N * Dh], K = new double[N * Dh], V = new double[N * Dh], dO = new double[N * Dh];
        double[] P = new double[N * N], dS = new double[N * N];
        double[] dQ = new double[N * Dh], dK = new double[N * Dh], dV = new double[N * Dh];
        for (int b = 0; b < B; b++) for (int h = 0; h < H; h++) {
            int hb = b * bStride + h * hStride;
            refLoad(q, qOff + hb, tStride, N, Dh, Q, rope, prefix);
            refLoad(k, kOff + hb, tStride, N, Dh, K, rope, prefix);
            refLoad(v, vOff + hb, tStride, N, Dh, V, null, 0);
            refLoad(gOut, gOutOff + b * N * D + h * Dh, D, N, Dh, dO, null, 0);
            for (int i = 0; i < N; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int d = 0; d < Dh; d++) s += Q[i * Dh + d] * K[j * Dh + d];
                    P[i * N + j] = s * scale;
                    m = Math.max(m, s * scale);
                }
                double l = 0;
                for (int j = 0; j < N; j++) { P[i * N + j] = Math.exp(P[i * N + j] - m); l += P[i * N + j]; }
                for (int j = 0; j < N; j++) P[i * N + j] /= l;
            }
            java.util.Arrays.fill(dV, 0);
            for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) {
                double pij = P[i * N + j];
                for (int d = 0; d < Dh; d++) dV[j * Dh + d] += pij * dO[i * Dh + d];
            }
            for (int i = 0; i < N; i++) {
                double di = 0;
                for (int j = 0; j < N; j++) {
                    double dp = 0;
                    for (int d = 0; d < Dh; d++) dp += dO[i * Dh + d] * V[j * Dh + d];
                    dS[i * N + j] = dp;
                    di += dp * P[i * N + j];
                }
                for (int j = 0; j < N; j++) dS[i * N + j] = scale * P[i * N + j] * (dS[i * N + j] - di);
            }
            java.util.Arrays.fill(dQ, 0);
            java.util.Arrays.fill(dK, 0);
            for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) {
                double s = dS[i * N + j];
                for (int d = 0; d < Dh; d++) {
                    dQ[i * Dh + d] += s * K[j * Dh + d];
                    dK[j * Dh + d] += s * Q[i * Dh + d];
                }
            }
            if (rope != null && N > prefix) {
                RopeKernels.referenceRotate(N - prefix, Dh, dQ, prefix * Dh, Dh, rope.sin(), rope.cos(), 0, true);
                RopeKernels.referenceRotate(N - prefix, Dh, dK, prefix * Dh, Dh, rope.sin(), rope.cos(), 0, true);
            }
            for (int t = 0; t < N; t++) for (int d = 0; d < Dh; d++) {
                int xo = hb + t * tStride + d;
                gq[gqOff + xo] = dQ[t * Dh + d];
                gk[gkOff + xo] = dK[t * Dh + d];
                gv[gvOff + xo] = dV[t * Dh + d];
            }
        }
    }

    private static void refLoad(double[] x, int base, int tStride, int N, int Dh, double[] dst,
                                RopeKernels.RefTable rope, int prefix) {
        for (int t = 0; t < N; t++) System.arraycopy(x, base + t * tStride, dst, t * Dh, Dh);
        if (rope != null && N > prefix) RopeKernels.referenceRotate(N - prefix, Dh, dst, prefix * Dh, Dh, rope.sin(), rope.cos(), 0, false);
    }
}
