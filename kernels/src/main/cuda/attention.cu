// Multi-head attention with RoPE on patch tokens, FlashAttention-2 style, exact float32 (SIMT FMA),
// with AttentionKernels' semantics (see AttentionKernels.java / AttentionCuda.java for the layouts):
//   q/k/v element (b, t, h, d) at base + b*bStride + t*tStride + h*hStride + d (gq/gk/gv alike);
//   out/gOut [B, N, H*dh] contiguous; lse/D [B*H*N] at (b*H + h)*N + t (lse in natural-log units).
// RoPE (rotate-half; tokens t >= prefix use table row t - prefix) is applied while q/k tiles are
// loaded into shared memory; the backward applies the transpose rotation to dq/dk before writing.
//
// Kernels (DHP = head dim rounded up to 32, 64 or 128; the real dh <= DHP is a runtime argument and
// the padding columns are zeros in shared memory, so dh = 64 / 128 run without waste):
//   attention_fwd_d{32,64,128}       one block per (b*H + h, query tile); online softmax over key tiles
//   attention_bwd_prep               D_i = rowsum(dO ∘ O), one warp per row
//   attention_bwd_dkdv_d{32,64,128}  one block per (b*H + h, key tile), loops over query tiles: dK, dV
//   attention_bwd_dq_d{32,64,128}    one block per (b*H + h, query tile), loops over key tiles: dQ
// The backward recomputes P from lse and uses no atomics: results are deterministic.
//
// Thread layout (all kernels: 128 threads = 4 warps): tx = lane & 7, ty = warp*4 + lane/8 (0..15).
// A thread owns TM consecutive tile rows (ty*TM ..) and the columns {32c + 4tx + e}; the 8 lanes
// sharing a row set are one warp-octet, so row reductions are 3 shuffles and a warp owns 4*TM
// consecutive rows. Every tile product C[TM][4NC] += Σ_k A[k][rows] B[k][cols] reads both operands from
// shared memory "k-major" (rows / cols contiguous) with 16-byte loads. The P (or dS) tile is passed
// between the two products through shared memory, written and read by the same warp (__syncwarp),
// so warps whose rows are all past N skip the arithmetic (they still join loads and barriers).
// Scores are kept in log2 units (q pre-multiplied by scale*log2(e)) and exponentiated with exp2f.
//
// Tile shapes <DHP, TM, NC> (timed against alternatives on an H100 at ViT shapes; the launcher in
// AttentionCuda.java mirrors them): fwd <32|64, 8, 2> (128 queries x 64 keys), <128, 4, 1>;
// dkdv <32|64, 4, 1> (64 keys x 32 queries), <128, 2, 1>; dq <32, 4, 1>, <64, 8, 1> (128 queries x 32 keys),
// <128, 2, 1>. Slower there: fwd <64,4,2>, <128,4,2>; dkdv <64,4,2>; dq <64,4,1>, <64,4,2>.
// H100, fused qkv with RoPE, B=64, Dh=64 (ms; PyTorch 2.11 fp32 SDPA, memory-efficient kernel, in brackets):
//   N=201  H=6/12/16: fwd 0.27/0.51/0.67 (0.22/0.42/0.56), bwd 0.95/1.80/2.37 (0.59/1.13/1.49)
//   N=1029 H=6/12/16: fwd 4.38/8.51/11.3 (3.39/6.70/9.11), bwd 16.2/31.7/42.1 (8.57/17.1/22.6)
#include "common.cuh"

#define ATT_NT 128
static constexpr float ATT_LOG2E = 1.4426950408889634f;
static constexpr float ATT_LN2 = 0.6931471805599453f;

static __device__ __forceinline__ unsigned attDynSmem() {
    unsigned r;
    asm volatile("mov.u32 %0, %%dynamic_smem_size;" : "=r"(r));
    return r;
}

// The launcher computes the same sizes; a mismatch is a programming error, stop loudly.
static __device__ __forceinline__ void attCheckSmem(unsigned need) {
    if (attDynSmem() < need) __trap();
}

static __device__ __forceinline__ bool attAligned(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

static __device__ __forceinline__ float4 attLd4(const float* p, bool vec) {
    if (vec) return *reinterpret_cast<const float4*>(p);
    return make_float4(p[0], p[1], p[2], p[3]);
}

static __device__ __forceinline__ void attSt4(float* p, float4 x, bool vec) {
    if (vec) { *reinterpret_cast<float4*>(p) = x; return; }
    p[0] = x.x; p[1] = x.y; p[2] = x.z; p[3] = x.w;
}

static __device__ __forceinline__ float attGet(const float4& v, int e) {
    return e == 0 ? v.x : e == 1 ? v.y : e == 2 ? v.z : v.w;
}

// ------------------------------------------------------------------------------- tile load / store

// Loads tokens t0 .. t0+ROWS-1 of one (b, h) slice (src points at its t = 0, d = 0) into shared memory:
// TRANS: dst[d*pitch + r] (d-major, for the k-major operands), else dst[r*pitch + d]. Each thread makes
// 4 consecutive d of one row. Rows t >= N and columns d >= dh are zeros. With a table (rsin != null),
// rows t >= prefix are rotated with table row t - prefix:
//   x'[i] = x[i] c[i] - x[i+half] s[i]   (i < half),   x'[i] = x[i] c[i] + x[i-half] s[i]   (i >= half)
// and everything is multiplied by mul. TRANS maps lanes to consecutive rows (conflict-free transposed
// stores); the plain layout maps lanes to consecutive d (coalesced loads).
template <int ROWS, int DHP, bool TRANS>
static __device__ __forceinline__ void attLoadTile(float* __restrict__ dst, int pitch, const float* __restrict__ src,
                                                   int tStride, int t0, int N, int dh,
                                                   const float* __restrict__ rsin, const float* __restrict__ rcos,
                                                   int prefix, float mul, bool vec) {
    constexpr int G = DHP / 4;
    static_assert((ROWS * G) % ATT_NT == 0, "tile must divide among the threads");
#pragma unroll 2
    for (int idx = threadIdx.x; idx < ROWS * G; idx += ATT_NT) {
        int r, g;
        if (TRANS) { r = idx % ROWS; g = idx / ROWS; } else { g = idx % G; r = idx / G; }
        const int t = t0 + r, d = 4 * g;
        float4 x = make_float4(0.f, 0.f, 0.f, 0.f);
        if (t < N && d < dh) {
            const float* row = src + (long long)t * tStride;
            x = attLd4(row + d, vec);
            if (rsin != nullptr && t >= prefix) {
                const long long tr = (long long)(t - prefix) * dh + d;
                const float4 c = attLd4(rcos + tr, vec), s = attLd4(rsin + tr, vec);
                const int half = dh >> 1;
                float4 p;   // the rotation partners x[d+e ± half]
                if ((half & 3) == 0) {
                    p = attLd4(row + (d < half ? d + half : d - half), vec);
                } else {
                    p.x = row[d + 0 < half ? d + 0 + half : d + 0 - half];
                    p.y = row[d + 1 < half ? d + 1 + half : d + 1 - half];
                    p.z = row[d + 2 < half ? d + 2 + half : d + 2 - half];
                    p.w = row[d + 3 < half ? d + 3 + half : d + 3 - half];
                }
                x.x = x.x * c.x + (d + 0 < half ? -p.x : p.x) * s.x;
                x.y = x.y * c.y + (d + 1 < half ? -p.y : p.y) * s.y;
                x.z = x.z * c.z + (d + 2 < half ? -p.z : p.z) * s.z;
                x.w = x.w * c.w + (d + 3 < half ? -p.w : p.w) * s.w;
            }
            x.x *= mul; x.y *= mul; x.z *= mul; x.w *= mul;
        }
        if (TRANS) {
            dst[(d + 0) * pitch + r] = x.x;
            dst[(d + 1) * pitch + r] = x.y;
            dst[(d + 2) * pitch + r] = x.z;
            dst[(d + 3) * pitch + r] = x.w;
        } else {
            *reinterpret_cast<float4*>(dst + r * pitch + d) = x;
        }
    }
}

// Writes rows t0 .. of a gradient tile G[r*DHP + d] (shared) to dst (the slice's t = 0, d = 0), rows
// t < N and d < dh only; with a table, rows t >= prefix get the transpose rotation
//   g'[i] = g[i] c[i] + g[i+half] s[i+half]   (i < half),   g'[i] = g[i] c[i] - g[i-half] s[i-half]   (i >= half).
template <int ROWS, int DHP>
static __device__ __forceinline__ void attStoreTile(float* __restrict__ dst, int tStride, int t0, int N, int dh,
                                                    const float* __restrict__ G,
                                                    const float* __restrict__ rsin, const float* __restrict__ rcos,
                                                    int prefix, bool vec) {
    constexpr int G4 = DHP / 4;
    for (int idx = threadIdx.x; idx < ROWS * G4; idx += ATT_NT) {
        const int g = idx % G4, r = idx / G4, t = t0 + r, d = 4 * g;
        if (t >= N || d >= dh) continue;
        const float* gr = G + r * DHP;
        float4 x = *reinterpret_cast<const float4*>(gr + d);
        if (rsin != nullptr && t >= prefix) {
            const float* c = rcos + (long long)(t - prefix) * dh;
            const float* s = rsin + (long long)(t - prefix) * dh;
            const int half = dh >> 1;
            float y[4];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int i = d + e;
                const float xi = attGet(x, e);
                y[e] = i < half ? xi * c[i] + gr[i + half] * s[i + half]
                                : xi * c[i] - gr[i - half] * s[i - half];
            }
            x = make_float4(y[0], y[1], y[2], y[3]);
        }
        attSt4(dst + (long long)t * tStride + d, x, vec);
    }
}

// ------------------------------------------------------------------------------- tile product

template <int TM>
static __device__ __forceinline__ void attLdRows(float (&a)[TM], const float* p) {
    if constexpr (TM == 2) {
        const float2 v = *reinterpret_cast<const float2*>(p);
        a[0] = v.x; a[1] = v.y;
    } else {
#pragma unroll
        for (int i = 0; i < TM; i += 4) {
            const float4 v = *reinterpret_cast<const float4*>(p + i);
            a[i] = v.x; a[i + 1] = v.y; a[i + 2] = v.z; a[i + 3] = v.w;
        }
    }
}

// acc[r][4c+e] += Σ_{k<K} A[k*lda + r] · B[k*ldb + 32c + e]   (A, B already offset to the thread's rows / cols)
template <int TM, int NC>
static __device__ __forceinline__ void attMma(float (&acc)[TM][4 * NC], const float* __restrict__ A, int lda,
                                              const float* __restrict__ B, int ldb, int K) {
#pragma unroll 4
    for (int k = 0; k < K; k++) {
        float a[TM], b[4 * NC];
        attLdRows<TM>(a, A + k * lda);
#pragma unroll
        for (int c = 0; c < NC; c++) {
            const float4 v = *reinterpret_cast<const float4*>(B + k * ldb + 32 * c);
            b[4 * c] = v.x; b[4 * c + 1] = v.y; b[4 * c + 2] = v.z; b[4 * c + 3] = v.w;
        }
#pragma unroll
        for (int r = 0; r < TM; r++)
#pragma unroll
            for (int n = 0; n < 4 * NC; n++) acc[r][n] = fmaf(a[r], b[n], acc[r][n]);
    }
}

// Stores the thread's tile x[TM][4NC] transposed: dst[(32c + 4tx + e)*pitch + r] (rows contiguous).
template <int TM, int NC>
static __device__ __forceinline__ void attStoreT(float* dst, int pitch, const float (&x)[TM][4 * NC]) {
#pragma unroll
    for (int c = 0; c < NC; c++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            float* p = dst + (32 * c + e) * pitch;
            if constexpr (TM == 2) {
                *reinterpret_cast<float2*>(p) = make_float2(x[0][4 * c + e], x[1][4 * c + e]);
            } else {
#pragma unroll
                for (int r = 0; r < TM; r += 4)
                    *reinterpret_cast<float4*>(p + r) =
                        make_float4(x[r][4 * c + e], x[r + 1][4 * c + e], x[r + 2][4 * c + e], x[r + 3][4 * c + e]);
            }
        }
}

// Stores the thread's tile x[TM][4NC] (times mul) row-major: dst[r*pitch + 32c + e].
template <int TM, int NC>
static __device__ __forceinline__ void attStoreRows(float* dst, int pitch, const float (&x)[TM][4 * NC], float mul) {
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int c = 0; c < NC; c++)
            *reinterpret_cast<float4*>(dst + r * pitch + 32 * c) =
                make_float4(x[r][4 * c] * mul, x[r][4 * c + 1] * mul, x[r][4 * c + 2] * mul, x[r][4 * c + 3] * mul);
}

template <int TM, int NC>
static __device__ __forceinline__ void attZero(float (&x)[TM][4 * NC]) {
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int n = 0; n < 4 * NC; n++) x[r][n] = 0.f;
}

// ------------------------------------------------------------------------------- forward

// Tiles: BQ = 16*TM query rows per block, BK = 32*NCS keys per step. Shared memory (floats):
// Qt [DHP][BQ] (rotated, times scale*log2e), Kt [DHP][BK] (rotated), Vs [BK][DHP], Pt [BK][BQ+4].
template <int DHP, int TM, int NCS>
struct AttFwdCfg {
    static constexpr int BQ = 16 * TM, BK = 32 * NCS, NCO = DHP / 32, PP = BQ + 4;
    static constexpr int SMEM_FLOATS = DHP * BQ + DHP * BK + BK * DHP + BK * PP;
};

template <int DHP, int TM, int NCS>
static __device__ __forceinline__ void attFwd(const float* __restrict__ q, const float* __restrict__ k,
                                              const float* __restrict__ v, const float* __restrict__ rsin,
                                              const float* __restrict__ rcos, float* __restrict__ out,
                                              float* __restrict__ lse, int H, int N, int dh, int bStride, int tStride,
                                              int hStride, int prefix, float scale2, int nqb) {
    using C = AttFwdCfg<DHP, TM, NCS>;
    constexpr int BQ = C::BQ, BK = C::BK, NCO = C::NCO, PP = C::PP;
    attCheckSmem(C::SMEM_FLOATS * 4);
    extern __shared__ float4 attSmem4[];
    float* Qt = reinterpret_cast<float*>(attSmem4);
    float* Kt = Qt + DHP * BQ;
    float* Vs = Kt + DHP * BK;
    float* Pt = Vs + BK * DHP;

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int tx = lane & 7, ty = warp * 4 + (lane >> 3);
    const int bh = blockIdx.x / nqb, q0 = (blockIdx.x - bh * nqb) * BQ;
    const int b = bh / H, h = bh - b * H;
    const long long base = (long long)b * bStride + (long long)h * hStride;
    const bool vec = attAligned(q) && attAligned(k) && attAligned(v) && ((bStride | tStride | hStride) & 3) == 0 &&
                     (rsin == nullptr || (attAligned(rsin) && attAligned(rcos)));

    attLoadTile<BQ, DHP, true>(Qt, BQ, q + base, tStride, q0, N, dh, rsin, rcos, prefix, scale2, vec);

    const bool active = q0 + warp * 4 * TM < N;   // warp-uniform: does this warp own any real row?
    float o[TM][4 * NCO], m[TM], l[TM];
    attZero<TM, NCO>(o);
#pragma unroll
    for (int r = 0; r < TM; r++) { m[r] = -INFINITY; l[r] = 0.f; }

    for (int k0 = 0; k0 < N; k0 += BK) {
        const int nk = min(BK, N - k0);
        __syncthreads();   // previous tile's Kt / Vs / Pt reads are done
        attLoadTile<BK, DHP, true>(Kt, BK, k + base, tStride, k0, N, dh, rsin, rcos, prefix, 1.f, vec);
        attLoadTile<BK, DHP, false>(Vs, DHP, v + base, tStride, k0, N, dh, nullptr, nullptr, 0, 1.f, vec);
        __syncthreads();
        if (!active) continue;

        float s[TM][4 * NCS];
        attZero<TM, NCS>(s);
        attMma<TM, NCS>(s, Qt + ty * TM, BQ, Kt + 4 * tx, BK, DHP);
#pragma unroll
        for (int r = 0; r < TM; r++) {
            float mx = -INFINITY;
#pragma unroll
            for (int n = 0; n < 4 * NCS; n++) {
                if (32 * (n >> 2) + 4 * tx + (n & 3) >= nk) s[r][n] = -INFINITY;   // keys past N
                mx = fmaxf(mx, s[r][n]);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
            const float mNew = fmaxf(m[r], mx);   // finite: every tile holds >= 1 real key
            const float alpha = exp2f(m[r] - mNew);
            m[r] = mNew;
            float sum = 0.f;
#pragma unroll
            for (int n = 0; n < 4 * NCS; n++) { s[r][n] = exp2f(s[r][n] - mNew); sum += s[r][n]; }
            l[r] = l[r] * alpha + sum;   // per-thread partial row sum (same alpha on all 8 lanes)
#pragma unroll
            for (int n = 0; n < 4 * NCO; n++) o[r][n] *= alpha;
        }
        attStoreT<TM, NCS>(Pt + 4 * tx * PP + ty * TM, PP, s);
        __syncwarp();
        attMma<TM, NCO>(o, Pt + ty * TM, PP, Vs + 4 * tx, DHP, nk);
    }

    if (!active) return;
    const int D = H * dh;
    const bool ovec = attAligned(out);
#pragma unroll
    for (int r = 0; r < TM; r++) {
        float lsum = l[r];
        lsum += __shfl_xor_sync(0xffffffffu, lsum, 1);
        lsum += __shfl_xor_sync(0xffffffffu, lsum, 2);
        lsum += __shfl_xor_sync(0xffffffffu, lsum, 4);
        const int t = q0 + ty * TM + r;
        if (t >= N) continue;
        const float inv = 1.f / lsum;
        float* orow = out + ((long long)b * N + t) * D + (long long)h * dh;
#pragma unroll
        for (int c = 0; c < NCO; c++) {
            const int d = 32 * c + 4 * tx;
            if (d < dh)
                attSt4(orow + d, make_float4(o[r][4 * c] * inv, o[r][4 * c + 1] * inv, o[r][4 * c + 2] * inv,
                                             o[r][4 * c + 3] * inv), ovec);
        }
        if (lse != nullptr && tx == 0) lse[(long long)bh * N + t] = (m[r] + log2f(lsum)) * ATT_LN2;
    }
}

#define ATT_FWD_PARAMS                                                                                        \
    const float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,                    \
        const float *__restrict__ rsin, const float *__restrict__ rcos, float *__restrict__ out,              \
        float *__restrict__ lse, int H, int N, int dh, int bStride, int tStride, int hStride, int prefix,      \
        float scale2, int nqb
#define ATT_FWD_ARGS q, k, v, rsin, rcos, out, lse, H, N, dh, bStride, tStride, hStride, prefix, scale2, nqb

extern "C" __global__ void __launch_bounds__(ATT_NT, 2) attention_fwd_d32(ATT_FWD_PARAMS) {
    attFwd<32, 8, 2>(ATT_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(ATT_NT, 2) attention_fwd_d64(ATT_FWD_PARAMS) {
    attFwd<64, 8, 2>(ATT_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(ATT_NT, 3) attention_fwd_d128(ATT_FWD_PARAMS) {
    attFwd<128, 4, 1>(ATT_FWD_ARGS);
}

// ------------------------------------------------------------------------------- backward: D = rowsum(dO ∘ O)

// One warp per row (b*H + h)*N + t; Dd has B*H*N entries.
extern "C" __global__ void attention_bwd_prep(const float* __restrict__ out, const float* __restrict__ gOut,
                                              float* __restrict__ Dd, int H, int N, int dh, int rows) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;   // whole warp leaves together
    const int bh = row / N, t = row - bh * N, b = bh / H, h = bh - b * H;
    const long long off = ((long long)b * N + t) * ((long long)H * dh) + (long long)h * dh;
    float acc = 0.f;
    for (int d = lane; d < dh; d += 32) acc = fmaf(gOut[off + d], out[off + d], acc);
    acc = warpSum(acc);
    if (lane == 0) Dd[row] = acc;
}

// ------------------------------------------------------------------------------- backward: dK, dV

// One block per (b*H + h, key tile of BK = 16*TM keys); loops over query tiles of BQ = 32*NCQ rows:
//   Sᵀ = K Q'ᵀ (Q' = Q·scale·log2e), Pᵀ = exp2(Sᵀ − lse·log2e), dV += Pᵀ dO,
//   dPᵀ = V dOᵀ, dSᵀ = Pᵀ ∘ (dPᵀ − D), dK += dSᵀ Q;  finally dK *= scale, rotated back.
// Shared memory (floats): Kt, Vt [DHP][BK]; Qt, dOt [DHP][BQ]; Qs, dOs [BQ][DHP]; Ps [BQ][BK+4].
template <int DHP, int TM, int NCQ>
struct AttDkdvCfg {
    static constexpr int BK = 16 * TM, BQ = 32 * NCQ, NCO = DHP / 32, PP = BK + 4;
    static constexpr int SMEM_FLOATS = 2 * DHP * BK + 4 * DHP * BQ + BQ * PP;
};

template <int DHP, int TM, int NCQ>
static __device__ __forceinline__ void attDkdv(const float* __restrict__ q, const float* __restrict__ k,
                                               const float* __restrict__ v, const float* __restrict__ rsin,
                                               const float* __restrict__ rcos, const float* __restrict__ gOut,
                                               const float* __restrict__ lse, const float* __restrict__ Dd,
                                               float* __restrict__ gk, float* __restrict__ gv, int H, int N, int dh,
                                               int bStride, int tStride, int hStride, int prefix, float scale,
                                               float scale2, int nkb) {
    using C = AttDkdvCfg<DHP, TM, NCQ>;
    constexpr int BK = C::BK, BQ = C::BQ, NCO = C::NCO, PP = C::PP;
    attCheckSmem(C::SMEM_FLOATS * 4);
    extern __shared__ float4 attSmem4[];
    float* Kt = reinterpret_cast<float*>(attSmem4);
    float* Vt = Kt + DHP * BK;
    float* Qt = Vt + DHP * BK;
    float* dOt = Qt + DHP * BQ;
    float* Qs = dOt + DHP * BQ;
    float* dOs = Qs + BQ * DHP;
    float* Ps = dOs + BQ * DHP;

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int tx = lane & 7, ty = warp * 4 + (lane >> 3);
    const int bh = blockIdx.x / nkb, k0 = (blockIdx.x - bh * nkb) * BK;
    const int b = bh / H, h = bh - b * H;
    const int D = H * dh;
    const long long base = (long long)b * bStride + (long long)h * hStride;
    const float* go = gOut + (long long)b * N * D + (long long)h * dh;
    const bool vec = attAligned(q) && attAligned(k) && attAligned(v) && ((bStride | tStride | hStride) & 3) == 0 &&
                     (rsin == nullptr || (attAligned(rsin) && attAligned(rcos)));
    const bool govec = attAligned(gOut);

    attLoadTile<BK, DHP, true>(Kt, BK, k + base, tStride, k0, N, dh, rsin, rcos, prefix, 1.f, vec);
    attLoadTile<BK, DHP, true>(Vt, BK, v + base, tStride, k0, N, dh, nullptr, nullptr, 0, 1.f, vec);

    const bool active = k0 + warp * 4 * TM < N;
    float dK[TM][4 * NCO], dV[TM][4 * NCO];
    attZero<TM, NCO>(dK);
    attZero<TM, NCO>(dV);

    for (int q0 = 0; q0 < N; q0 += BQ) {
        const int nq = min(BQ, N - q0);
        __syncthreads();   // previous query tile fully consumed
        attLoadTile<BQ, DHP, true>(Qt, BQ, q + base, tStride, q0, N, dh, rsin, rcos, prefix, scale2, vec);
        attLoadTile<BQ, DHP, false>(Qs, DHP, q + base, tStride, q0, N, dh, rsin, rcos, prefix, 1.f, vec);
        attLoadTile<BQ, DHP, true>(dOt, BQ, go, D, q0, N, dh, nullptr, nullptr, 0, 1.f, govec);
        attLoadTile<BQ, DHP, false>(dOs, DHP, go, D, q0, N, dh, nullptr, nullptr, 0, 1.f, govec);
        __syncthreads();
        if (!active) continue;

        float l2[4 * NCQ], di[4 * NCQ];   // per query column; rows past N: P = exp2(s - inf) = 0, dS = 0
#pragma unroll
        for (int n = 0; n < 4 * NCQ; n++) {
            const int t = q0 + 32 * (n >> 2) + 4 * tx + (n & 3);
            l2[n] = t < N ? lse[(long long)bh * N + t] * ATT_LOG2E : INFINITY;
            di[n] = t < N ? Dd[(long long)bh * N + t] : 0.f;
        }
        float p[TM][4 * NCQ], dp[TM][4 * NCQ];
        attZero<TM, NCQ>(p);
        attMma<TM, NCQ>(p, Kt + ty * TM, BK, Qt + 4 * tx, BQ, DHP);
#pragma unroll
        for (int n = 0; n < 4 * NCQ; n++)
#pragma unroll
            for (int r = 0; r < TM; r++) p[r][n] = exp2f(p[r][n] - l2[n]);
        attStoreT<TM, NCQ>(Ps + 4 * tx * PP + ty * TM, PP, p);
        __syncwarp();
        attMma<TM, NCO>(dV, Ps + ty * TM, PP, dOs + 4 * tx, DHP, nq);
        attZero<TM, NCQ>(dp);
        attMma<TM, NCQ>(dp, Vt + ty * TM, BK, dOt + 4 * tx, BQ, DHP);
#pragma unroll
        for (int n = 0; n < 4 * NCQ; n++)
#pragma unroll
            for (int r = 0; r < TM; r++) p[r][n] = p[r][n] * (dp[r][n] - di[n]);
        __syncwarp();   // every lane is done reading P
        attStoreT<TM, NCQ>(Ps + 4 * tx * PP + ty * TM, PP, p);
        __syncwarp();
        attMma<TM, NCO>(dK, Ps + ty * TM, PP, Qs + 4 * tx, DHP, nq);
    }

    // Kt / Vt are free now: stage dK (scaled) and dV row-major there, then write with coalesced stores.
    __syncthreads();
    if (active) {
        attStoreRows<TM, NCO>(Kt + ty * TM * DHP + 4 * tx, DHP, dK, scale);
        attStoreRows<TM, NCO>(Vt + ty * TM * DHP + 4 * tx, DHP, dV, 1.f);
    }
    __syncthreads();
    const bool ovec = attAligned(gk) && attAligned(gv) && ((bStride | tStride | hStride) & 3) == 0;
    attStoreTile<BK, DHP>(gk + base, tStride, k0, N, dh, Kt, rsin, rcos, prefix, ovec);
    attStoreTile<BK, DHP>(gv + base, tStride, k0, N, dh, Vt, nullptr, nullptr, 0, ovec);
}

#define ATT_DKDV_PARAMS                                                                                       \
    const float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,                    \
        const float *__restrict__ rsin, const float *__restrict__ rcos, const float *__restrict__ gOut,       \
        const float *__restrict__ lse, const float *__restrict__ Dd, float *__restrict__ gk,                  \
        float *__restrict__ gv, int H, int N, int dh, int bStride, int tStride, int hStride, int prefix,       \
        float scale, float scale2, int nkb
#define ATT_DKDV_ARGS \
    q, k, v, rsin, rcos, gOut, lse, Dd, gk, gv, H, N, dh, bStride, tStride, hStride, prefix, scale, scale2, nkb

extern "C" __global__ void __launch_bounds__(ATT_NT, 3) attention_bwd_dkdv_d32(ATT_DKDV_PARAMS) {
    attDkdv<32, 4, 1>(ATT_DKDV_ARGS);
}
extern "C" __global__ void __launch_bounds__(ATT_NT, 3) attention_bwd_dkdv_d64(ATT_DKDV_PARAMS) {
    attDkdv<64, 4, 1>(ATT_DKDV_ARGS);
}
extern "C" __global__ void __launch_bounds__(ATT_NT, 2) attention_bwd_dkdv_d128(ATT_DKDV_PARAMS) {
    attDkdv<128, 2, 1>(ATT_DKDV_ARGS);
}

// ------------------------------------------------------------------------------- backward: dQ

// One block per (b*H + h, query tile of BQ = 16*TM rows); loops over key tiles of BK = 32*NCK keys:
//   S = Q' Kᵀ, P = exp2(S − lse·log2e), dP = dO Vᵀ, dS = P ∘ (dP − D), dQ += dS K;  dQ *= scale, rotated back.
// Shared memory (floats): Qt, dOt [DHP][BQ]; Kt, Vt [DHP][BK]; Ks [BK][DHP]; DSt [BK][BQ+4].
template <int DHP, int TM, int NCK>
struct AttDqCfg {
    static constexpr int BQ = 16 * TM, BK = 32 * NCK, NCO = DHP / 32, PP = BQ + 4;
    static constexpr int SMEM_FLOATS = 2 * DHP * BQ + 3 * DHP * BK + BK * PP;
};

template <int DHP, int TM, int NCK>
static __device__ __forceinline__ void attDq(const float* __restrict__ q, const float* __restrict__ k,
                                             const float* __restrict__ v, const float* __restrict__ rsin,
                                             const float* __restrict__ rcos, const float* __restrict__ gOut,
                                             const float* __restrict__ lse, const float* __restrict__ Dd,
                                             float* __restrict__ gq, int H, int N, int dh, int bStride, int tStride,
                                             int hStride, int prefix, float scale, float scale2, int nqb) {
    using C = AttDqCfg<DHP, TM, NCK>;
    constexpr int BQ = C::BQ, BK = C::BK, NCO = C::NCO, PP = C::PP;
    attCheckSmem(C::SMEM_FLOATS * 4);
    extern __shared__ float4 attSmem4[];
    float* Qt = reinterpret_cast<float*>(attSmem4);
    float* dOt = Qt + DHP * BQ;
    float* Kt = dOt + DHP * BQ;
    float* Vt = Kt + DHP * BK;
    float* Ks = Vt + DHP * BK;
    float* DSt = Ks + BK * DHP;

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int tx = lane & 7, ty = warp * 4 + (lane >> 3);
    const int bh = blockIdx.x / nqb, q0 = (blockIdx.x - bh * nqb) * BQ;
    const int b = bh / H, h = bh - b * H;
    const int D = H * dh;
    const long long base = (long long)b * bStride + (long long)h * hStride;
    const float* go = gOut + (long long)b * N * D + (long long)h * dh;
    const bool vec = attAligned(q) && attAligned(k) && attAligned(v) && ((bStride | tStride | hStride) & 3) == 0 &&
                     (rsin == nullptr || (attAligned(rsin) && attAligned(rcos)));

    attLoadTile<BQ, DHP, true>(Qt, BQ, q + base, tStride, q0, N, dh, rsin, rcos, prefix, scale2, vec);
    attLoadTile<BQ, DHP, true>(dOt, BQ, go, D, q0, N, dh, nullptr, nullptr, 0, 1.f, attAligned(gOut));

    const bool active = q0 + warp * 4 * TM < N;
    float l2[TM], di[TM];
#pragma unroll
    for (int r = 0; r < TM; r++) {
        const int t = q0 + ty * TM + r;
        l2[r] = t < N ? lse[(long long)bh * N + t] * ATT_LOG2E : INFINITY;
        di[r] = t < N ? Dd[(long long)bh * N + t] : 0.f;
    }
    float dq[TM][4 * NCO];
    attZero<TM, NCO>(dq);

    for (int k0 = 0; k0 < N; k0 += BK) {
        const int nk = min(BK, N - k0);
        __syncthreads();
        attLoadTile<BK, DHP, true>(Kt, BK, k + base, tStride, k0, N, dh, rsin, rcos, prefix, 1.f, vec);
        attLoadTile<BK, DHP, false>(Ks, DHP, k + base, tStride, k0, N, dh, rsin, rcos, prefix, 1.f, vec);
        attLoadTile<BK, DHP, true>(Vt, BK, v + base, tStride, k0, N, dh, nullptr, nullptr, 0, 1.f, vec);
        __syncthreads();
        if (!active) continue;

        float p[TM][4 * NCK], dp[TM][4 * NCK];
        attZero<TM, NCK>(p);
        attMma<TM, NCK>(p, Qt + ty * TM, BQ, Kt + 4 * tx, BK, DHP);
        attZero<TM, NCK>(dp);
        attMma<TM, NCK>(dp, dOt + ty * TM, BQ, Vt + 4 * tx, BK, DHP);
#pragma unroll
        for (int n = 0; n < 4 * NCK; n++) {
            const bool ok = 32 * (n >> 2) + 4 * tx + (n & 3) < nk;   // keys past N have zero rows: mask P
#pragma unroll
            for (int r = 0; r < TM; r++) p[r][n] = ok ? exp2f(p[r][n] - l2[r]) * (dp[r][n] - di[r]) : 0.f;
        }
        attStoreT<TM, NCK>(DSt + 4 * tx * PP + ty * TM, PP, p);
        __syncwarp();
        attMma<TM, NCO>(dq, DSt + ty * TM, PP, Ks + 4 * tx, DHP, nk);
    }

    // Qt is free now: stage dQ (scaled) row-major there, then write with coalesced stores.
    __syncthreads();
    if (active) attStoreRows<TM, NCO>(Qt + ty * TM * DHP + 4 * tx, DHP, dq, scale);
    __syncthreads();
    const bool ovec = attAligned(gq) && ((bStride | tStride | hStride) & 3) == 0;
    attStoreTile<BQ, DHP>(gq + base, tStride, q0, N, dh, Qt, rsin, rcos, prefix, ovec);
}

#define ATT_DQ_PARAMS                                                                                         \
    const float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,                    \
        const float *__restrict__ rsin, const float *__restrict__ rcos, const float *__restrict__ gOut,       \
        const float *__restrict__ lse, const float *__restrict__ Dd, float *__restrict__ gq, int H, int N,     \
        int dh, int bStride, int tStride, int hStride, int prefix, float scale, float scale2, int nqb
#define ATT_DQ_ARGS q, k, v, rsin, rcos, gOut, lse, Dd, gq, H, N, dh, bStride, tStride, hStride, prefix, scale, scale2, nqb

extern "C" __global__ void __launch_bounds__(ATT_NT, 3) attention_bwd_dq_d32(ATT_DQ_PARAMS) {
    attDq<32, 4, 1>(ATT_DQ_ARGS);
}
extern "C" __global__ void __launch_bounds__(ATT_NT, 2) attention_bwd_dq_d64(ATT_DQ_PARAMS) {
    attDq<64, 8, 1>(ATT_DQ_ARGS);
}
extern "C" __global__ void __launch_bounds__(ATT_NT, 2) attention_bwd_dq_d128(ATT_DQ_PARAMS) {
    attDq<128, 2, 1>(ATT_DQ_ARGS);
}
