// LayerNorm over the last dim of a contiguous [rows, cols] block, with LayerNormKernels' semantics:
// two-pass float statistics (mean, then Σ(x−mean)²), biased variance, rstd = 1/sqrt(var + eps) taken in
// double, y = (x − mean)·rstd·gamma + beta (gamma / beta nullable = ones / zeros).
//  - cols <= 1536: one warp per row, the row in registers (VPL values per lane): layernorm_{fwd,bwd}_warp<VPL>.
//  - cols  > 1536: one block per row, re-reading the row from global memory (L1/L2 resident).
// Parameter gradients gGamma += Σ_rows gy·xhat and gBeta += Σ_rows gy are ACCUMULATED, as the CPU kernel:
// layernorm_param_partial writes per-row-chunk partials (fixed order inside a block), layernorm_param_final
// sums the chunks in order in double. No atomics: deterministic.
#include "common.cuh"

// ------------------------------------------------------------------------------- forward

static __device__ __forceinline__ float rstdOf(float q, int cols, float eps) {
    return (float)(1.0 / sqrt((double)(q / (float)cols) + (double)eps));
}

template <int VPL>
__device__ __forceinline__ void lnFwdWarp(int rows, int cols, const float* x, const float* __restrict__ gamma,
                                          const float* __restrict__ beta, float eps, float* y, float* __restrict__ mean,
                                          float* __restrict__ rstd) {
    const int lane = threadIdx.x & 31;
    const long row = (long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;                                  // whole warp leaves together
    const float* xr = x + row * cols;
    float v[VPL];
    float s = 0.f;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        int i = lane + 32 * j;
        v[j] = i < cols ? xr[i] : 0.f;
        s += v[j];
    }
    const float mu = warpSum(s) / (float)cols;
    float q = 0.f;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        float d = v[j] - mu;
        if (lane + 32 * j < cols) q += d * d;
    }
    const float rs = rstdOf(warpSum(q), cols, eps);
    if (lane == 0) {
        if (mean) mean[row] = mu;
        if (rstd) rstd[row] = rs;
    }
    float* yr = y + row * cols;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        int i = lane + 32 * j;
        if (i < cols) {
            float o = (v[j] - mu) * rs;
            if (gamma) o *= gamma[i];
            if (beta) o += beta[i];
            yr[i] = o;
        }
    }
}

// gx = (g − mean(g) − xhat·mean(g·xhat))·rstd with g = gy·gamma, xhat = (x − mean)·rstd.
template <int VPL>
__device__ __forceinline__ void lnBwdWarp(int rows, int cols, const float* __restrict__ x, const float* gy,
                                          const float* __restrict__ gamma, const float* __restrict__ mean,
                                          const float* __restrict__ rstd, float* gx) {
    const int lane = threadIdx.x & 31;
    const long row = (long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const float* xr = x + row * cols;
    const float* gr = gy + row * cols;
    const float mu = mean[row], rs = rstd[row];
    float xh[VPL], g[VPL];
    float a = 0.f, b = 0.f;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        int i = lane + 32 * j;
        bool in = i < cols;
        xh[j] = in ? (xr[i] - mu) * rs : 0.f;
        g[j] = in ? (gamma ? gr[i] * gamma[i] : gr[i]) : 0.f;
        a += g[j];
        b += g[j] * xh[j];
    }
    const float invN = 1.f / (float)cols;
    const float ma = warpSum(a) * invN, mb = warpSum(b) * invN;
    float* o = gx + row * cols;
#pragma unroll
    for (int j = 0; j < VPL; j++) {
        int i = lane + 32 * j;
        if (i < cols) o[i] = (g[j] - ma - xh[j] * mb) * rs;
    }
}

#define LAYERNORM_WARP_KERNELS(VPL)                                                                                   \
    extern "C" __global__ void __launch_bounds__(128) layernorm_fwd_warp##VPL(                                        \
        int rows, int cols, const float* x, const float* gamma, const float* beta, float eps, float* y, float* mean,   \
        float* rstd) {                                                                                                \
        lnFwdWarp<VPL>(rows, cols, x, gamma, beta, eps, y, mean, rstd);                                               \
    }                                                                                                                 \
    extern "C" __global__ void __launch_bounds__(128) layernorm_bwd_warp##VPL(                                        \
        int rows, int cols, const float* x, const float* gy, const float* gamma, const float* mean, const float* rstd, \
        float* gx) {                                                                                                  \
        lnBwdWarp<VPL>(rows, cols, x, gy, gamma, mean, rstd, gx);                                                     \
    }

LAYERNORM_WARP_KERNELS(1)
LAYERNORM_WARP_KERNELS(2)
LAYERNORM_WARP_KERNELS(4)
LAYERNORM_WARP_KERNELS(8)
LAYERNORM_WARP_KERNELS(12)
LAYERNORM_WARP_KERNELS(16)
LAYERNORM_WARP_KERNELS(24)
LAYERNORM_WARP_KERNELS(32)
LAYERNORM_WARP_KERNELS(48)

// ------------------------------------------------------------------------------- one block per row (cols > 1536)

// blockDim.x a multiple of 32 (<= 1024), grid.x = rows.
extern "C" __global__ void __launch_bounds__(1024) layernorm_fwd_block(int cols, const float* x, const float* __restrict__ gamma,
                                                                       const float* __restrict__ beta, float eps, float* y,
                                                                       float* __restrict__ mean, float* __restrict__ rstd) {
    __shared__ float scratch[32];
    const long row = blockIdx.x;
    const float* xr = x + row * cols;
    float s = 0.f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) s += xr[i];
    const float mu = blockSum(s, scratch) / (float)cols;
    float q = 0.f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) { float d = xr[i] - mu; q += d * d; }
    const float rs = rstdOf(blockSum(q, scratch), cols, eps);
    if (threadIdx.x == 0) {
        if (mean) mean[row] = mu;
        if (rstd) rstd[row] = rs;
    }
    float* yr = y + row * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        float o = (xr[i] - mu) * rs;
        if (gamma) o *= gamma[i];
        if (beta) o += beta[i];
        yr[i] = o;
    }
}

extern "C" __global__ void __launch_bounds__(1024) layernorm_bwd_block(int cols, const float* __restrict__ x, const float* gy,
                                                                       const float* __restrict__ gamma, const float* __restrict__ mean,
                                                                       const float* __restrict__ rstd, float* gx) {
    __shared__ float scratch[32];
    const long row = blockIdx.x;
    const float* xr = x + row * cols;
    const float* gr = gy + row * cols;
    const float mu = mean[row], rs = rstd[row];
    float a = 0.f, b = 0.f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        float xh = (xr[i] - mu) * rs, g = gamma ? gr[i] * gamma[i] : gr[i];
        a += g;
        b += g * xh;
    }
    const float invN = 1.f / (float)cols;
    const float ma = blockSum(a, scratch) * invN;
    const float mb = blockSum(b, scratch) * invN;
    float* o = gx + row * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        float xh = (xr[i] - mu) * rs, g = gamma ? gr[i] * gamma[i] : gr[i];
        o[i] = (g - ma - xh * mb) * rs;
    }
}

// ------------------------------------------------------------------------------- gGamma / gBeta

// Block (32, 8), grid (ceil(cols/32), chunks): chunk k covers rows [k·rowsPerChunk, min(rows, (k+1)·rowsPerChunk)).
// pG[k·cols + col] = Σ gy·xhat, pB[k·cols + col] = Σ gy over the chunk (either pointer may be null).
extern "C" __global__ void __launch_bounds__(256) layernorm_param_partial(int rows, int cols, int rowsPerChunk,
                                                                         const float* __restrict__ x, const float* __restrict__ gy,
                                                                         const float* __restrict__ mean, const float* __restrict__ rstd,
                                                                         float* __restrict__ pG, float* __restrict__ pB) {
    __shared__ float sG[8][33], sB[8][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int col = blockIdx.x * 32 + tx;
    const long r0 = (long)blockIdx.y * rowsPerChunk;
    const long r1 = min((long)rows, r0 + rowsPerChunk);
    float ag = 0.f, ab = 0.f;
    if (col < cols) {
        for (long r = r0 + ty; r < r1; r += 8) {
            float g = gy[r * cols + col];
            ag += g * ((x[r * cols + col] - mean[r]) * rstd[r]);
            ab += g;
        }
    }
    sG[ty][tx] = ag;
    sB[ty][tx] = ab;
    __syncthreads();
    if (ty == 0 && col < cols) {
        float tg = 0.f, tb = 0.f;
#pragma unroll
        for (int k = 0; k < 8; k++) { tg += sG[k][tx]; tb += sB[k][tx]; }
        const long o = (long)blockIdx.y * cols + col;
        if (pG) pG[o] = tg;
        if (pB) pB[o] = tb;
    }
}

// One thread per column: dst[col] += Σ_k partial[k·cols + col], k ascending, in double.
extern "C" __global__ void layernorm_param_final(int cols, int chunks, const float* __restrict__ pG, const float* __restrict__ pB,
                                                 float* __restrict__ gGamma, float* __restrict__ gBeta) {
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    if (gGamma) {
        double s = 0.0;
        for (int k = 0; k < chunks; k++) s += (double)pG[(long)k * cols + col];
        gGamma[col] += (float)s;
    }
    if (gBeta) {
        double s = 0.0;
        for (int k = 0; k < chunks; k++) s += (double)pB[(long)k * cols + col];
        gBeta[col] += (float)s;
    }
}
