package dino4j.kernels;

import dino4j.runtime.CudaContext;
import dino4j.runtime.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;

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
 *
 * <p>Hopper: {@link #gemmBf16Sm90} runs the bf16-storage GEMM on warpgroup MMAs (wgmma, {@code gemm_sm90.cu},
 * sm_90a only), {@link #gemmTf32Sm90} the TF32 GEMM for the NT layout (x·Wᵀ). <b>Unverified on hardware until the
 * GPU check passes</b>, so they are opt-in: {@link #gemmBf16} (and with it the large-problem BF16 path,
 * {@link #bf16ViaConversion}) and {@link #gemm} in TF32 take them only with {@code -Ddino4j.gemm.sm90=true}, and
 * only where {@link #sm90Available} (a compute capability 9.0 device, the {@code gemm_sm90} module loads, enough
 * shared memory) and the call suits them ({@link Tile#AUTO}, rows of a multiple of 16 bytes: leading dimensions and
 * batch strides multiples of 8 bf16 or 4 fp32 elements, {@code K > 0}, {@code alpha != 0}; TF32: NT only);
 * everything else keeps the {@code gemm.cu} kernels, as does a build without nvcc.
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
        if (p == Precision.TF32 && tile == Tile.AUTO && sm90Enabled && !transA && transB && K > 0 && alpha != 0f
                && sm90Suits(4, lda, strideA, ldb, strideB) && c != null && sm90Available(c)) {
            gemmTf32Sm90(c, Sm90Tile.AUTO, false, true, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                    strideC, batch, bias);
            return;
        }
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

    /**
     * {@link #gemm} in BF16 precision for A and B stored as bf16 (16-bit) elements; C and bias are float32. With
     * {@code -Ddino4j.gemm.sm90=true} on an H100/H200 this runs the wgmma kernels ({@link #gemmBf16Sm90}).
     */
    public static void gemmBf16(CudaContext c, boolean transA, boolean transB, int M, int N, int K, float alpha,
                                CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                                float beta, CUdeviceptr C, int ldc, long strideC, int batch, CUdeviceptr bias) {
        gemmBf16(c, FORCED, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, bias);
    }

    /** {@link #gemmBf16} with an explicit tile configuration of the gemm.cu kernels (AUTO: may take sm90, see above). */
    public static void gemmBf16(CudaContext c, Tile tile, boolean transA, boolean transB, int M, int N, int K,
                                float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb,
                                long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                                CUdeviceptr bias) {
        if (tile == Tile.AUTO && sm90Enabled && K > 0 && alpha != 0f && sm90Suits(8, lda, strideA, ldb, strideB)
                && c != null && sm90Available(c)) {
            gemmBf16Sm90(c, Sm90Tile.AUTO, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C,
                    ldc, strideC, batch, bias);
            return;
        }
        launch(c, "bf16s", 2, tile, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch, bias);
    }

    // ---------------------------------------------------------------- Hopper: wgmma kernels (gemm_sm90.cu)

    /**
     * Configurations of the wgmma kernels (see gemm_sm90.cu): CTA tile 128×bn (2 warpgroups of 64 rows), pipeline
     * stages, CTAs an SM holds, and a relative throughput guess for {@link #AUTO}'s choice (to be replaced by
     * measured values once the kernels have run on hardware).
     */
    public enum Sm90Tile {
        AUTO(0, 0, 0, 0),
        L(256, 4, 1, 1.00),   // 128×256, 193 KB of shared memory
        M(128, 3, 2, 0.90);   // 128×128, 97 KB: two CTAs per SM

        final int bn, stages, perSm;
        final double efficiency;

        Sm90Tile(int bn, int stages, int perSm, double efficiency) {
            this.bn = bn; this.stages = stages; this.perSm = perSm; this.efficiency = efficiency;
        }
    }

    static final String SM90_FAMILY = "gemm_sm90";
    static final int SM90_BM = 128, SM90_ROW_BYTES = 128, SM90_THREADS = 256;
    /** {@code -Ddino4j.gemm.sm90=true}: {@link #gemmBf16} and TF32 {@link #gemm} may take the wgmma kernels (see the class doc). */
    private static volatile boolean sm90Enabled = Boolean.getBoolean("dino4j.gemm.sm90");
    /** Per context: "" when the wgmma kernels can run, else why not (probed once). */
    private static final Map<CudaContext, String> SM90_STATUS = Collections.synchronizedMap(new WeakHashMap<>());

    /** Whether {@link #gemmBf16} and TF32 {@link #gemm} may take the wgmma kernels (the property, unless a test changed it). */
    public static boolean sm90Enabled() { return sm90Enabled; }

    /** Tests only: switches the opt-in on or off. */
    static void sm90Enabled(boolean on) { sm90Enabled = on; }

    /** Whether the wgmma kernels can run on this context's device (see {@link #sm90Unavailable}). */
    public static boolean sm90Available(CudaContext c) { return sm90Unavailable(c).isEmpty(); }

    /**
     * Why the wgmma kernels cannot run on this context, or "" when they can: the device must be compute capability
     * 9.0 (sm_90a machine code runs there only), allow their shared memory, and the {@code gemm_sm90} module (absent
     * from builds without nvcc) must load. Probed once per context.
     */
    public static String sm90Unavailable(CudaContext c) {
        if (c == null) throw new IllegalArgumentException("context is null");
        return SM90_STATUS.computeIfAbsent(c, GemmCuda::probeSm90);
    }

    private static String probeSm90(CudaContext c) {
        int cc = c.computeCapability();
        if (cc != 90) return "device is sm_" + cc + "; the wgmma kernels are sm_90a machine code (H100/H200)";
        int smem = sm90SharedBytes(Sm90Tile.L);
        if (smem > c.maxSharedMemoryPerBlockOptin())
            return "needs " + smem + " B of shared memory per block; the device allows " + c.maxSharedMemoryPerBlockOptin();
        try {
            c.kernel(SM90_FAMILY, "gemm_sm90_bf16_nt_l");
        } catch (RuntimeException e) {
            return "CUDA module " + SM90_FAMILY + " does not load: " + e.getMessage();
        }
        return "";
    }

    /**
     * Leading dimensions and batch strides the wgmma kernels take at full speed: multiples of {@code per16} elements
     * (8 bf16 or 4 fp32: 16-byte rows for cp.async). Others (and base pointers that are not 16-byte aligned, which only
     * the kernel sees) run correctly on its plain-load path, so {@link #gemmBf16Sm90} and {@link #gemmTf32Sm90}
     * accept them, but the automatic routing keeps them on the gemm.cu kernels.
     */
    static boolean sm90Suits(int per16, int lda, long strideA, int ldb, long strideB) {
        return lda % per16 == 0 && ldb % per16 == 0 && strideA % per16 == 0 && strideB % per16 == 0;
    }

    /**
     * {@link #gemmBf16} on the Hopper wgmma kernels of gemm_sm90.cu, whatever {@code -Ddino4j.gemm.sm90} says
     * (tests, benchmarks): same semantics, any shape, transposition, leading dimension and alignment.
     * <b>Unverified on hardware until the GPU check passes.</b>
     *
     * @throws IllegalStateException where the kernels cannot run ({@link #sm90Unavailable} says why)
     */
    public static void gemmBf16Sm90(CudaContext c, Sm90Tile tile, boolean transA, boolean transB, int M, int N, int K,
                                    float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb,
                                    long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                                    CUdeviceptr bias) {
        launchSm90(c, "bf16", tile, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch, bias);
    }

    /**
     * {@link #gemm} in {@link Precision#TF32} on the Hopper wgmma kernels of gemm_sm90.cu (fp32 A and B rounded to
     * tf32 like the gemm.cu kernels), whatever {@code -Ddino4j.gemm.sm90} says. NT layout only ({@code transA =
     * false, transB = true}: A is M×K, B is N×K, as in x·Wᵀ), since wgmma reads tf32 operands K-major only; any
     * shape, leading dimension and alignment. <b>Unverified on hardware until the GPU check passes.</b>
     *
     * @throws IllegalStateException where the kernels cannot run ({@link #sm90Unavailable} says why)
     */
    public static void gemmTf32Sm90(CudaContext c, Sm90Tile tile, boolean transA, boolean transB, int M, int N, int K,
                                    float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb,
                                    long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                                    CUdeviceptr bias) {
        if (transA || !transB) throw new IllegalArgumentException("the tf32 wgmma kernels take the NT layout only");
        launchSm90(c, "tf32", tile, false, true, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch, bias);
    }

    private static void launchSm90(CudaContext c, String prec, Sm90Tile tile, boolean transA, boolean transB, int M,
                                   int N, int K, float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B,
                                   int ldb, long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                                   CUdeviceptr bias) {
        if (tile == null) throw new IllegalArgumentException("tile is null");
        boolean readsAB = K > 0 && alpha != 0f;
        if (!validate(c, transA, transB, M, N, K, A, lda, strideA, B, ldb, strideB, C, ldc, strideC, batch, readsAB)) return;
        String why = sm90Unavailable(c);
        if (!why.isEmpty()) throw new IllegalStateException("the sm90 GEMM kernels cannot run here: " + why);
        Sm90Tile t = tile == Sm90Tile.AUTO ? chooseSm90(c, M, N, batch) : tile;
        int smem = sm90SharedBytes(t);
        String name = "gemm_sm90_" + prec + "_" + (transA ? "t" : "n") + (transB ? "t" : "n") + "_" + t.name().toLowerCase(Locale.ROOT);
        CUdeviceptr none = new CUdeviceptr();
        c.kernel(SM90_FAMILY, name).launch(gridX(M, N, SM90_BM, t.bn), Math.min(batch, 65535), 1, SM90_THREADS, 1, 1, smem,
                M, N, readsAB ? K : 0, alpha, readsAB ? A : none, lda, strideA, readsAB ? B : none, ldb, strideB,
                beta, C, ldc, strideC, batch, bias == null ? none : bias);
    }

    /**
     * Dynamic shared memory of a wgmma configuration (bf16 and tf32 alike: 128 bytes of K per tile row and stage);
     * must match wg_gemm in gemm_sm90.cu (+1 KB to align the ring to the 1024-byte swizzle atoms).
     */
    static int sm90SharedBytes(Sm90Tile t) {
        if (t == Sm90Tile.AUTO) throw new IllegalArgumentException("AUTO has no size");
        return t.stages * (SM90_BM + t.bn) * SM90_ROW_BYTES + 1024;
    }

    /** The wgmma configuration with the least estimated time (the same wave model as {@link #choose}). */
    static Sm90Tile chooseSm90(CudaContext c, int M, int N, int batch) {
        int sms = Math.max(1, c.multiprocessors());
        Sm90Tile best = Sm90Tile.M;
        double bestCost = Double.MAX_VALUE;
        for (Sm90Tile t : new Sm90Tile[]{Sm90Tile.L, Sm90Tile.M}) {
            double cost = waveCost(sms, t.perSm, SM90_BM, t.bn, t.efficiency, M, N, batch);
            if (cost < bestCost) { bestCost = cost; best = t; }
        }
        return best;
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
            double cost = waveCost(sms, perSm, t.bm, t.bn, t.efficiency, M, N, batch);
            if (cost < bestCost) { bestCost = cost; best = t; }
        }
        return best;
    }

    /**
     * Estimated time of a tiling, in output elements of work: the CTAs run in waves of {@code sms · perSm}, and a
     * wave costs what its CTAs' tiles cost at the tiling's relative {@code efficiency}, so a half-empty last wave
     * costs as much as a full one.
     */
    static double waveCost(int sms, int perSm, int bm, int bn, double efficiency, int M, int N, int batch) {
        long ctas = (long) ((M + bm - 1) / bm) * ((N + bn - 1) / bn) * batch;
        long waves = (ctas + (long) sms * perSm - 1) / ((long) sms * perSm);
        return waves * (double) perSm * bm * bn / efficiency;
    }

    private static Tile chooseFp32(CudaContext c, int M, int N, int batch) {
        long big = (long) ((M + 127) / 128) * ((N + 127) / 128) * batch;
        return big >= c.multiprocessors() ? Tile.L : Tile.S;
    }
}
