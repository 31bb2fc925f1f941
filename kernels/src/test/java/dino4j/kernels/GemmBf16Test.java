package dino4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each BF16 GEMM kernel this CPU runs (AMX tiles, AVX512-BF16) against the scalar references: exact to float32
 * accumulation on bf16-rounded inputs (catches any packing or transposition slip), and against float64 on the
 * original inputs at most twice the error of a naive bf16 version (inputs rounded to bf16, float32 sums).
 * Skipped where neither runs.
 */
class GemmBf16Test {
    @BeforeEach void needBf16() { assumeTrue(GemmBf16.available(), GemmBf16.status()); }

    static float bf16(float x) {
        int u = Float.floatToRawIntBits(x);
        u += 0x7FFF + ((u >>> 16) & 1);
        return Float.intBitsToFloat(u & 0xFFFF0000);
    }

    private record Errors(double vsRounded, double vsExact, double naiveVsExact) {}

    private static Errors check(SplittableRandom rnd, boolean tA, boolean tB, int m, int n, int k,
                                float alpha, float beta, boolean bias, int pad, boolean viaGemmKernels) {
        return check(GemmBf16.kernel(), rnd, tA, tB, m, n, k, alpha, beta, bias, pad, viaGemmKernels);
    }

    private static Errors check(GemmBf16.Kernel kernel, SplittableRandom rnd, boolean tA, boolean tB, int m, int n, int k,
                                float alpha, float beta, boolean bias, int pad, boolean viaGemmKernels) {
        int aRows = tA ? k : m, aCols = tA ? m : k, bRows = tB ? n : k, bCols = tB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad, aOff = 2 * pad + 1, bOff = pad + 3, cOff = pad + 2;
        float[] a = new float[aOff + aRows * lda + 3], b = new float[bOff + bRows * ldb + 3];
        float[] c = new float[cOff + m * ldc + 3], bs = new float[n + 4];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < c.length; i++) c[i] = beta == 0f ? Float.NaN : (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < bs.length; i++) bs[i] = (float) rnd.nextDouble(-1, 1);
        float[] c0 = c.clone();
        if (viaGemmKernels) {
            GemmKernels.sgemmBias(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, bs, 2, c, cOff, ldc);
        } else {
            GemmBf16.sgemm(kernel, tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, bias ? bs : null, 2);
        }
        double eR = 0, eX = 0, eN = 0, den = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double exact = 0, rounded = 0;
                float naive = 0f;
                for (int p = 0; p < k; p++) {
                    float x = tA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float y = tB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    exact += (double) x * y;
                    rounded += (double) bf16(x) * bf16(y);
                    naive += bf16(x) * bf16(y);
                }
                double add = (beta == 0f ? 0 : beta * (double) c0[cOff + i * ldc + j]) + (bias ? bs[2 + j] : 0);
                double r = alpha * rounded + add, x = alpha * exact + add, nv = alpha * naive + add;
                double got = c[cOff + i * ldc + j];
                eR += (got - r) * (got - r);
                eX += (got - x) * (got - x);
                eN += (nv - x) * (nv - x);
                den += x * x;
            }
        }
        for (int i = 0; i < c.length; i++) {
            int rel = i - cOff;
            boolean inside = rel >= 0 && rel < m * ldc && rel % ldc < n;
            if (!inside) assertEquals(Float.floatToRawIntBits(c0[i]), Float.floatToRawIntBits(c[i]), "wrote outside C at " + i);
        }
        return new Errors(Math.sqrt(eR / den), Math.sqrt(eX / den), Math.sqrt(eN / den));
    }

    @Test void everyKernelEveryTranspositionAndRaggedShape() {
        int ran = 0;
        for (GemmBf16.Kernel kernel : GemmBf16.Kernel.values()) {
            if (!GemmBf16.runs(kernel)) continue;
            everyTranspositionAndRaggedShape(kernel);
            ran++;
        }
        assertTrue(ran > 0);
    }

    private static void everyTranspositionAndRaggedShape(GemmBf16.Kernel kernel) {
        var rnd = new SplittableRandom(7);
        // K 1700 spans three K chunks of 768 (AVX512-BF16 adds chunks after the first into C); 9×700×800 two column chunks on one thread
        int[][] shapes = {{37, 45, 71}, {1, 1, 1}, {100, 33, 3}, {64, 96, 800}, {5, 700, 300}, {300, 200, 1700}, {9, 700, 800}};
        for (boolean tA : new boolean[]{false, true}) {
            for (boolean tB : new boolean[]{false, true}) {
                for (int[] s : shapes) {
                    // alpha 1 with beta 0 (+ bias) or 1 takes the direct tile-store path on full 32×32 blocks
                    for (float[] ab : new float[][]{{0.75f, 0f, 0}, {0.75f, 1.5f, 1}, {1f, 0f, 1}, {1f, 0f, 0}, {1f, 1f, 0}, {1f, 1f, 1}}) {
                        float beta = ab[1];
                        Errors e = check(kernel, rnd, tA, tB, s[0], s[1], s[2], ab[0], beta, ab[2] != 0, s[0] % 3, false);
                        String what = kernel + " tA=" + tA + " tB=" + tB + " " + s[0] + "x" + s[1] + "x" + s[2] + " beta=" + beta + ": " + e;
                        assertTrue(e.vsRounded() < 1e-5, what);
                        assertTrue(e.vsExact() <= 2 * e.naiveVsExact() + 1e-7, what);
                    }
                }
            }
        }
    }

    @Test void gemmKernelsRoutesLargeProductsWhenAskedForBf16() {
        var rnd = new SplittableRandom(11);
        var before = GemmKernels.matmulPrecision();
        try {
            assertEquals(GemmKernels.Precision.BF16, GemmKernels.setMatmulPrecision(GemmKernels.Precision.BF16));
            Errors e = check(rnd, false, true, 192, 160, 96, 1f, 0f, true, 1, true);
            assertTrue(e.vsRounded() < 1e-5 && e.vsExact() > 1e-4, "bf16 products expected: " + e);
            GemmKernels.setMatmulPrecision(GemmKernels.Precision.FP32);
            Errors f = check(rnd, false, true, 192, 160, 96, 1f, 0f, true, 1, true);
            assertTrue(f.vsExact() < 1e-5, "float32 expected: " + f);
        } finally {
            GemmKernels.setMatmulPrecision(before);
        }
    }

    @Test void extentsAreCheckedBeforeTheNativeCall() {
        float[] a = new float[10 * 10], b = new float[10 * 10], c = new float[10 * 10];
        var ex = assertThrows(IndexOutOfBoundsException.class,
                () -> GemmBf16.sgemm(false, false, 10, 10, 10, 1f, a, 1, 10, b, 0, 10, 0f, c, 0, 10, null, 0));
        assertTrue(ex.getMessage().startsWith("A:"), ex.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> GemmBf16.sgemm(false, false, 10, 10, 10, 1f, a, 0, 10, b, 0, 10, 0f, c, 0, 9, null, 0));
    }
}
