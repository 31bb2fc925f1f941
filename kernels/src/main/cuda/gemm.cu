// GEMM family, row-major like GemmKernels: for z in [0,batch)
//   C_z[M,N] = alpha * op(A_z) * op(B_z) + beta * C_z + bias      (bias: optional float[N], added to every row)
// op(A)[i,k] = transA ? A[k*lda + i] : A[i*lda + k];  op(B)[k,n] = transB ? B[n*ldb + k] : B[k*ldb + n].
// Batch offsets are in elements (strideB = 0 broadcasts B). beta == 0 never reads C.
//
// HOW THE TILING WORKS
// 1. FP32 (gemm_fp32_{nn,nt,tn,tt}_{l,s}): classic SIMT kernel, exact fp32 FMAs. A CTA of 256 threads computes a BM×BN tile
//    (128×128 or 64×64) as a 16×16 grid of threads, each owning (BM/16)×(BN/16) outputs in registers. K is walked
//    in steps of 8: op(A) and op(B) slices are loaded to registers (prefetching step k+1 while step k computes),
//    then stored k-major into double-buffered shared memory (rows padded by 4 floats: conflict-free stores, float4
//    reads). Scalar, bounds-checked global loads, so any shape, leading dimension and alignment works.
// 2. Tensor cores (gemm_{tf32,bf16,bf16s}_{nn,nt,tn,tt}_{x,l,m,s}): tc_gemm below. A CTA computes BM×BN with
//    WM×WN warps; each warp owns a (BM/WM)×(BN/WN) sub-tile = MT×NT mma tiles of 16×8 whose fp32 accumulators stay
//    in registers. K is walked in slices of BK = 128 bytes of K per row (32 fp32 or 64 bf16 elements) through a
//    STAGES-deep cp.async ring in dynamic shared memory (one barrier per slice; slice kt+STAGES-1 is in flight while
//    kt computes). Shared tiles keep the global layout, so every copy is a 16-byte cp.async (zero-filled past the
//    edges; 4-byte cp.async or plain loads when a row is not 16-byte aligned):
//      "K-contiguous" operand (A when !transA, B when transB): [rows][BK + 16B pad]; rows are 144 bytes apart so
//        the 8 row addresses of an ldmatrix hit 8 different 16-byte bank groups (conflict-free).
//      "MN-contiguous" operand (A when transA, B when !transB): [BK][BM or BN + 8 pad]; fp32 rows are then 8 banks
//        apart, so the scalar fragment loads (bank 8t+g) are conflict-free; bf16 rows suit ldmatrix.trans.
//    Fragments: TF32 m16n8k8 — each thread rounds the chunks it copied to tf32 (cvt.rna.tf32.f32) in shared memory
//    once the copy lands (once per CTA rather than once per warp fragment); fragments are then plain fp32 words
//    from ldmatrix (K-contiguous) or scalar LDS (MN-contiguous). BF16 from fp32 storage — the same fp32 loads,
//    packed to bf16x2 by cvt.rn.bf16x2.f32 (round to nearest even); k16 slots are permuted (slot 2t,2t+1,2t+8,2t+9
//    <- k t,t+4,t+8,t+12) identically in A and B, which leaves the dot product unchanged and lets two ldmatrix.x4
//    of fp32 words fill a 16×16 bf16 fragment (large problems instead convert A and B once with gemm_f32_to_bf16
//    and run gemm_bf16s; see GemmCuda). BF16 storage (gemm_bf16s) — standard ldmatrix / ldmatrix.trans fragments.
//    Each warp walks a slice in mma k-steps (rolled, so ptxas does not hoist all fragments at once): per step it
//    loads the B fragments of its tile, then one 16-row A fragment at a time with its row of mmas.
//    Configs (CTA tile, warps as WM×WN, warp tile, stages): x = 256×128, 4×2, 64×64, 4; l = 128×128, 2×2, 64×64, 3;
//    m = 128×64, 2×2, 64×32, 4; s = 64×64, 2×2, 32×32, 3. The launcher picks by wave quantisation over the SMs
//    (GemmCuda.choose). CTAs are rasterised in groups of 8 tile-rows so that concurrently running CTAs share A and
//    B panels in L2. blockIdx.y walks the batch (grid-strided past 65535).
#include "common.cuh"

typedef unsigned short bf16_t;   // bf16 storage (bit pattern)

// ---------------------------------------------------------------- PTX helpers
static __device__ __forceinline__ uint32_t smem_u32(const void* p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}
// 16-byte async copy; bytes in [0,16] are read from src, the rest of the 16 are zero-filled.
static __device__ __forceinline__ void cp_async16(void* dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)), "l"(src), "r"(bytes) : "memory");
}
static __device__ __forceinline__ void cp_async4(void* dst, const void* src, int bytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem_u32(dst)), "l"(src), "r"(bytes) : "memory");
}
static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
static __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

static __device__ __forceinline__ void ldsm_x4(uint32_t r[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_u32(p)));
}
static __device__ __forceinline__ void ldsm_x4_t(uint32_t r[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_u32(p)));
}
static __device__ __forceinline__ uint32_t tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
    return r;
}
// Two floats -> bf16x2 (round to nearest even); lo goes to the low half (the lower k index).
static __device__ __forceinline__ uint32_t bf16x2(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}
static __device__ __forceinline__ uint32_t bf16x2(uint32_t lo, uint32_t hi) { return bf16x2(__uint_as_float(lo), __uint_as_float(hi)); }

static __device__ __forceinline__ void mma_tf32(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
static __device__ __forceinline__ void mma_bf16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
static __device__ __forceinline__ uint32_t dynamic_smem_bytes() {
    uint32_t r;
    asm("mov.u32 %0, %%dynamic_smem_size;\n" : "=r"(r));
    return r;
}

// ---------------------------------------------------------------- FP32 SIMT kernel
template <int BM, int BN, bool TA, bool TB>
static __device__ __forceinline__ void simt_gemm(int M, int N, int K, float alpha, const float* __restrict__ A, int lda,
                                                 long long sA, const float* __restrict__ B, int ldb, long long sB,
                                                 float beta, float* __restrict__ C, int ldc, long long sC, int batch,
                                                 const float* __restrict__ bias) {
    constexpr int BK = 8, THREADS = 256, TM = BM / 16, TN = BN / 16, LA = BM / 32, LB = BN / 32;
    static_assert(BM % 64 == 0 && BN % 64 == 0, "tiles are multiples of 64");
    __shared__ __align__(16) float As[2][BK][BM + 4];
    __shared__ __align__(16) float Bs[2][BK][BN + 4];
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    int tm, tn;
    gemm_tile_coords((M + BM - 1) / BM, (N + BN - 1) / BN, tm, tn);
    const int m0 = tm * BM, n0 = tn * BN;
    const int KT = (K + BK - 1) / BK;
    // This thread's loads (consecutive threads read consecutive addresses): element i of the A slice is
    // (am + i*AMS, ak + i*AKS) of the BM×BK tile, likewise for B.
    constexpr int AMS = TA ? 0 : 32, AKS = TA ? THREADS / BM : 0;
    constexpr int BNS = TB ? 32 : 0, BKS = TB ? 0 : THREADS / BN;
    const int am = TA ? tid % BM : tid >> 3, ak = TA ? tid / BM : tid & 7;
    const int bn = TB ? tid >> 3 : tid % BN, bk = TB ? tid & 7 : tid / BN;

    for (int z = blockIdx.y; z < batch; z += gridDim.y) {
        // Running pointers to element 0 of this thread's A and B loads; they advance by one K slice per step.
        const float* pa = A + z * sA + (TA ? (size_t)ak * lda + (m0 + am) : (size_t)(m0 + am) * lda + ak);
        const float* pb = B + z * sB + (TB ? (size_t)(n0 + bn) * ldb + bk : (size_t)bk * ldb + (n0 + bn));
        const size_t aStep = TA ? (size_t)BK * lda : BK, bStep = TB ? BK : (size_t)BK * ldb;
        const int aRowsLeft = M - m0 - am, bColsLeft = N - n0 - bn;   // edge distances along M and N
        int aKLeft = K - ak, bKLeft = K - bk;                         // ... and along K (shrink per slice)
        float* Cz = C + z * sC;
        float acc[TM][TN];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;
        float ra[LA], rb[LB];
        auto gload = [&]() {
#pragma unroll
            for (int i = 0; i < LA; ++i) {
                const bool ok = i * AMS < aRowsLeft && i * AKS < aKLeft;
                ra[i] = ok ? pa[TA ? i * AKS * lda : i * AMS * lda] : 0.f;
            }
#pragma unroll
            for (int i = 0; i < LB; ++i) {
                const bool ok = i * BNS < bColsLeft && i * BKS < bKLeft;
                rb[i] = ok ? pb[TB ? i * BNS * ldb : i * BKS * ldb] : 0.f;
            }
            pa += aStep; pb += bStep; aKLeft -= BK; bKLeft -= BK;
        };
        auto sstore = [&](int buf) {
#pragma unroll
            for (int i = 0; i < LA; ++i) As[buf][ak + i * AKS][am + i * AMS] = ra[i];
#pragma unroll
            for (int i = 0; i < LB; ++i) Bs[buf][bk + i * BKS][bn + i * BNS] = rb[i];
        };

        if (KT > 0) { gload(); sstore(0); }
        __syncthreads();
        for (int kt = 0; kt < KT; ++kt) {
            const int buf = kt & 1;
            if (kt + 1 < KT) gload();   // slice kt+1, in flight while slice kt computes
#pragma unroll
            for (int k = 0; k < BK; ++k) {
                float a[TM], b[TN];
#pragma unroll
                for (int q = 0; q < TM / 4; ++q) {
                    const float4 v = *reinterpret_cast<const float4*>(&As[buf][k][q * 64 + ty * 4]);
                    a[q * 4 + 0] = v.x; a[q * 4 + 1] = v.y; a[q * 4 + 2] = v.z; a[q * 4 + 3] = v.w;
                }
#pragma unroll
                for (int q = 0; q < TN / 4; ++q) {
                    const float4 v = *reinterpret_cast<const float4*>(&Bs[buf][k][q * 64 + tx * 4]);
                    b[q * 4 + 0] = v.x; b[q * 4 + 1] = v.y; b[q * 4 + 2] = v.z; b[q * 4 + 3] = v.w;
                }
#pragma unroll
                for (int i = 0; i < TM; ++i)
#pragma unroll
                    for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
            }
            // The other buffer was last read in iteration kt-1, which every thread finished (barrier below).
            if (kt + 1 < KT) sstore(buf ^ 1);
            __syncthreads();
        }

#pragma unroll
        for (int i = 0; i < TM; ++i) {
            const int row = m0 + (i / 4) * 64 + ty * 4 + (i % 4);
            if (row >= M) continue;
            float* crow = Cz + (size_t)row * ldc;
#pragma unroll
            for (int j = 0; j < TN; ++j) {
                const int col = n0 + (j / 4) * 64 + tx * 4 + (j % 4);
                if (col >= N) continue;
                float v = alpha * acc[i][j];
                if (beta != 0.f) v = fmaf(beta, crow[col], v);
                if (bias != nullptr) v += bias[col];
                crow[col] = v;
            }
        }
    }
}

#define GEMM_FP32_KERNEL(NAME, BM, BN, TA, TB, MINB)                                                              \
    extern "C" __global__ void __launch_bounds__(256, MINB)                                                       \
        NAME(int M, int N, int K, float alpha, const float* A, int lda, long long sA, const float* B, int ldb,     \
             long long sB, float beta, float* C, int ldc, long long sC, int batch, const float* bias) {            \
        simt_gemm<BM, BN, TA, TB>(M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batch, bias);         \
    }
#define GEMM_FP32_CONFIGS(PFX, TA, TB)                    \
    GEMM_FP32_KERNEL(PFX##_l, 128, 128, TA, TB, 1)        \
    GEMM_FP32_KERNEL(PFX##_s, 64, 64, TA, TB, 3)
// gemm_fp32_<nn|nt|tn|tt>_<l|s>: 128×128 (8×8 outputs per thread) or 64×64 (4×4 per thread).
GEMM_FP32_CONFIGS(gemm_fp32_nn, false, false)
GEMM_FP32_CONFIGS(gemm_fp32_nt, false, true)
GEMM_FP32_CONFIGS(gemm_fp32_tn, true, false)
GEMM_FP32_CONFIGS(gemm_fp32_tt, true, true)
// ---------------------------------------------------------------- tensor-core kernel
enum { P_TF32 = 0, P_BF16 = 1, P_BF16S = 2 };   // tf32 mma on fp32; bf16 mma on fp32 storage; bf16 mma on bf16 storage

// Streams one operand's tiles into shared memory, one K slice per call, keeping only a running pointer and two
// edge distances per thread (cheap in registers). The tile is ROWS×COLS of the global layout (rows ldg apart),
// stored with row stride LD; K advances along columns (K_ALONG_COLS, the K-contiguous case) or rows. Elements
// outside the matrix are zero-filled. vec: rows and base are 16-byte aligned, so whole 16-byte chunks go by
// cp.async; else 4-byte cp.async (fp32) or plain loads (bf16).
template <int ROWS, int COLS, int LD, int THREADS, bool K_ALONG_COLS, typename T>
struct TileLoader {
    static constexpr int CH = 16 / (int)sizeof(T), CPR = COLS / CH, RSTEP = THREADS / CPR, ITERS = ROWS / RSTEP;
    static_assert(COLS % CH == 0 && THREADS % CPR == 0 && ROWS % RSTEP == 0, "tile does not split evenly over the threads");
    const T* p;      // this thread's first chunk in the current slice
    int rowsLeft;    // rows (from this thread's first row) still inside the matrix
    int colsLeft;    // columns (from this thread's chunk start) still inside the matrix
    int ldg, soff;   // global row stride; this thread's first chunk offset in a stage

    __device__ __forceinline__ TileLoader(const T* g, int ldg_, int r0, int c0, int rmax, int cmax, int tid) {
        const int r = tid / CPR, c = (tid % CPR) * CH;
        ldg = ldg_;
        p = g + (size_t)(r0 + r) * ldg_ + (c0 + c);
        rowsLeft = rmax - r0 - r;
        colsLeft = cmax - c0 - c;
        soff = r * LD + c;
    }

    __device__ __forceinline__ void load(T* stage, bool vec) {
#pragma unroll
        for (int it = 0; it < ITERS; ++it) {
            T* d = stage + soff + it * RSTEP * LD;
            const bool rowOk = it * RSTEP < rowsLeft;
            const T* src = p + it * RSTEP * ldg;   // < 2^31 elements: the launcher bounds ld
            if (vec) {
                const int n = rowOk ? min(max(colsLeft, 0), CH) : 0;
                cp_async16(d, src, n * (int)sizeof(T));   // n == 0 reads nothing
            } else if constexpr (sizeof(T) == 4) {
#pragma unroll
                for (int e = 0; e < CH; ++e) {
                    const bool ok = rowOk && e < colsLeft;
                    cp_async4(d + e, src + e, ok ? 4 : 0);
                }
            } else {
                uint32_t w[4];
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const uint32_t lo = (rowOk && 2 * e < colsLeft) ? src[2 * e] : 0u;
                    const uint32_t hi = (rowOk && 2 * e + 1 < colsLeft) ? src[2 * e + 1] : 0u;
                    w[e] = lo | (hi << 16);
                }
                *reinterpret_cast<uint4*>(d) = make_uint4(w[0], w[1], w[2], w[3]);
            }
        }
        // Next K slice.
        constexpr int BK = K_ALONG_COLS ? COLS : ROWS;
        if constexpr (K_ALONG_COLS) { p += BK; colsLeft -= BK; }
        else { p += (size_t)BK * ldg; rowsLeft -= BK; }
    }

    // Rounds, in place, the chunks this thread copied into a stage to tf32 (cvt.rna), once per CTA instead of
    // once per warp fragment. Call after this thread's copies of the stage have landed, before the barrier.
    __device__ __forceinline__ void round_tf32(T* stage) const {
        static_assert(sizeof(T) == 4, "tf32 rounding is for fp32 tiles");
#pragma unroll 4   // bounded: the accumulators are live here, and 16 chunks in flight would spill on sm_80
        for (int it = 0; it < ITERS; ++it) {
            float4* q = reinterpret_cast<float4*>(stage + soff + it * RSTEP * LD);
            float4 v = *q;
            v.x = __uint_as_float(tf32(v.x));
            v.y = __uint_as_float(tf32(v.y));
            v.z = __uint_as_float(tf32(v.z));
            v.w = __uint_as_float(tf32(v.w));
            *q = v;
        }
    }
};

// A fragment of the 16×KSTEP mma tile whose top-left is (m,k) of the shared A tile (g = lane/4, t = lane%4).
template <int PREC, bool TA, int LD, typename T>
static __device__ __forceinline__ void load_a(uint32_t a[4], const T* s, int m, int k, int lane) {
    const int g = lane >> 2, t = lane & 3;
    if constexpr (PREC == P_TF32) {   // the stage already holds tf32-rounded values (TileLoader::round_tf32)
        if constexpr (!TA) {          // [m][k]: ldmatrix of fp32 words gives a0..a3 = (g,t),(g+8,t),(g,t+4),(g+8,t+4)
            ldsm_x4(a, s + (m + (lane & 15)) * LD + k + (lane >> 4) * 4);
        } else {                      // [k][m]
            const float* p = s + (k + t) * LD + m + g;
            a[0] = __float_as_uint(p[0]); a[1] = __float_as_uint(p[8]);
            a[2] = __float_as_uint(p[4 * LD]); a[3] = __float_as_uint(p[4 * LD + 8]);
        }
    } else if constexpr (PREC == P_BF16) {   // k slots (2t,2t+1 | 2t+8,2t+9) hold k (t,t+4 | t+8,t+12)
        if constexpr (!TA) {
            uint32_t r[4], q[4];
            const float* p = s + (m + (lane & 15)) * LD + k + (lane >> 4) * 4;
            ldsm_x4(r, p);
            ldsm_x4(q, p + 8);
            a[0] = bf16x2(r[0], r[2]); a[1] = bf16x2(r[1], r[3]); a[2] = bf16x2(q[0], q[2]); a[3] = bf16x2(q[1], q[3]);
        } else {
            const float* p = s + (k + t) * LD + m + g;
            a[0] = bf16x2(p[0], p[4 * LD]);
            a[1] = bf16x2(p[8], p[4 * LD + 8]);
            a[2] = bf16x2(p[8 * LD], p[12 * LD]);
            a[3] = bf16x2(p[8 * LD + 8], p[12 * LD + 8]);
        }
    } else {
        if constexpr (!TA) {
            ldsm_x4(a, s + (m + (lane & 15)) * LD + k + (lane >> 4) * 8);
        } else {
            const int i = lane >> 3;
            ldsm_x4_t(a, s + (k + (lane & 7) + (i >> 1) * 8) * LD + m + (i & 1) * 8);
        }
    }
}

// B fragments of two adjacent n8 tiles (columns n..n+7 -> b0, n+8..n+15 -> b1) at k of the shared B tile.
template <int PREC, bool TB, int LD, typename T>
static __device__ __forceinline__ void load_b2(uint32_t b0[2], uint32_t b1[2], const T* s, int n, int k, int lane) {
    const int g = lane >> 2, t = lane & 3;
    if constexpr (PREC == P_TF32) {
        if constexpr (TB) {           // [n][k]: matrices (n0-7,k0-3),(n0-7,k4-7),(n8-15,k0-3),(n8-15,k4-7)
            uint32_t r[4];
            ldsm_x4(r, s + (n + (lane & 7) + (lane >> 4) * 8) * LD + k + ((lane >> 3) & 1) * 4);
            b0[0] = r[0]; b0[1] = r[1]; b1[0] = r[2]; b1[1] = r[3];
        } else {                      // [k][n]
            const float* p = s + (k + t) * LD + n + g;
            b0[0] = __float_as_uint(p[0]); b0[1] = __float_as_uint(p[4 * LD]);
            b1[0] = __float_as_uint(p[8]); b1[1] = __float_as_uint(p[4 * LD + 8]);
        }
    } else if constexpr (PREC == P_BF16) {
        if constexpr (TB) {
            uint32_t r[4], q[4];
            const float* p = s + (n + (lane & 7) + (lane >> 4) * 8) * LD + k + ((lane >> 3) & 1) * 4;
            ldsm_x4(r, p);
            ldsm_x4(q, p + 8);
            b0[0] = bf16x2(r[0], r[1]); b0[1] = bf16x2(q[0], q[1]);
            b1[0] = bf16x2(r[2], r[3]); b1[1] = bf16x2(q[2], q[3]);
        } else {
            const float* p = s + (k + t) * LD + n + g;
            b0[0] = bf16x2(p[0], p[4 * LD]);     b0[1] = bf16x2(p[8 * LD], p[12 * LD]);
            b1[0] = bf16x2(p[8], p[4 * LD + 8]); b1[1] = bf16x2(p[8 * LD + 8], p[12 * LD + 8]);
        }
    } else {
        const int i = lane >> 3;
        uint32_t r[4];
        if constexpr (TB) ldsm_x4(r, s + (n + (lane & 7) + (i >> 1) * 8) * LD + k + (i & 1) * 8);
        else ldsm_x4_t(r, s + (k + (lane & 7) + (i & 1) * 8) * LD + n + (i >> 1) * 8);
        b0[0] = r[0]; b0[1] = r[1]; b1[0] = r[2]; b1[1] = r[3];
    }
}

template <int BM, int BN, int WM, int WN, int STAGES, int PREC, bool TA, bool TB, typename T>
static __device__ __forceinline__ void tc_gemm(int M, int N, int K, float alpha, const T* __restrict__ A, int lda,
                                               long long sA, const T* __restrict__ B, int ldb, long long sB,
                                               float beta, float* __restrict__ C, int ldc, long long sC, int batch,
                                               const float* __restrict__ bias) {
    constexpr int THREADS = WM * WN * 32;
    constexpr int ES = (int)sizeof(T);
    constexpr int BK = 128 / ES, CH = 16 / ES;
    constexpr int KSTEP = PREC == P_TF32 ? 8 : 16;
    constexpr int WTM = BM / WM, WTN = BN / WN, MT = WTM / 16, NT = WTN / 8;
    static_assert(WTM % 16 == 0 && WTN % 16 == 0, "warp tile must be a multiple of 16x16");
    static_assert(PREC == P_BF16S ? ES == 2 : ES == 4, "storage type does not match the precision");
    constexpr int PADK = CH, PADMN = 8;   // see the header: K-contiguous rows 144 B apart; MN rows 8 words apart
    constexpr int A_LD = TA ? BM + PADMN : BK + PADK;
    constexpr int A_ELEMS = TA ? BK * A_LD : BM * A_LD;
    constexpr int B_LD = TB ? BK + PADK : BN + PADMN;
    constexpr int B_ELEMS = TB ? BN * B_LD : BK * B_LD;
    constexpr int STAGE_ELEMS = A_ELEMS + B_ELEMS;
    static_assert((A_ELEMS * ES) % 16 == 0 && (STAGE_ELEMS * ES) % 16 == 0, "stages must stay 16-byte aligned");

    extern __shared__ __align__(16) unsigned char smem_raw[];
    T* smem = reinterpret_cast<T*>(smem_raw);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    // A launcher that disagrees with these sizes would corrupt memory: stop loudly instead.
    if (dynamic_smem_bytes() < (uint32_t)(STAGES * STAGE_ELEMS * ES)) __trap();

    const int wm0 = (warp % WM) * WTM, wn0 = (warp / WM) * WTN;
    int tm, tn;
    gemm_tile_coords((M + BM - 1) / BM, (N + BN - 1) / BN, tm, tn);
    const int m0 = tm * BM, n0 = tn * BN;
    const int KT = (K + BK - 1) / BK;
    const int g = lane >> 2, t = lane & 3;

    for (int z = blockIdx.y; z < batch; z += gridDim.y) {
        const T* Az = A + z * sA;
        const T* Bz = B + z * sB;
        float* Cz = C + z * sC;
        const bool vecA = (reinterpret_cast<uintptr_t>(Az) & 15) == 0 && lda % CH == 0;
        const bool vecB = (reinterpret_cast<uintptr_t>(Bz) & 15) == 0 && ldb % CH == 0;

        // A: [M][K] tile BM×BK (K along columns) or [K][M] tile BK×BM; B: [N][K] BN×BK or [K][N] BK×BN.
        TileLoader<TA ? BK : BM, TA ? BM : BK, A_LD, THREADS, !TA, T> la(Az, lda, TA ? 0 : m0, TA ? m0 : 0,
                                                                          TA ? K : M, TA ? M : K, tid);
        TileLoader<TB ? BN : BK, TB ? BK : BN, B_LD, THREADS, TB, T> lb(Bz, ldb, TB ? n0 : 0, TB ? 0 : n0,
                                                                         TB ? N : K, TB ? K : N, tid);
        auto load_stage = [&](int slot) {   // loads the next K slice into the slot
            T* sa = smem + slot * STAGE_ELEMS;
            la.load(sa, vecA);
            lb.load(sa + A_ELEMS, vecB);
        };

        float acc[MT][NT][4];
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int j = 0; j < NT; ++j)
#pragma unroll
                for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;

#pragma unroll
        for (int s = 0; s < STAGES - 1; ++s) {
            if (s < KT) load_stage(s);
            cp_async_commit();
        }
        for (int kt = 0; kt < KT; ++kt) {
            cp_async_wait<STAGES - 2>();   // this thread's copies of slice kt have landed
            if constexpr (PREC == P_TF32) {
                T* st = smem + (kt % STAGES) * STAGE_ELEMS;
                la.round_tf32(st);
                lb.round_tf32(st + A_ELEMS);
            }
            __syncthreads();               // everyone's have (rounded), and everyone finished slice kt-1
            const int nk = kt + STAGES - 1;
            if (nk < KT) load_stage(nk % STAGES);   // slice nk refills the slot slice kt-1 used
            cp_async_commit();

            const T* sa = smem + (kt % STAGES) * STAGE_ELEMS;
            const T* sb = sa + A_ELEMS;
            // One mma k-step: all B fragments of the warp tile, then A one 16-row tile at a time (fewer live
            // registers than holding every fragment at once).
            auto step = [&](int kk) {
                uint32_t bf[NT][2];
#pragma unroll
                for (int j = 0; j < NT; j += 2) load_b2<PREC, TB, B_LD>(bf[j], bf[j + 1], sb, wn0 + j * 8, kk, lane);
#pragma unroll
                for (int i = 0; i < MT; ++i) {
                    uint32_t af[4];
                    load_a<PREC, TA, A_LD>(af, sa, wm0 + i * 16, kk, lane);
#pragma unroll
                    for (int j = 0; j < NT; ++j) {
                        if constexpr (PREC == P_TF32) mma_tf32(acc[i][j], af, bf[j]);
                        else mma_bf16(acc[i][j], af, bf[j]);
                    }
                }
            };
            // Rolled: unrolling the k-steps lets ptxas hoist every step's fragments and run out of registers.
#pragma unroll 1
            for (int kk = 0; kk < BK; kk += KSTEP) step(kk);
        }
        cp_async_wait<0>();

        // Epilogue: c0,c1 = (g, 2t..2t+1), c2,c3 = (g+8, 2t..2t+1) of each 16×8 tile.
        const bool vecC = (reinterpret_cast<uintptr_t>(Cz) & 7) == 0 && (ldc & 1) == 0 &&
                          (bias == nullptr || (reinterpret_cast<uintptr_t>(bias) & 7) == 0);
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int row = m0 + wm0 + i * 16 + g + h * 8;
                if (row >= M) continue;
                float* crow = Cz + (size_t)row * ldc;
#pragma unroll
                for (int j = 0; j < NT; ++j) {
                    const int col = n0 + wn0 + j * 8 + 2 * t;
                    float v0 = alpha * acc[i][j][2 * h], v1 = alpha * acc[i][j][2 * h + 1];
                    gemm_store_pair(crow, col, N, v0, v1, beta, bias, vecC);
                }
            }
        __syncthreads();   // the next batch item's prologue reuses the stages
    }
}

// extern "C" entry points: gemm_<prec>_<transA transB: n|t><config>, e.g. gemm_tf32_nt_l.
#define GEMM_TC_KERNEL(NAME, T, PREC, TA, TB, BM, BN, WM, WN, ST, MINB)                                            \
    extern "C" __global__ void __launch_bounds__(WM * WN * 32, MINB)                                               \
        NAME(int M, int N, int K, float alpha, const T* A, int lda, long long sA, const T* B, int ldb, long long sB, \
             float beta, float* C, int ldc, long long sC, int batch, const float* bias) {                          \
        tc_gemm<BM, BN, WM, WN, ST, PREC, TA, TB, T>(M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC,     \
                                                     batch, bias);                                                 \
    }
#define GEMM_TC_CONFIGS(PFX, T, PREC, TA, TB)                                   \
    GEMM_TC_KERNEL(PFX##_x, T, PREC, TA, TB, 256, 128, 4, 2, 4, 1)              \
    GEMM_TC_KERNEL(PFX##_l, T, PREC, TA, TB, 128, 128, 2, 2, 3, 2)              \
    GEMM_TC_KERNEL(PFX##_m, T, PREC, TA, TB, 128, 64, 2, 2, 4, 2)               \
    GEMM_TC_KERNEL(PFX##_s, T, PREC, TA, TB, 64, 64, 2, 2, 3, 3)
#define GEMM_TC_TRANS(PFX, T, PREC)                          \
    GEMM_TC_CONFIGS(PFX##_nn, T, PREC, false, false)         \
    GEMM_TC_CONFIGS(PFX##_nt, T, PREC, false, true)          \
    GEMM_TC_CONFIGS(PFX##_tn, T, PREC, true, false)          \
    GEMM_TC_CONFIGS(PFX##_tt, T, PREC, true, true)

GEMM_TC_TRANS(gemm_tf32, float, P_TF32)
GEMM_TC_TRANS(gemm_bf16, float, P_BF16)
GEMM_TC_TRANS(gemm_bf16s, bf16_t, P_BF16S)

// dst_z[r][c] = bf16(src_z[r][c]) (round to nearest even) for r < rows, c < cols: BF16 GEMMs on large fp32
// operands convert them once (then run gemm_bf16s) instead of converting every fragment in every CTA.
// Grid: x over column blocks of blockDim.x, y over rows (strided), z over the batch (strided).
extern "C" __global__ void gemm_f32_to_bf16(const float* src, int rows, int cols, int lds, long long ss,
                                            bf16_t* dst, int ldd, long long ds, int batch) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    for (int z = blockIdx.z; z < batch; z += gridDim.z)
        for (int r = blockIdx.y; r < rows; r += gridDim.y) {
            uint16_t h;
            asm("cvt.rn.bf16.f32 %0, %1;\n" : "=h"(h) : "f"(src[z * ss + (size_t)r * lds + c]));
            dst[z * ds + (size_t)r * ldd + c] = h;
        }
}

// C_z[M,N] += bias (row broadcast): the bias step of CublasGemm.
extern "C" __global__ void gemm_bias_add(float* C, int M, int N, int ldc, long long sC, int batch, const float* bias) {
    const long long total = (long long)M * N;
    for (int z = blockIdx.y; z < batch; z += gridDim.y) {
        float* Cz = C + z * sC;
        for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
            const int row = (int)(i / N), col = (int)(i % N);
            Cz[(size_t)row * ldc + col] += bias[col];
        }
    }
}
