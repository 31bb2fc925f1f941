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
