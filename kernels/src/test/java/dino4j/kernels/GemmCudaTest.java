package dino4j.kernels;

import dino4j.kernels.GemmCuda.Precision;
import dino4j.kernels.GemmCuda.Sm90Tile;
import dino4j.kernels.GemmCuda.Tile;
import dino4j.runtime.Cublas;
import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GemmCuda (and CublasGemm) against float64 references. FP32: relative L2 ≤ 1e-5. TF32 / BF16 (fp32 storage):
 * the error against the exact float64 product must be at most 2× that of a naive CPU GEMM whose inputs are
 * rounded the same way (tf32: nearest, ties away, 10 mantissa bits; bf16: nearest even) and accumulated in
 * float64, plus 1e-6 slack, and below 1e-2 absolutely (so a broken kernel cannot hide behind a large naive error).
 * BF16 storage: the inputs are exact bf16 values, so only fp32 accumulation error remains (≤ 1e-5).
 * Every case also checks that the padding columns of C (ldc > N) are left untouched. The Hopper wgmma kernels
 * (gemm_sm90.cu) are held to the BF16-storage rule; their tests skip unless the device is sm_90 and the module loads,
 * and run after all others: a fault in kernels that have not yet run on hardware would poison the CUDA context, and
 * the other tests' results must stay readable.
 */
@Tag("gpu")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GemmCudaTest {

    /**
     * BF16: the public entry (which may convert first); BF16_FUSED / BF16_CONVERTED force one of its two paths.
     * SM90_L / SM90_M / SM90_AUTO: bf16 storage on the wgmma kernels (GemmCuda.gemmBf16Sm90) with that tile;
     * SM90_TF32_L / SM90_TF32_M: TF32 (NT only) on them (GemmCuda.gemmTf32Sm90).
     */
    enum Kind { FP32, TF32, BF16, BF16_FUSED, BF16_CONVERTED, BF16S, CUBLAS_FP32, CUBLAS_TF32, CUBLAS_BF16, CUBLAS_BF16S,
        SM90_L, SM90_M, SM90_AUTO, SM90_TF32_L, SM90_TF32_M }

    /** One GEMM problem: shape, flags, scalars, padding of the leading dims, batch, B broadcast, A pointer offset. */
    record Case(int M, int N, int K, boolean ta, boolean tb, float alpha, float beta, boolean bias,
                int padA, int padB, int padC, int batch, boolean broadcastB, int offA) {
        static Case plain(int M, int N, int K, boolean ta, boolean tb) {
            return new Case(M, N, K, ta, tb, 1f, 0f, false, 0, 0, 0, 1, false, 0);
        }
        @Override public String toString() {
            return String.format("%dx%dx%d %s%s alpha=%s beta=%s bias=%s pad=%d/%d/%d batch=%d%s offA=%d", M, N, K,
                    ta ? "T" : "N", tb ? "T" : "N", alpha, beta, bias, padA, padB, padC, batch, broadcastB ? " (B broadcast)" : "", offA);
        }
    }

    static List<Case> grid() {
        int[][] shapes = {{1, 1, 1}, {17, 33, 65}, {129, 257, 31}, {64, 64, 64}, {5, 7, 0}, {200, 136, 100},
                {2, 300, 17}, {257, 3, 40}, {96, 80, 130}};
        List<Case> cs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 2) != 0, tb = (t & 1) != 0;
            for (int[] s : shapes) cs.add(Case.plain(s[0], s[1], s[2], ta, tb));
            // beta, bias, alpha; odd leading dims (unaligned rows -> the scalar load path)
            cs.add(new Case(70, 50, 45, ta, tb, -1.5f, 0.5f, true, 3, 5, 2, 1, false, 0));
            // aligned leading dims larger than the rows; batch 3 with one broadcast B
            cs.add(new Case(65, 72, 36, ta, tb, 0.75f, 0f, true, 4, 4, 1, 3, true, 0));
            // A's pointer misaligned by one element although lda is a multiple of 4/8; batch 2, beta = 1
            cs.add(new Case(33, 40, 24, ta, tb, 1f, 1f, false, 0, 8, 0, 2, false, 1));
            // K = 0 (C = beta*C + bias) and alpha = 0 (A, B unused)
            cs.add(new Case(9, 10, 0, ta, tb, 1f, 2f, true, 0, 0, 3, 2, false, 0));
            cs.add(new Case(9, 10, 11, ta, tb, 0f, 0.5f, true, 0, 0, 0, 1, false, 0));
        }
        return cs;
    }

    // ---------------------------------------------------------------- rounding as the GPU does it

    static float tf32(float x) {
        int b = Float.floatToRawIntBits(x);
        if ((b & 0x7F800000) == 0x7F800000) return x;
        return Float.intBitsToFloat((b + 0x1000) & 0xFFFFE000);   // nearest, ties away from zero (cvt.rna)
    }

    static short bf16Bits(float x) {
        int b = Float.floatToRawIntBits(x);
        if ((b & 0x7F800000) == 0x7F800000) return (short) ((b >>> 16) | ((b & 0xFFFF) != 0 ? 0x40 : 0));
        return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);  // nearest even (cvt.rn)
    }

    static float bf16(float x) { return Float.intBitsToFloat((bf16Bits(x) & 0xFFFF) << 16); }

    static float round(Kind k, float x) {
        return switch (k) {
            case TF32, CUBLAS_TF32, SM90_TF32_L, SM90_TF32_M -> tf32(x);
            case BF16, BF16_FUSED, BF16_CONVERTED, CUBLAS_BF16 -> bf16(x);
            default -> x;
        };
    }

    static boolean bf16Storage(Kind k) {
        return k == Kind.BF16S || k == Kind.CUBLAS_BF16S || k == Kind.SM90_L || k == Kind.SM90_M || k == Kind.SM90_AUTO;
    }

    // ---------------------------------------------------------------- one case

    /** Runs a case; returns {error vs float64, error of the naive same-precision GEMM vs float64}. */
    static double[] run(CudaContext c, Kind kind, Tile tile, Case k, long seed) {
        Random r = new Random(seed);
        int rowsA = k.ta ? k.K : k.M, lenA = k.ta ? k.M : k.K, lda = lenA + k.padA;
        int rowsB = k.tb ? k.N : k.K, lenB = k.tb ? k.K : k.N, ldb = lenB + k.padB;
        int ldc = k.N + k.padC;
        long sA = (long) rowsA * lda, sB = k.broadcastB ? 0 : (long) rowsB * ldb, sC = (long) k.M * ldc;
        float[] a = FamilyTestSupport.randn(r, (int) (k.batch * sA) + k.offA);
        float[] b = FamilyTestSupport.randn(r, (int) ((k.broadcastB ? 1 : k.batch) * (long) rowsB * ldb));
        boolean bf = bf16Storage(kind);
        if (bf) {   // the stored values are bf16
            for (int i = 0; i < a.length; i++) a[i] = bf16(a[i]);
            for (int i = 0; i < b.length; i++) b[i] = bf16(b[i]);
        }
        float[] c0 = k.beta != 0f ? FamilyTestSupport.randn(r, (int) (k.batch * sC)) : null;
        float[] bias = k.bias ? FamilyTestSupport.randn(r, k.N) : null;

        DeviceBuffer dA = bf ? CudaTestSupport.upload(c, toBf16(a)) : CudaTestSupport.upload(c, a);
        DeviceBuffer dB = bf ? CudaTestSupport.upload(c, toBf16(b)) : CudaTestSupport.upload(c, b);
        DeviceBuffer dC = c0 != null ? CudaTestSupport.upload(c, c0) : CudaTestSupport.poisoned(c, k.batch * sC);
        DeviceBuffer dBias = bias != null ? CudaTestSupport.upload(c, bias) : null;
        CUdeviceptr pA = dA.at((long) k.offA * (bf ? 2 : 4)), pB = dB.ptr(), pC = dC.ptr();
        CUdeviceptr pBias = dBias == null ? null : dBias.ptr();
        switch (kind) {
            case FP32 -> GemmCuda.gemm(c, Precision.FP32, tile, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case TF32 -> GemmCuda.gemm(c, Precision.TF32, tile, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case BF16 -> GemmCuda.gemm(c, Precision.BF16, tile, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case BF16_FUSED -> GemmCuda.bf16Fused(c, tile, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case BF16_CONVERTED -> GemmCuda.bf16ViaConversion(c, tile, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case BF16S -> GemmCuda.gemmBf16(c, tile, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case CUBLAS_FP32 -> CublasGemm.gemm(c, Precision.FP32, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case CUBLAS_TF32 -> CublasGemm.gemm(c, Precision.TF32, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case CUBLAS_BF16 -> CublasGemm.gemm(c, Precision.BF16, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case CUBLAS_BF16S -> CublasGemm.gemmBf16(c, k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case SM90_L, SM90_M, SM90_AUTO -> GemmCuda.gemmBf16Sm90(c, kind == Kind.SM90_L ? Sm90Tile.L : kind == Kind.SM90_M ? Sm90Tile.M : Sm90Tile.AUTO,
                    k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
            case SM90_TF32_L, SM90_TF32_M -> GemmCuda.gemmTf32Sm90(c, kind == Kind.SM90_TF32_L ? Sm90Tile.L : Sm90Tile.M,
                    k.ta, k.tb, k.M, k.N, k.K, k.alpha, pA, lda, sA, pB, ldb, sB, k.beta, pC, ldc, sC, k.batch, pBias);
        }
        float[] got = CudaTestSupport.download(c, dC, (int) (k.batch * sC));
        for (DeviceBuffer d : new DeviceBuffer[]{dA, dB, dC, dBias}) if (d != null) d.release();

        // float64 references: exact inputs, and inputs rounded like the kernel's precision
        int n = k.batch * k.M * k.N;
        double[] ref = new double[n], naive = new double[n];
        float[] gotV = new float[n];
        double[] rowE = new double[k.N], rowN = new double[k.N];
        // op(B) as K×N rows, exact and rounded: the inner loop below then reads contiguous memory (1024³ in ~1 s)
        double[] bE = new double[k.K * k.N], bR = new double[k.K * k.N];
        for (int z = 0; z < k.batch; z++) {
            int aBase = k.offA + (int) (z * sA), bBase = (int) (z * sB), cBase = (int) (z * sC);
            for (int p = 0; p < k.K; p++)
                for (int j = 0; j < k.N; j++) {
                    float bv = b[bBase + (k.tb ? j * ldb + p : p * ldb + j)];
                    bE[p * k.N + j] = bv;
                    bR[p * k.N + j] = round(kind, bv);
                }
            for (int i = 0; i < k.M; i++) {
                java.util.Arrays.fill(rowE, 0);
                java.util.Arrays.fill(rowN, 0);
                for (int p = 0; p < k.K; p++) {
                    float av = a[aBase + (k.ta ? p * lda + i : i * lda + p)];
                    double ae = av, ar = round(kind, av);
                    for (int j = 0, o = p * k.N; j < k.N; j++) {
                        rowE[j] += ae * bE[o + j];
                        rowN[j] += ar * bR[o + j];
                    }
                }
                for (int j = 0; j < k.N; j++) {
                    int o = (z * k.M + i) * k.N + j, ci = cBase + i * ldc + j;
                    double add = (c0 != null ? (double) k.beta * c0[ci] : 0) + (bias != null ? bias[j] : 0);
                    ref[o] = k.alpha * rowE[j] + add;
                    naive[o] = k.alpha * rowN[j] + add;
                    gotV[o] = got[ci];
                }
                for (int j = k.N; j < ldc; j++) {   // padding columns must be untouched
                    int ci = cBase + i * ldc + j;
                    int want = c0 != null ? Float.floatToRawIntBits(c0[ci]) : 0xFFFFFFFF;
                    assertEquals(want, Float.floatToRawIntBits(got[ci]), kind + " " + k + ": wrote padding column " + j + " of row " + i);
                }
            }
        }
        double err = FamilyTestSupport.relL2(gotV, ref);
        double nerr = 0, den = 0;
        for (int i = 0; i < n; i++) { double d = naive[i] - ref[i]; nerr += d * d; den += ref[i] * ref[i]; }
        nerr = den == 0 ? Math.sqrt(nerr) : Math.sqrt(nerr / den);
        return new double[]{err, nerr};
    }

    static short[] toBf16(float[] x) {
        short[] s = new short[x.length];
        for (int i = 0; i < x.length; i++) s[i] = bf16Bits(x[i]);
        return s;
    }

    static void check(CudaContext c, Kind kind, Tile tile, Case k, long seed) {
        double[] e = run(c, kind, tile, k, seed);
        String what = kind + " tile " + tile + " " + k + ": error " + e[0] + ", naive same-precision error " + e[1];
        switch (kind) {
            case FP32, CUBLAS_FP32 -> assertTrue(e[0] <= 1e-5, what);
            case BF16S, CUBLAS_BF16S, SM90_L, SM90_M, SM90_AUTO -> assertTrue(e[0] <= 1e-5, what);
            // cuBLAS's internal fp32->bf16 conversion is not documented; allow it 4x the naive error.
            case CUBLAS_BF16 -> assertTrue(e[0] <= 4 * e[1] + 1e-6 && e[0] < 1e-2, what);
            default -> assertTrue(e[0] <= 2 * e[1] + 1e-6 && e[0] < 1e-2, what);
        }
    }

    static boolean fits(CudaContext c, Tile t, Kind kind) {
        return GemmCuda.sharedBytes(t, true, true, bf16Storage(kind) ? 2 : 4) <= c.maxSharedMemoryPerBlockOptin()
                && GemmCuda.sharedBytes(t, false, false, bf16Storage(kind) ? 2 : 4) <= c.maxSharedMemoryPerBlockOptin()
                && GemmCuda.sharedBytes(t, false, true, bf16Storage(kind) ? 2 : 4) <= c.maxSharedMemoryPerBlockOptin()
                && GemmCuda.sharedBytes(t, true, false, bf16Storage(kind) ? 2 : 4) <= c.maxSharedMemoryPerBlockOptin();
    }

    static void grid(CudaContext c, Kind kind, Tile... tiles) {
        long seed = 1;
        for (Tile t : tiles) {
            if (!fits(c, t, kind)) continue;
            for (Case k : grid()) check(c, kind, t, k, seed++);
        }
    }

    // ---------------------------------------------------------------- tests

    @Test
    void fp32MatchesFloat64() {
        CudaContext c = CudaTestSupport.gpu();
        grid(c, Kind.FP32, Tile.L, Tile.S);
    }

    @Test
    void tf32WithinTwiceNaiveTf32Error() {
        CudaContext c = CudaTestSupport.gpu();
        grid(c, Kind.TF32, Tile.X, Tile.L, Tile.M, Tile.S);
    }

    @Test
    void bf16WithinTwiceNaiveBf16Error() {
        CudaContext c = CudaTestSupport.gpu();
        grid(c, Kind.BF16_FUSED, Tile.X, Tile.L, Tile.M, Tile.S);
    }

    /** The large-problem BF16 path: fp32 -> bf16 conversion pass, then the bf16-storage kernel. */
    @Test
    void bf16ViaConversionWithinTwiceNaiveBf16Error() {
        CudaContext c = CudaTestSupport.gpu();
        grid(c, Kind.BF16_CONVERTED, Tile.L, Tile.S);
    }

    @Test
    void bf16StoredMatchesFloat64() {
        CudaContext c = CudaTestSupport.gpu();
        grid(c, Kind.BF16S, Tile.X, Tile.L, Tile.M, Tile.S);
    }

    /**
     * Larger problems through the automatic choices (several CTAs, long K loops, ViT-like widths); the first is
     * large enough for BF16 to take the conversion path, the others are not.
     */
    @Test
    void largerShapesAuto() {
        CudaContext c = CudaTestSupport.gpu();
        Case[] cs = {
                new Case(1000, 768, 384, false, true, 1f, 0f, true, 0, 0, 0, 1, false, 0),    // x·Wᵀ + b
                new Case(384, 520, 1536, false, false, 1f, 1f, false, 0, 0, 0, 1, false, 0),  // dY·W, accumulate
                new Case(300, 260, 1000, true, false, 0.5f, 0f, false, 0, 0, 0, 1, false, 0), // dYᵀ·X
                new Case(201, 201, 64, false, true, 0.125f, 0f, false, 0, 0, 0, 4, false, 0), // attention scores
        };
        long seed = 100;
        for (Case k : cs)
            for (Kind kind : new Kind[]{Kind.FP32, Kind.TF32, Kind.BF16, Kind.BF16S}) check(c, kind, Tile.AUTO, k, seed++);
    }

    @Test
    void cublasMatchesReference() {
        CudaContext c = CudaTestSupport.gpu();
        Assumptions.assumeTrue(CublasGemm.available(), Cublas.status());
        long seed = 1000;
        for (Case k : grid())
            for (Kind kind : new Kind[]{Kind.CUBLAS_FP32, Kind.CUBLAS_TF32, Kind.CUBLAS_BF16, Kind.CUBLAS_BF16S})
                check(c, kind, Tile.AUTO, k, seed++);
    }

    // ---------------------------------------------------------------- Hopper wgmma kernels (gemm_sm90.cu)

    /** After every unannotated test (whose order is Order.DEFAULT), see the class comment. */
    static final int SM90_ORDER = Order.DEFAULT + 1000;

    /** The context, or a skip saying why the wgmma kernels cannot run here (no GPU, not sm_90, no module). */
    static CudaContext sm90() {
        CudaContext c = CudaTestSupport.gpu();
        Assumptions.assumeTrue(GemmCuda.sm90Available(c), () -> "sm90 GEMM: " + GemmCuda.sm90Unavailable(c));
        return c;
    }

    /** The whole grid (every transposition; odd leading dims and a misaligned A take the kernel's plain-load path). */
    @Test
    @Order(SM90_ORDER + 2)
    void sm90GridMatchesFloat64() {
        CudaContext c = sm90();
        long seed = 2000;
        for (Kind kind : new Kind[]{Kind.SM90_L, Kind.SM90_M})
            for (Case k : grid()) check(c, kind, Tile.AUTO, k, seed++);
    }

    /**
     * Ragged edges in M, N and K (partial 16-byte chunks, partial tiles and K slices) with alpha, beta and bias in
     * every transposition, both tiles; several CTAs and K slices with 8-aligned, padded leading dimensions.
     */
    @Test
    @Order(SM90_ORDER + 1)
    void sm90RaggedEdgesMatchFloat64() {
        CudaContext c = sm90();
        long seed = 3000;
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 2) != 0, tb = (t & 1) != 0;
            Case[] cs = {
                    new Case(77, 131, 200, ta, tb, 1f, 0f, false, 0, 0, 0, 1, false, 0),
                    new Case(77, 131, 200, ta, tb, -0.5f, 0.25f, true, 0, 0, 3, 1, false, 0),
                    // leading dims padded to multiples of 8 (the vector path at ragged edges), batch 2, B broadcast
                    new Case(300, 270, 131, ta, tb, 1.5f, 0f, true, ta ? 4 : 5, tb ? 5 : 2, 0, 2, true, 0),
                    new Case(129, 257, 64, ta, tb, 1f, 1f, true, 0, 0, 0, 1, false, 0),
            };
            for (Case k : cs)
                for (Kind kind : new Kind[]{Kind.SM90_L, Kind.SM90_M}) check(c, kind, Tile.AUTO, k, seed++);
        }
    }

    /** 1024³ (8 CTAs of 128×256, 16 K slices: the steady-state pipeline), one per transposition, automatic tile. */
    @Test
    @Order(SM90_ORDER + 3)
    void sm90LargeSquareMatchesFloat64() {
        CudaContext c = sm90();
        long seed = 4000;
        for (int t = 0; t < 4; t++)
            check(c, Kind.SM90_AUTO, Tile.AUTO, Case.plain(1024, 1024, 1024, (t & 2) != 0, (t & 1) != 0), seed++);
        // ViT-like linear layer: x·Wᵀ + b
        check(c, Kind.SM90_AUTO, Tile.AUTO, new Case(1000, 768, 384, false, true, 1f, 0f, true, 0, 0, 0, 1, false, 0), seed);
    }

    /**
     * TF32 on the wgmma kernels (NT only), held to the TF32 rule (2× the naive tf32 error): the NT cases of the grid
     * (odd leading dims and a misaligned A included), ragged edges with alpha/beta/bias, and 1024³.
     */
    @Test
    @Order(SM90_ORDER + 4)
    void sm90Tf32WithinTwiceNaiveTf32Error() {
        CudaContext c = sm90();
        long seed = 6000;
        List<Case> cs = new ArrayList<>();
        for (Case k : grid()) if (!k.ta() && k.tb()) cs.add(k);
        cs.add(new Case(77, 131, 200, false, true, 1f, 0f, false, 0, 0, 0, 1, false, 0));
        cs.add(new Case(77, 131, 200, false, true, -0.5f, 0.25f, true, 0, 0, 3, 1, false, 0));
        cs.add(new Case(300, 270, 131, false, true, 1.5f, 0f, true, 1, 1, 0, 2, true, 0));   // lds 132: vector path
        for (Case k : cs)
            for (Kind kind : new Kind[]{Kind.SM90_TF32_L, Kind.SM90_TF32_M}) check(c, kind, Tile.AUTO, k, seed++);
        check(c, Kind.SM90_TF32_L, Tile.AUTO, Case.plain(1024, 1024, 1024, false, true), seed);
        assertThrows(IllegalArgumentException.class, () -> GemmCuda.gemmTf32Sm90(c, Sm90Tile.AUTO, false, false, 4, 4,
                8, 1f, new CUdeviceptr(), 4, 0, new CUdeviceptr(), 4, 0, 0f, new CUdeviceptr(), 4, 0, 1, null));
    }

    /** The opt-in routing: gemmBf16 (AUTO), the BF16 conversion path and TF32 NT take the wgmma kernels when enabled. */
    @Test
    @Order(SM90_ORDER + 5)
    void sm90OptInRouting() {
        CudaContext c = sm90();
        boolean was = GemmCuda.sm90Enabled();
        GemmCuda.sm90Enabled(true);
        try {
            long seed = 5000;
            for (Case k : new Case[]{
                    new Case(200, 136, 104, false, true, 1f, 0.5f, true, 0, 0, 0, 1, false, 0),   // sm90
                    new Case(70, 50, 45, true, false, -1.5f, 0.5f, true, 3, 5, 2, 1, false, 0)})   // odd lds: gemm.cu
                check(c, Kind.BF16S, Tile.AUTO, k, seed++);
            // fp32 operands, large enough to convert to bf16 first
            check(c, Kind.BF16_CONVERTED, Tile.AUTO, new Case(1000, 768, 384, false, true, 1f, 0f, true, 0, 0, 0, 1, false, 0), seed++);
            // TF32 through GemmCuda.gemm: NT goes to wgmma, NN stays on gemm.cu
            check(c, Kind.TF32, Tile.AUTO, new Case(200, 136, 104, false, true, 1f, 0.5f, true, 0, 0, 0, 1, false, 0), seed++);
            check(c, Kind.TF32, Tile.AUTO, new Case(200, 136, 104, false, false, 1f, 0.5f, true, 0, 0, 0, 1, false, 0), seed);
        } finally {
            GemmCuda.sm90Enabled(was);
        }
    }

    @Test
    void rejectsBadArguments() {
        CudaContext c = CudaTestSupport.gpu();
        CUdeviceptr p = new CUdeviceptr();
        assertThrows(IllegalArgumentException.class, () ->
                GemmCuda.gemm(c, Precision.FP32, false, false, 4, 4, 8, 1f, p, 7, 0, p, 4, 0, 0f, p, 4, 0, 1, null));  // lda < K
        assertThrows(IllegalArgumentException.class, () ->
                GemmCuda.gemm(c, Precision.TF32, false, true, 4, 4, 8, 1f, p, 8, 0, p, 7, 0, 0f, p, 4, 0, 1, null));  // ldb < K
        assertThrows(IllegalArgumentException.class, () ->
                GemmCuda.gemm(c, Precision.BF16, false, false, 4, 4, 8, 1f, p, 8, 0, p, 4, 0, 0f, p, 3, 0, 1, null));  // ldc < N
        assertThrows(IllegalArgumentException.class, () ->
                GemmCuda.gemm(c, Precision.TF32, false, false, 4, 4, 8, 1f, p, 8, 32, p, 4, 0, 0f, p, 4, 0, 2, null)); // outputs overlap
        assertThrows(IllegalArgumentException.class, () ->
                GemmCuda.gemmBf16(c, false, false, -1, 4, 8, 1f, p, 8, 0, p, 4, 0, 0f, p, 4, 0, 1, null));
        // nothing to do: no launch, no error
        GemmCuda.gemm(c, Precision.FP32, false, false, 0, 4, 8, 1f, null, 8, 0, null, 4, 0, 0f, null, 4, 0, 1, null);
    }
}
