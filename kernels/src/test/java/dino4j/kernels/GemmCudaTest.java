package dino4j.kernels;

import dino4j.kernels.GemmCuda.Precision;
import dino4j.kernels.GemmCuda.Tile;
import dino4j.runtime.Cublas;
import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
 * Every case also checks that the padding columns of C (ldc > N) are left untouched.
 */
@Tag("gpu")
class GemmCudaTest {

    /** BF16: the public entry (which may convert first); BF16_FUSED / BF16_CONVERTED force one of its two paths. */
    enum Kind { FP32, TF32, BF16, BF16_FUSED, BF16_CONVERTED, BF16S, CUBLAS_FP32, CUBLAS_TF32, CUBLAS_BF16, CUBLAS_BF16S }

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
            case TF32, CUBLAS_TF32 -> tf32(x);
            case BF16, BF16_FUSED, BF16_CONVERTED, CUBLAS_BF16 -> bf16(x);
            default -> x;
        };
    }

    static boolean bf16Storage(Kind k) { return k == Kind.BF16S || k == Kind.CUBLAS_BF16S; }

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
        }
        float[] got = CudaTestSupport.download(c, dC, (int) (k.batch * sC));
        for (DeviceBuffer d : new DeviceBuffer[]{dA, dB, dC, dBias}) if (d != null) d.release();

        // float64 references: exact inputs, and inputs rounded like the kernel's precision
        int n = k.batch * k.M * k.N;
        double[] ref = new double[n], naive = new double[n];
        float[] gotV = new float[n];
        double[] rowE = new double[k.N], rowN = new double[k.N];
        for (int z = 0; z < k.batch; z++) {
            int aBase = k.offA + (int) (z * sA), bBase = (int) (z * sB), cBase = (int) (z * sC);
            for (int i = 0; i < k.M; i++) {
                java.util.Arrays.fill(rowE, 0);
                java.util.Arrays.fill(rowN, 0);
                for (int p = 0; p < k.K; p++) {
                    float av = a[aBase + (k.ta ? p * lda + i : i * lda + p)];
                    double ae = av, ar = round(kind, av);
                    for (int j = 0; j < k.N; j++) {
                        float bv = b[bBase + (k.tb ? j * ldb + p : p * ldb + j)];
                        rowE[j] += ae * bv;
                        rowN[j] += ar * round(kind, bv);
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
            case BF16S, CUBLAS_BF16S -> assertTrue(e[0] <= 1e-5, what);
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
