// Reduction family: sum / mean / max over the middle axis of a contiguous [outer, len, inner] tensor,
// argmax (int64 indices, first maximum wins, NaN counts as the maximum), and whole-array Σx / Σx².
//
// Deterministic: every sum is taken in an order fixed by the sizes alone (per-thread strided runs, then
// fixed shuffle / shared-memory trees, then split partials in split order) — no atomics. Sums accumulate
// in double per thread (float loads, double adds: cheap on sm_80/sm_90 and bandwidth-bound anyway), so
// long axes stay accurate; max runs in float with Math.max semantics (NaN propagates, +0 > -0).
//
// Paths (the launcher picks): inner == 1 → one warp per row (len ≤ 1024) or blocks per row, split along
// len when there are few rows; inner > 1 → 32 columns × 8 row-lanes per block (coalesced along inner),
// split along len when there are few column tiles. Splits write partials that reduce_finish_* combines.
#include "common.cuh"
#include <type_traits>

enum { K_SUM, K_MEAN, K_MAX };

// Accumulator type of a kind: double for sums, float for max.
template <int K> using Acc = std::conditional_t<K == K_MAX, float, double>;


// aligned16 and jmax live in common.cuh.

template <int K> static __device__ __forceinline__ Acc<K> identity() {
    if constexpr (K == K_MAX) return -INFINITY;
    else return 0.0;
}
template <int K> static __device__ __forceinline__ Acc<K> combine(Acc<K> a, Acc<K> b) {
    if constexpr (K == K_MAX) return jmax(a, b);
    else return a + b;
}
template <int K> static __device__ __forceinline__ float finish(Acc<K> v, int len) {
    if constexpr (K == K_MEAN) return (float)(v / (double)len);   // len == 0 → NaN, as the CPU
    else return (float)v;
}
template <int K> static __device__ __forceinline__ Acc<K> add4(Acc<K> acc, float4 v) {
    acc = combine<K>(acc, (Acc<K>)v.x);
    acc = combine<K>(acc, (Acc<K>)v.y);
    acc = combine<K>(acc, (Acc<K>)v.z);
    return combine<K>(acc, (Acc<K>)v.w);
}

// Butterfly: every lane ends with the same value, combined in the same fixed order.
template <int K> static __device__ __forceinline__ Acc<K> warpReduce(Acc<K> v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = combine<K>(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide for blockDim.x a multiple of 32; every thread gets the result. scratch: 32 accumulators of
// shared memory; ends with a barrier so scratch can be reused. Call from uniform control flow only.
template <int K> static __device__ __forceinline__ Acc<K> blockReduce(Acc<K> v, Acc<K>* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warpReduce<K>(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    Acc<K> t = lane < nw ? scratch[lane] : identity<K>();
    t = warpReduce<K>(t);
    __syncthreads();
    return t;
}

// ---------------------------------------------------------------------------------- rows (inner == 1)

// One warp per row (8 rows per 256-thread block); lanes stride the row (float4 when len % 4 == 0 and x is
// 16-byte aligned).
template <int K>
static __device__ __forceinline__ void rowsWarp(int outer, int len, const float* __restrict__ x, float* __restrict__ out) {
    const int lane = threadIdx.x & 31, wpb = blockDim.x >> 5;
    const bool vec = (len & 3) == 0 && aligned16(x);
    for (long long row = (long long)blockIdx.x * wpb + (threadIdx.x >> 5); row < outer; row += (long long)gridDim.x * wpb) {
        const float* xr = x + row * len;
        Acc<K> acc = identity<K>();
        if (vec) {
            const float4* x4 = reinterpret_cast<const float4*>(xr);
            for (int j = lane; j < (len >> 2); j += 32) acc = add4<K>(acc, x4[j]);
        } else {
            for (int j = lane; j < len; j += 32) acc = combine<K>(acc, (Acc<K>)xr[j]);
        }
        acc = warpReduce<K>(acc);
        if (lane == 0) out[row] = finish<K>(acc, len);
    }
}

// A block per (row, split): split s covers [s·chunk, min(len, (s+1)·chunk)) (chunk % 4 == 0). With one
// split it writes the result, else the raw partial to partial[s·outer + row].
template <int K>
static __device__ __forceinline__ void rowsBlock(int outer, int len, int splits, int chunk, const float* __restrict__ x,
                                                 float* __restrict__ out, Acc<K>* __restrict__ partial) {
    __shared__ Acc<K> scratch[32];
    const bool vec = (len & 3) == 0 && aligned16(x);
    const int s = blockIdx.y;
    const int a0 = s * chunk, a1 = min(len, a0 + chunk);
    for (long long row = blockIdx.x; row < outer; row += gridDim.x) {     // uniform over the block
        const float* xr = x + row * len;
        Acc<K> acc = identity<K>();
        if (vec) {
            const float4* x4 = reinterpret_cast<const float4*>(xr);
            for (int j = (a0 >> 2) + threadIdx.x; j < (a1 >> 2); j += blockDim.x) acc = add4<K>(acc, x4[j]);
        } else {
            for (int j = a0 + threadIdx.x; j < a1; j += blockDim.x) acc = combine<K>(acc, (Acc<K>)xr[j]);
        }
        acc = blockReduce<K>(acc, scratch);
        if (threadIdx.x == 0) {
            if (splits == 1) out[row] = finish<K>(acc, len);
            else partial[(long long)s * outer + row] = acc;
        }
    }
}

// ---------------------------------------------------------------------------------- columns (inner > 1)

// Block 32×8: threadIdx.x picks a column of a 32-wide tile (coalesced loads), threadIdx.y strides the
// reduced axis within split blockIdx.y; the 8 row-lanes then meet in a fixed shared-memory tree.
// blockIdx.x = o·tilesC + tile.
template <int K>
static __device__ __forceinline__ void cols(int outer, int len, int inner, int tilesC, int splits, int chunk,
                                            const float* __restrict__ x, float* __restrict__ out, Acc<K>* __restrict__ partial) {
    __shared__ Acc<K> red[8][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int o = blockIdx.x / tilesC, col = (blockIdx.x - o * tilesC) * 32 + tx;
    const int s = blockIdx.y;
    const int a0 = s * chunk, a1 = min(len, a0 + chunk);
    Acc<K> acc = identity<K>();
    if (col < inner) {
        const float* xc = x + (long long)o * len * inner + col;
        int a = a0 + ty;
        // four independent loads in flight per thread, added in the same order as the plain loop below
        for (; a + 24 < a1; a += 32) {
            const float v0 = xc[(long long)a * inner], v1 = xc[(long long)(a + 8) * inner];
            const float v2 = xc[(long long)(a + 16) * inner], v3 = xc[(long long)(a + 24) * inner];
            acc = combine<K>(acc, (Acc<K>)v0);
            acc = combine<K>(acc, (Acc<K>)v1);
            acc = combine<K>(acc, (Acc<K>)v2);
            acc = combine<K>(acc, (Acc<K>)v3);
        }
        for (; a < a1; a += 8) acc = combine<K>(acc, (Acc<K>)xc[(long long)a * inner]);
    }
    red[ty][tx] = acc;
    __syncthreads();
#pragma unroll
    for (int h = 4; h > 0; h >>= 1) {
        if (ty < h) red[ty][tx] = combine<K>(red[ty][tx], red[ty + h][tx]);
        __syncthreads();
    }
    if (ty == 0 && col < inner) {
        const long long i = (long long)o * inner + col;
        if (splits == 1) out[i] = finish<K>(red[0][tx], len);
        else partial[(long long)s * outer * inner + i] = red[0][tx];
    }
}

// out[i] = finish(partial[0·m + i] ∘ partial[1·m + i] ∘ … ∘ partial[(splits-1)·m + i]), in split order.
template <int K>
static __device__ __forceinline__ void finishSplits(long long m, int splits, int len, const Acc<K>* __restrict__ partial,
                                                    float* __restrict__ out) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < m; i += (long long)gridDim.x * blockDim.x) {
        Acc<K> v = partial[i];
        for (int s = 1; s < splits; s++) v = combine<K>(v, partial[(long long)s * m + i]);
        out[i] = finish<K>(v, len);
    }
}

#define REDUCE_KERNELS(NAME, K)                                                                                      \
    extern "C" __global__ void reduce_rows_warp_##NAME(int outer, int len, const float* __restrict__ x,              \
                                                       float* __restrict__ out) {                                    \
        rowsWarp<K>(outer, len, x, out);                                                                             \
    }                                                                                                                \
    extern "C" __global__ void reduce_rows_block_##NAME(int outer, int len, int splits, int chunk,                   \
                                                        const float* __restrict__ x, float* __restrict__ out,        \
                                                        Acc<K>* __restrict__ partial) {                              \
        rowsBlock<K>(outer, len, splits, chunk, x, out, partial);                                                    \
    }                                                                                                                \
    extern "C" __global__ void reduce_cols_##NAME(int outer, int len, int inner, int tilesC, int splits, int chunk,  \
                                                  const float* __restrict__ x, float* __restrict__ out,              \
                                                  Acc<K>* __restrict__ partial) {                                    \
        cols<K>(outer, len, inner, tilesC, splits, chunk, x, out, partial);                                          \
    }                                                                                                                \
    extern "C" __global__ void reduce_finish_##NAME(long long m, int splits, int len,                                \
                                                    const Acc<K>* __restrict__ partial, float* __restrict__ out) {   \
        finishSplits<K>(m, splits, len, partial, out);                                                               \
    }

REDUCE_KERNELS(sum, K_SUM)
REDUCE_KERNELS(mean, K_MEAN)
REDUCE_KERNELS(max, K_MAX)

// ---------------------------------------------------------------------------------- argmax

// (value, index) order: a NaN beats any number, then the larger value, then the smaller index. A total
// order, so any combining tree gives the CPU's answer (the first maximum; the first NaN if any).
static __device__ __forceinline__ bool better(float v, int i, float bv, int bi) {
    const bool vn = v != v, bn = bv != bv;
    if (vn != bn) return vn;
    if (!vn && v != bv) return v > bv;
    return i < bi;
}

#define ARGMAX_EMPTY 0x7fffffff   // index of "no element yet" (loses every tie)

// One warp per row (inner == 1).
extern "C" __global__ void reduce_argmax_rows(int outer, int len, const float* __restrict__ x, long long* __restrict__ out) {
    const int lane = threadIdx.x & 31, wpb = blockDim.x >> 5;
    for (long long row = (long long)blockIdx.x * wpb + (threadIdx.x >> 5); row < outer; row += (long long)gridDim.x * wpb) {
        const float* xr = x + row * len;
        float bv = -INFINITY;
        int bi = ARGMAX_EMPTY;
        for (int j = lane; j < len; j += 32) {
            float v = xr[j];
            if (better(v, j, bv, bi)) { bv = v; bi = j; }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (better(ov, oi, bv, bi)) { bv = ov; bi = oi; }
        }
        if (lane == 0) out[row] = bi == ARGMAX_EMPTY ? 0 : bi;
    }
}

// Block 32×8 over a 32-column tile (inner > 1), like cols(); blockIdx.x = o·tilesC + tile.
extern "C" __global__ void reduce_argmax_cols(int outer, int len, int inner, int tilesC, const float* __restrict__ x,
                                              long long* __restrict__ out) {
    __shared__ float sv[8][33];
    __shared__ int si[8][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int o = blockIdx.x / tilesC, col = (blockIdx.x - o * tilesC) * 32 + tx;
    float bv = -INFINITY;
    int bi = ARGMAX_EMPTY;
    if (col < inner) {
        const float* xc = x + (long long)o * len * inner + col;
        for (int a = ty; a < len; a += 8) {
            float v = xc[(long long)a * inner];
            if (better(v, a, bv, bi)) { bv = v; bi = a; }
        }
    }
    sv[ty][tx] = bv;
    si[ty][tx] = bi;
    __syncthreads();
#pragma unroll
    for (int h = 4; h > 0; h >>= 1) {
        if (ty < h && better(sv[ty + h][tx], si[ty + h][tx], sv[ty][tx], si[ty][tx])) {
            sv[ty][tx] = sv[ty + h][tx];
            si[ty][tx] = si[ty + h][tx];
        }
        __syncthreads();
    }
    if (ty == 0 && col < inner) out[(long long)o * inner + col] = si[0][tx] == ARGMAX_EMPTY ? 0 : si[0][tx];
}

// ---------------------------------------------------------------------------------- whole array

// Warp / block sums in double (fixed trees, as above).
static __device__ __forceinline__ double warpSumD(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
static __device__ __forceinline__ double blockSumD(double v, double* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warpSumD(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    double t = lane < nw ? scratch[lane] : 0.0;
    t = warpSumD(t);
    __syncthreads();
    return t;
}

// Pass 1 of Σx (SQ = false) or Σx² (SQ = true): gridDim.x blocks (a count fixed by n alone) each write
// one double partial; threads stride the array grid-wide, float4 when x is 16-byte aligned.
template <bool SQ>
static __device__ __forceinline__ void sumAllPartial(long long n, const float* __restrict__ x, double* __restrict__ partial) {
    __shared__ double scratch[32];
    const long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x, stride = (long long)gridDim.x * blockDim.x;
    double acc = 0.0;
    long long done = 0;
    if (aligned16(x)) {
        const long long n4 = n >> 2;
        const float4* x4 = reinterpret_cast<const float4*>(x);
        for (long long i = tid; i < n4; i += stride) {
            float4 v = x4[i];
            if (SQ) {
                acc = fma((double)v.x, (double)v.x, acc);
                acc = fma((double)v.y, (double)v.y, acc);
                acc = fma((double)v.z, (double)v.z, acc);
                acc = fma((double)v.w, (double)v.w, acc);
            } else {
                acc += (double)v.x;
                acc += (double)v.y;
                acc += (double)v.z;
                acc += (double)v.w;
            }
        }
        done = n4 << 2;
    }
    for (long long i = done + tid; i < n; i += stride) {
        double v = (double)x[i];
        acc = SQ ? fma(v, v, acc) : acc + v;
    }
    acc = blockSumD(acc, scratch);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

extern "C" __global__ void reduce_sum_all_partial(long long n, const float* __restrict__ x, double* __restrict__ partial) {
    sumAllPartial<false>(n, x, partial);
}
extern "C" __global__ void reduce_sum_squares_partial(long long n, const float* __restrict__ x, double* __restrict__ partial) {
    sumAllPartial<true>(n, x, partial);
}

// Pass 2: one block sums the nb partials (strided by blockDim.x, then the block tree) into out1[0] as float.
extern "C" __global__ void reduce_sum_all_final(int nb, const double* __restrict__ partial, float* __restrict__ out1) {
    __shared__ double scratch[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < nb; i += blockDim.x) acc += partial[i];
    acc = blockSumD(acc, scratch);
    if (threadIdx.x == 0) out1[0] = (float)acc;
}
