// Softmax / log-softmax over the last dim of a contiguous [rows, cols] block, forward and backward,
// with SoftmaxKernels' semantics (row max subtracted; an all -inf row uses max 0, giving NaN as torch).
//  - cols <= 1024: one warp per row, the row held in registers (VPL values per lane, lane-strided so
//    loads coalesce); kernels softmax_{fwd,bwd}_warp<VPL>.
//  - cols  > 1024: one block per row; the forward keeps a per-thread online (max, sum) pair so x is read
//    twice (stats, then write), the backward reads gy/y twice.
// Reductions use a fixed shuffle/shared-memory tree, so results are deterministic run to run.
// In place (x == y, gy == gx) is allowed: every element is read before it is written by the same thread.
#include "common.cuh"

// ------------------------------------------------------------------------------- one warp per row

template <int VPL>
__device__ __forceinline__ void softmaxFwdWarp(int rows, int cols, const float* x, float* y, int log) {
    const int lane = threadIdx.x & 31;
    const long row = (long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;                                  // whole warp leaves together
    const float* xr = x + row * cols;
    float v[VPL];
    float m = -INFINITY;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        int i = lane + 32 * j;
        v[j] = i < cols ? xr[i] : -INFINITY;
        m = fmaxf(m, v[j]);
    }
    m = warpMax(m);
    if (m == -INFINITY) m = 0.f;
    float s = 0.f;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        float e = (lane + 32 * j) < cols ? expf(v[j] - m) : 0.f;
        if (!log) v[j] = e;
        s += e;
    }
    s = warpSum(s);
    float* yr = y + row * cols;
    if (log) {
        const float sh = m + logf(s);
#pragma unroll
        for (int j = 0; j < VPL; j++) { int i = lane + 32 * j; if (i < cols) yr[i] = v[j] - sh; }
    } else {
        const float inv = 1.f / s;
#pragma unroll
        for (int j = 0; j < VPL; j++) { int i = lane + 32 * j; if (i < cols) yr[i] = v[j] * inv; }
    }
}

// softmax: gx = y·(gy − Σ gy·y); log-softmax: gx = gy − exp(y)·Σ gy.
template <int VPL>
__device__ __forceinline__ void softmaxBwdWarp(int rows, int cols, const float* __restrict__ y, const float* gy,
                                               float* gx, int log) {
    const int lane = threadIdx.x & 31;
    const long row = (long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const float* yr = y + row * cols;
    const float* gr = gy + row * cols;
    float yv[VPL], gv[VPL];
    float s = 0.f;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        int i = lane + 32 * j;
        yv[j] = i < cols ? yr[i] : 0.f;
        gv[j] = i < cols ? gr[i] : 0.f;
        s += log ? gv[j] : gv[j] * yv[j];
    }
    s = warpSum(s);
    float* o = gx + row * cols;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        int i = lane + 32 * j;
        if (i < cols) o[i] = log ? gv[j] - expf(yv[j]) * s : (gv[j] - s) * yv[j];
    }
}

#define SOFTMAX_WARP_KERNELS(VPL)                                                                                  \
    extern "C" __global__ void __launch_bounds__(128) softmax_fwd_warp##VPL(int rows, int cols, const float* x,   \
                                                                             float* y, int log) {                  \
        softmaxFwdWarp<VPL>(rows, cols, x, y, log);                                                                \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(128) softmax_bwd_warp##VPL(int rows, int cols, const float* y,   \
                                                                             const float* gy, float* gx, int log) { \
        softmaxBwdWarp<VPL>(rows, cols, y, gy, gx, log);                                                           \
    }

SOFTMAX_WARP_KERNELS(1)
SOFTMAX_WARP_KERNELS(2)
SOFTMAX_WARP_KERNELS(4)
SOFTMAX_WARP_KERNELS(8)
SOFTMAX_WARP_KERNELS(16)
SOFTMAX_WARP_KERNELS(32)

// ------------------------------------------------------------------------------- one block per row

// Online update of a running (max m, sum s of exp(· − m)) with value v; -inf values contribute 0.
static __device__ __forceinline__ void onlineAdd(float& m, float& s, float v) {
    if (v > m) { s = s * expf(m - v) + 1.f; m = v; }   // m = -inf at first: s = 0·0 + 1
    else if (v != -INFINITY) s += expf(v - m);         // v <= m (m finite), or NaN: propagates
}

// blockDim.x a multiple of 32, <= 1024; grid.x = rows.
extern "C" __global__ void __launch_bounds__(1024) softmax_fwd_block(int cols, const float* x, float* y, int log) {
    __shared__ float scratch[32];
    const long row = blockIdx.x;
    const float* xr = x + row * cols;
    float m = -INFINITY, s = 0.f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) onlineAdd(m, s, xr[i]);
    float M = blockMax(m, scratch);
    if (M == -INFINITY) M = 0.f;
    // a thread with m = -inf has s = 0: expf(-inf) = 0 keeps it out
    float S = blockSum(m == -INFINITY ? 0.f : s * expf(m - M), scratch);
    float* yr = y + row * cols;
    if (log) {
        const float sh = M + logf(S);
        for (int i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = xr[i] - sh;
    } else {
        const float inv = 1.f / S;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = expf(xr[i] - M) * inv;
    }
}

extern "C" __global__ void __launch_bounds__(1024) softmax_bwd_block(int cols, const float* __restrict__ y, const float* gy,
                                                                     float* gx, int log) {
    __shared__ float scratch[32];
    const long row = blockIdx.x;
    const float* yr = y + row * cols;
    const float* gr = gy + row * cols;
    float s = 0.f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) s += log ? gr[i] : gr[i] * yr[i];
    s = blockSum(s, scratch);
    float* o = gx + row * cols;
    if (log) for (int i = threadIdx.x; i < cols; i += blockDim.x) o[i] = gr[i] - expf(yr[i]) * s;
    else     for (int i = threadIdx.x; i < cols; i += blockDim.x) o[i] = (gr[i] - s) * yr[i];
}
