package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

import java.util.Locale;

/**
 * GEMM on the GPU (kernels in {@code gemm.cu}), row-major with the semantics of {@link GemmKernels}, batched and
 * with an optional bias: for each {@code z} in {@code [0,batch)}
 * <pre>  C_z[M,N] = alpha · op(A_z) · op(B_z) + beta · C_z + bias        (bias: float[N], added to every row)</pre>
 * where {@code op(A)[i,k] = transA ? A[k*lda + i] : A[i*lda + k]} (M×K) and {@code op(B)[k,n] = transB ? B[n*ldb + k]
 * : B[k*ldb + n]} (K×N); {@code X_z} starts {@code z * strideX} elements after {@code X} ({@code strideB = 0}
 * broadcasts one B, e.g. a weight). {@code beta == 0} never reads C (it may hold NaN), {@code alpha == 0} or
 * {@code K == 0} never reads A or B. Outputs must not overlap the inputs.
 *
 * <p>{@link Precision#FP32} is exact float32 (SIMT FMA); {@link Precision#TF32} and {@link Precision#BF16} use tensor
 * cores with fp32 accumulation, rounding each input to tf32 (nearest, ties away) or bf16 (nearest even).
 * {@link #gemmBf16} takes bf16-stored A and B. Calls only enqueue work on the context's stream.
 */
public final class GemmCuda {
    private GemmCuda() {}

    public enum Precision { FP32, TF32, BF16 }

    /**
     * Tile configurations of the tensor-core kernels (see gemm.cu): CTA tile, threads, pipeline stages, CTAs an SM
     * can hold (registers/shared memory), and a relative per-SM throughput guess used by {@link #AUTO}'s choice.
     * FP32 maps X and L to its 128×128 kernel, M and S to its 64×64 kernel. Override AUTO for experiments with
     * {@code -Ddino4j.gemm.tile=x|l|m|s}.
     */
    public enum Tile {
        AUTO(0, 0, 0, 0, 0, 0),
        X(256, 128, 256, 4, 1, 1.05),   // throughput guesses from H100 timings (bf16 storage, 4096³: 309/289/205/163)
        L(128, 128, 128, 3, 2, 1.00),
        M(128, 64, 128, 4, 2, 0.70),
        S(64, 64, 128, 3, 3, 0.60);

        final int bm, bn, threads, stages, perSm;
        final double efficiency;

        Tile(int bm, int bn, int threads, int stages, int perSm, double efficiency) {
            this.bm = bm; this.bn = bn; this.threads = threads; this.stages = stages; this.perSm = perSm;
            this.efficiency = efficiency;
        }
    }

    static final String FAMILY = "gemm";
    /** Leading dimensions are bounded so that in-tile offsets (≤ 256 rows) stay in 32-bit ints in the kernels. */
    public static final int MAX_LD = 1 << 23;
    private static final Tile FORCED = parseTile(System.getProperty("dino4j.gemm.tile"));

    private static Tile parseTile(String s) {
        if (s == null || s.isBlank()) return Tile.AUTO;
        return Tile.valueOf(s.trim().toUpperCase(Locale.ROOT));
    }

    public static void gemm(CudaContext c, Precision p, boolean transA, boolean transB, int M, int N, int K,
                            float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                            float beta, CUdeviceptr C, int ldc, long strideC, int batch, CUdeviceptr bias) {
        gemm(c, p, FORCED, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, bias);
    }

    /** {@link #gemm} with an explicit tile configuration (tuning and tests; AUTO chooses). */
    public static void gemm(CudaContext c, Precision p, Tile tile, boolean transA, boolean transB, int M, int N, int K,
                            float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                            float beta, CUdeviceptr C, int ldc, long strideC, int batch, CUdeviceptr bias) {
        if (p == null) throw new IllegalArgumentException("precision is null");
        if (p == Precision.BF16 && worthConverting(transA, transB, M, N, K, alpha, strideA, strideB, batch)) {
            bf16ViaConversion(c, tile, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, bias);
            return;
        }
        launch(c, p == Precision.FP32 ? "fp32" : p == Precision.TF32 ? "tf32" : "bf16", 4, tile, transA, transB,
                M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, bias);
    }

    /**
     * BF16 on fp32 operands, large problems: rounding A and B to bf16 once (a bandwidth-bound pass, 6 bytes per
     * element) and running the bf16-storage kernel beats converting every fragment in every CTA when the GEMM does
     * at least ~128 flops per converted byte. Same rounding (nearest even), same result up to fp32 summation order.
     */
    static boolean worthConverting(boolean transA, boolean transB, int M, int N, int K, float alpha, long strideA,
                                   long strideB, int batch) {
        if (K <= 0 || alpha == 0f || M <= 0 || N <= 0 || batch <= 0) return false;
        double flops = 2.0 * M * N * K * batch;
        double elems = (double) M * K * (strideA == 0 ? 1 : batch) + (double) K * N * (strideB == 0 ? 1 : batch);
        return flops >= (1L << 27) && flops / (6 * elems) >= 128;
    }

    /** BF16 through a conversion pass to bf16 scratch buffers and {@link #gemmBf16} (see {@link #worthConverting}). */
    static void bf16ViaConversion(CudaContext c, Tile tile, boolean transA, boolean transB, int M, int N, int K,
                                  float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb,
                                  long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                                  CUdeviceptr bias) {
        boolean readsAB = K > 0 && alpha != 0f;
        if (!validate(c, transA, transB, M, N, K, A, lda, strideA, B, ldb, strideB, C, ldc, strideC, batch, readsAB)) return;
        if (!readsAB) {
            launch(c, "bf16", 4, tile, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, bias);
            return;
        }
        int rowsA = transA ? K : M, colsA = transA ? M : K, rowsB = transB ? N : K, colsB = transB ? K : N;
        int nA = strideA == 0 ? 1 : batch, nB = strideB == 0 ? 1 : batch;
        int ldA = (colsA + 7) / 8 * 8, ldB = (colsB + 7) / 8 * 8;   // 16-byte rows: the kernel's vector path
        long sA = nA == 1 ? 0 : (long) rowsA * ldA, sB = nB == 1 ? 0 : (long) rowsB * ldB;
        DeviceBuffer a16 = c.alloc(2L * nA * rowsA * ldA), b16 = c.alloc(2L * nB * rowsB * ldB);
        toBf16(c, A, rowsA, colsA, lda, strideA, a16.ptr(), ldA, sA, nA);
        toBf16(c, B, rowsB, colsB, ldb, strideB, b16.ptr(), ldB, sB, nB);
        gemmBf16(c, tile, transA, transB, M, N, K, alpha, a16.ptr(), ldA, sA, b16.ptr(), ldB, sB, beta, C, ldc, strideC, batch, bias);
        // Back to the cache now: later users of these blocks are queued on the same stream, after this GEMM.
        a16.release();
        b16.release();
    }

    private static void toBf16(CudaContext c, CUdeviceptr src, int rows, int cols, int lds, long ss, CUdeviceptr dst,
                               int ldd, long ds, int batch) {
        c.kernel(FAMILY, "gemm_f32_to_bf16").launch((cols + 255) / 256, Math.min(rows, 65535), Math.min(batch, 65535),
                256, 1, 1, 0, src, rows, cols, lds, ss, dst, ldd, ds, batch);
    }

    /** BF16 on fp32 operands converting every fragment (the small-problem path of {@link #gemm}). */
    static void bf16Fused(CudaContext c, Tile tile, boolean transA, boolean transB, int M, int N, int K, float alpha,
                          CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB, float beta,
                          CUdeviceptr C, int ldc, long strideC, int batch, CUdeviceptr bias) {
        launch(c, "bf16", 4, tile, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch, bias);
    }

    /** {@link #gemm} in BF16 precision for A and B stored as bf16 (16-bit) elements; C and bias are float32. */
    public static void gemmBf16(CudaContext c, boolean transA, boolean transB, int M, int N, int K, float alpha,
                                CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                                float beta, CUdeviceptr C, int ldc, long strideC, int batch, CUdeviceptr bias) {
        gemmBf16(c, FORCED, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, bias);
    }

    /** {@link #gemmBf16} with an explicit tile configuration. */
    public static void gemmBf16(CudaContext c, Tile tile, boolean transA, boolean transB, int M, int N, int K,
                                float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb,
                                long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                                CUdeviceptr bias) {
        launch(c, "bf16s", 2, tile, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch, bias);
    }

    /** Validates the arguments of a (cuBLAS or our) GEMM call; false when there is nothing to compute. */
    static boolean validate(CudaContext c, boolean transA, boolean transB, int M, int N, int K, CUdeviceptr A, int lda,
                            long strideA, CUdeviceptr B, int ldb, long strideB, CUdeviceptr C, int ldc, long strideC,
                            int batch, boolean readsAB) {
        if (c == null) throw new IllegalArgumentException("context is null");
        if (M < 0) throw new IllegalArgumentException("M = " + M + " < 0");
        if (N < 0) throw new IllegalArgumentException("N = " + N + " < 0");
        if (K < 0) throw new IllegalArgumentException("K = " + K + " < 0");
        if (batch < 0) throw new IllegalArgumentException("batch = " + batch + " < 0");
        int aRow = transA ? M : K, bRow = transB ? K : N;
        if (lda < aRow || lda > MAX_LD) throw new IllegalArgumentException("lda = " + lda + " outside [" + aRow + ", " + MAX_LD + "]");
        if (ldb < bRow || ldb > MAX_LD) throw new IllegalArgumentException("ldb = " + ldb + " outside [" + bRow + ", " + MAX_LD + "]");
        if (ldc < N || ldc > MAX_LD) throw new IllegalArgumentException("ldc = " + ldc + " outside [" + N + ", " + MAX_LD + "]");
        if (strideA < 0) throw new IllegalArgumentException("strideA = " + strideA + " < 0");
        if (strideB < 0) throw new IllegalArgumentException("strideB = " + strideB + " < 0");
        if (strideC < 0) throw new IllegalArgumentException("strideC = " + strideC + " < 0");
        if (M == 0 || N == 0 || batch == 0) return false;
        if (batch > 1 && strideC < (long) (M - 1) * ldc + N)
            throw new IllegalArgumentException("strideC = " + strideC + " makes the " + batch + " outputs overlap (M=" + M + ", N=" + N + ", ldc=" + ldc + ")");
        if (C == null) throw new IllegalArgumentException("C is null");
        if (readsAB && A == null) throw new IllegalArgumentException("A is null");
        if (readsAB && B == null) throw new IllegalArgumentException("B is null");
        return true;
    }

    private static void launch(CudaContext c, String prec, int elemBytes, Tile tile, boolean transA, boolean transB,
                               int M, int N, int K, float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B,
                               int ldb, long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                               CUdeviceptr bias) {
        if (tile == null) throw new IllegalArgumentException("tile is null");
        // alpha == 0 or K == 0: C = beta*C + bias without touching A and B (BLAS semantics).
        boolean readsAB = K > 0 && alpha != 0f;
        if (!validate(c, transA, transB, M, N, K, A, lda, strideA, B, ldb, strideB, C, ldc, strideC, batch, readsAB)) return;
        int k = readsAB ? K : 0;
        CUdeviceptr none = new CUdeviceptr();
        String tr = (transA ? "t" : "n") + (transB ? "t" : "n");
        String name;
        int gx, threads, smem;
        if (prec.equals("fp32")) {
            Tile t = tile == Tile.AUTO ? chooseFp32(c, M, N, batch) : tile;
            boolean large = t == Tile.X || t == Tile.L;
            int bm = large ? 128 : 64;
            name = "gemm_fp32_" + tr + (large ? "_l" : "_s");
            gx = gridX(M, N, bm, bm);
            threads = 256;
            smem = 0;   // static shared memory
        } else {
            Tile t = tile == Tile.AUTO ? choose(c, M, N, batch, transA, transB, elemBytes) : tile;
            smem = sharedBytes(t, transA, transB, elemBytes);
            if (smem > c.maxSharedMemoryPerBlockOptin())
                throw new IllegalArgumentException("tile " + t + " needs " + smem + " B of shared memory; the device allows " + c.maxSharedMemoryPerBlockOptin());
            name = "gemm_" + prec + "_" + tr + "_" + t.name().toLowerCase(Locale.ROOT);
            gx = gridX(M, N, t.bm, t.bn);
            threads = t.threads;
        }
        c.kernel(FAMILY, name).launch(gx, Math.min(batch, 65535), 1, threads, 1, 1, smem,
                M, N, k, alpha, readsAB ? A : none, lda, strideA, readsAB ? B : none, ldb, strideB,
                beta, C, ldc, strideC, batch, bias == null ? none : bias);
    }

    private static int gridX(int M, int N, int bm, int bn) {
        long tiles = (long) ((M + bm - 1) / bm) * ((N + bn - 1) / bn);
        if (tiles > Integer.MAX_VALUE) throw new IllegalArgumentException("M×N = " + M + "×" + N + " needs too many tiles");
        return (int) tiles;
    }

    /** Dynamic shared memory of a tensor-core configuration; must match tc_gemm in gemm.cu. */
    static int sharedBytes(Tile t, boolean transA, boolean transB, int elemBytes) {
        int bk = 128 / elemBytes, padK = 16 / elemBytes, padMN = 8;
        int a = transA ? bk * (t.bm + padMN) : t.bm * (bk + padK);
        int b = transB ? t.bn * (bk + padK) : bk * (t.bn + padMN);
        return t.stages * (a + b) * elemBytes;
    }

    /**
     * The configuration with the least estimated time: waves of CTAs over the SMs (each SM holding perSm CTAs)
     * times the work of one resident set, divided by the configuration's throughput guess.
     */
    static Tile choose(CudaContext c, int M, int N, int batch, boolean transA, boolean transB, int elemBytes) {
        int sms = Math.max(1, c.multiprocessors());
        Tile best = Tile.S;
        double bestCost = Double.MAX_VALUE;
        for (Tile t : new Tile[]{Tile.X, Tile.L, Tile.M, Tile.S}) {
            int smem = sharedBytes(t, transA, transB, elemBytes);
            if (smem > c.maxSharedMemoryPerBlockOptin()) continue;
            int perSm = Math.max(1, Math.min(t.perSm, (c.maxSharedMemoryPerBlockOptin() + 1024) / (smem + 1024)));
            long ctas = (long) ((M + t.bm - 1) / t.bm) * ((N + t.bn - 1) / t.bn) * batch;
            long waves = (ctas + (long) sms * perSm - 1) / ((long) sms * perSm);
            double cost = waves * (double) perSm * t.bm * t.bn / t.efficiency;
            if (cost < bestCost) { bestCost = cost; best = t; }
        }
        return best;
    }

    private static Tile chooseFp32(CudaContext c, int M, int N, int batch) {
        long big = (long) ((M + 127) / 128) * ((N + 127) / 128) * batch;
        return big >= c.multiprocessors() ? Tile.L : Tile.S;
    }
}
