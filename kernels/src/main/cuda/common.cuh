// Shared device helpers for dino4j's kernel families. Header-only; every family includes it.
#pragma once
#include <cstdint>

#define D4J_INLINE __device__ __forceinline__

// Warp-wide reductions (all 32 lanes participate).
D4J_INLINE float warpSum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
D4J_INLINE float warpMax(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (≤ 1024); every thread gets the total.
// `scratch` needs 32 floats of shared memory; the call ends with a barrier so scratch can be reused.
D4J_INLINE float blockSum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = warpSum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < nw ? scratch[lane] : 0.f;
    t = warpSum(t);
    __syncthreads();
    return t;
}
D4J_INLINE float blockMax(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = warpMax(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < nw ? scratch[lane] : -INFINITY;
    t = warpMax(t);
    __syncthreads();
    return t;
}

// 16-byte alignment test for vectorised (float4) paths.
D4J_INLINE bool aligned16(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) & 15) == 0;
}

// Java's Math.max / Math.min on floats: NaN wins, and +0 > -0 (AND / OR of the sign bits when equal).
D4J_INLINE float jmax(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return __int_as_float(__float_as_int(a) & __float_as_int(b));
    return a > b ? a : b;
}
D4J_INLINE float jmin(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return __int_as_float(__float_as_int(a) | __float_as_int(b));
    return a < b ? a : b;
}

// One warp L2-normalises one row of D floats: xhat = x · (float)(1 / max(‖x‖, eps)), returns ‖x‖
// (float sum of squares, like the CPU kernels of Gram and KoLeo).
D4J_INLINE float l2NormalizeRowWarp(const float* __restrict__ xr, int D, double eps, float* __restrict__ hr, int lane) {
    float ss = 0.f;
    for (int k = lane; k < D; k += 32) ss = fmaf(xr[k], xr[k], ss);
    float n = sqrtf(warpSum(ss));
    float inv = (float)(1.0 / fmax((double)n, eps));
    for (int k = lane; k < D; k += 32) hr[k] = xr[k] * inv;
    return n;
}

// Stages rows [r0, r0+64) × columns [c0, c0+16) of a row-major [rows, cols] matrix transposed into
// sm[k·TS + r] (zero outside the matrix), for 64-row tiles with a 16-wide reduction slice; blockDim.x = 256.
// Consecutive threads read consecutive columns of one row.
template <int TS>
D4J_INLINE void loadRowsT64x16(const float* __restrict__ a, int rows, int cols, int r0, int c0, float* sm) {
#pragma unroll
    for (int q = 0; q < 4; q++) {
        int e = threadIdx.x + 256 * q;
        int r = e >> 4, k = e & 15;
        int gr = r0 + r, gc = c0 + k;
        sm[k * TS + r] = (gr < rows && gc < cols) ? a[(size_t)gr * cols + gc] : 0.f;
    }
}

// GEMM epilogue for two adjacent outputs (col, col+1) of one C row that already hold alpha·(A·B):
// adds beta·C (C is not read when beta == 0) and the bias, and stores; one float2 access when the
// row allows it (vecC: 8-byte aligned columns) and both columns exist, else per-column bounds checks.
D4J_INLINE void gemm_store_pair(float* crow, int col, int N, float v0, float v1, float beta, const float* bias, bool vecC) {
    if (vecC && col + 1 < N) {
        if (beta != 0.f) {
            const float2 o = *reinterpret_cast<const float2*>(crow + col);
            v0 = fmaf(beta, o.x, v0);
            v1 = fmaf(beta, o.y, v1);
        }
        if (bias != nullptr) {
            const float2 bb = *reinterpret_cast<const float2*>(bias + col);
            v0 += bb.x;
            v1 += bb.y;
        }
        *reinterpret_cast<float2*>(crow + col) = make_float2(v0, v1);
    } else {
        if (col < N) {
            if (beta != 0.f) v0 = fmaf(beta, crow[col], v0);
            if (bias != nullptr) v0 += bias[col];
            crow[col] = v0;
        }
        if (col + 1 < N) {
            if (beta != 0.f) v1 = fmaf(beta, crow[col + 1], v1);
            if (bias != nullptr) v1 += bias[col + 1];
            crow[col + 1] = v1;
        }
    }
}

// Grouped rasterisation: consecutive CTAs walk GROUP tile-rows down one tile-column before moving right.
D4J_INLINE void gemm_tile_coords(int tilesM, int tilesN, int& tm, int& tn) {
    constexpr int GROUP = 8;
    const int pid = blockIdx.x;
    const int perGroup = GROUP * tilesN;
    const int first = (pid / perGroup) * GROUP;
    const int rows = min(tilesM - first, GROUP);
    const int r = pid % perGroup;
    tm = first + r % rows;
    tn = r / rows;
}
