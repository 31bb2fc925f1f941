// KoLeo regulariser (KoLeoKernels) over features x [N, D]:
//   x̂ = x / max(‖x‖, 1e-8);  nn(i) = argmax_{j≠i} x̂_i·x̂_j (self scores −1, the first maximum wins);
//   d_i = ‖x̂_i − x̂_nn(i) + 1e-8‖;  L = −mean_i log(d_i + 1e-8).
// Forward: koleo_normalize -> koleo_nn_tiles (64×64 dot tiles, each block scanning a range of column tiles
// for its 64 rows; best (value, index) per row and range) -> koleo_nn_finish (ranges merged in order,
// d_i) -> koleo_loss (fixed-order double sum). Backward: koleo_bwd gathers, for each row r, its own term
// and the terms of every i with nn(i) = r in increasing i (the CPU kernel's accumulation order, no atomics),
// then applies the normalisation backward in the same block (koleo_coef first computes the per-row
// coefficients).
#include "common.cuh"

namespace {
constexpr int TILE = 64;
constexpr int TK = 16;
constexpr int TS = TILE + 4;  // padded stride, keeps float4 reads 16-byte aligned
constexpr int SLICE = TK * TS;
}

// xhat = x · (float)(1 / max(‖x‖, eps)), norms = ‖x‖. Warp per row; grid ceil(rows / 8), block 256.
extern "C" __global__ void __launch_bounds__(256)
koleo_normalize(const float* __restrict__ x, int rows, int D, double eps, float* __restrict__ xhat, float* __restrict__ norms) {
    int row = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    float n = l2NormalizeRowWarp(x + (size_t)row * D, D, eps, xhat + (size_t)row * D, lane);
    if (lane == 0) norms[row] = n;
}

// (v, j) beats (bv, bj): larger value, or equal value and smaller index (so the first maximum wins
// whatever order candidates are merged in).
static __device__ __forceinline__ bool better(float v, int j, float bv, int bj) {
    return v > bv || (v == bv && j < bj);
}

// loadRowsT: common.cuh's loadRowsT64x16 at this file's padded stride.
static __device__ __forceinline__ void loadRowsT(const float* __restrict__ a, int rows, int cols, int r0, int c0, float* sm) {
    loadRowsT64x16<TS>(a, rows, cols, r0, c0, sm);
}

// grid (ceil(N/64), splits), block 256 (16×16 threads, 4×4 dots each). Block (bi, sp) scans column tiles
// [sp·tilesPerSplit, min(JT, (sp+1)·tilesPerSplit)) for rows bi·64.. and writes, per row i < N,
// partV/partJ[sp·N + i] = the best (value, j) in that range (self scored −1).
extern "C" __global__ void __launch_bounds__(256)
koleo_nn_tiles(const float* __restrict__ xhat, int N, int D, int tilesPerSplit, float* __restrict__ partV, int* __restrict__ partJ) {
    __shared__ __align__(16) float sm[2 * SLICE];
    float *sI = sm, *sJ = sm + SLICE;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int i0 = blockIdx.x * TILE, sp = blockIdx.y;
    int JT = (N + TILE - 1) / TILE;
    int jt0 = sp * tilesPerSplit, jt1 = min(JT, jt0 + tilesPerSplit);
    float bv[4];
    int bj[4];
#pragma unroll
    for (int a = 0; a < 4; a++) { bv[a] = -INFINITY; bj[a] = 0x7fffffff; }
    for (int jt = jt0; jt < jt1; jt++) {  // uniform bounds: every thread reaches every barrier
        int j0 = jt * TILE;
        float acc[4][4];
#pragma unroll
        for (int a = 0; a < 4; a++)
#pragma unroll
            for (int b = 0; b < 4; b++) acc[a][b] = 0.f;
        for (int d0 = 0; d0 < D; d0 += TK) {
            loadRowsT(xhat, N, D, i0, d0, sI);
            loadRowsT(xhat, N, D, j0, d0, sJ);
            __syncthreads();
#pragma unroll
            for (int k = 0; k < TK; k++) {
                float4 av = *reinterpret_cast<const float4*>(sI + k * TS + ty * 4);
                float4 bw = *reinterpret_cast<const float4*>(sJ + k * TS + tx * 4);
                const float aa[4] = {av.x, av.y, av.z, av.w}, bb[4] = {bw.x, bw.y, bw.z, bw.w};
#pragma unroll
                for (int a = 0; a < 4; a++)
#pragma unroll
                    for (int b = 0; b < 4; b++) acc[a][b] = fmaf(aa[a], bb[b], acc[a][b]);
            }
            __syncthreads();
        }
#pragma unroll
        for (int a = 0; a < 4; a++) {
            int i = i0 + ty * 4 + a;
#pragma unroll
            for (int b = 0; b < 4; b++) {
                int j = j0 + tx * 4 + b;
                if (j >= N) continue;
                float v = j == i ? -1.f : acc[a][b];
                if (better(v, j, bv[a], bj[a])) { bv[a] = v; bj[a] = j; }
            }
        }
    }
    // merge across the 16 threads (tx) sharing these rows: xor offsets < 16 stay inside the half-warp
#pragma unroll
    for (int a = 0; a < 4; a++) {
#pragma unroll
        for (int o = 8; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv[a], o);
            int oj = __shfl_xor_sync(0xffffffffu, bj[a], o);
            if (better(ov, oj, bv[a], bj[a])) { bv[a] = ov; bj[a] = oj; }
        }
        int i = i0 + ty * 4 + a;
        if (tx == 0 && i < N) {
            partV[(size_t)sp * N + i] = bv[a];
            partJ[(size_t)sp * N + i] = bj[a];
        }
    }
}

// Warp per row i: nn[i] = best over the split partials, dist[i] = ‖x̂_i − x̂_nn + eps‖ (float, like the CPU).
// grid ceil(N / 8), block 256.
extern "C" __global__ void __launch_bounds__(256)
koleo_nn_finish(const float* __restrict__ xhat, const float* __restrict__ partV, const int* __restrict__ partJ,
                int splits, int N, int D, float eps, int* __restrict__ nn, float* __restrict__ dist) {
    int i = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (i >= N) return;
    float bv = -INFINITY;
    int bj = 0x7fffffff;
    for (int sp = 0; sp < splits; sp++) {
        float v = partV[(size_t)sp * N + i];
        int j = partJ[(size_t)sp * N + i];
        if (better(v, j, bv, bj)) { bv = v; bj = j; }
    }
    const float* a = xhat + (size_t)i * D;
    const float* b = xhat + (size_t)bj * D;
    float q = 0.f;
    for (int k = lane; k < D; k += 32) {
        float u = a[k] - b[k] + eps;
        q = fmaf(u, u, q);
    }
    q = warpSum(q);
    if (lane == 0) { nn[i] = bj; dist[i] = sqrtf(q); }
}

// One block of 256: loss1[0] = (float)(−Σ_i log(d_i + eps) / N), summed in double in a fixed order.
extern "C" __global__ void __launch_bounds__(256)
koleo_loss(const float* __restrict__ dist, int N, double eps, float* __restrict__ loss1) {
    __shared__ double sh[8];
    double acc = 0.0;
    for (int i = threadIdx.x; i < N; i += 256) acc += log((double)dist[i] + eps);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0.0;
        for (int w = 0; w < 8; w++) s += sh[w];
        loss1[0] = (float)(-s / N);
    }
}

// coef[i] = ∂L/∂u_i scale of the CPU kernel, in double then rounded: −gL / (N (d_i + eps)) / d_i, 0 at
// d_i = 0. grid ceil(N / 256), block 256.
extern "C" __global__ void __launch_bounds__(256)
koleo_coef(float gLoss, const float* __restrict__ dist, int N, double eps, float* __restrict__ coef) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N) return;
    float d = dist[i];
    coef[i] = d > 0.f ? (float)(-(double)gLoss / (N * ((double)d + eps)) / (double)d) : 0.f;
}

// Block per row r (grid N, block 128): g_r = Σ_i [i = r]·c_r·(x̂_r − x̂_nn(r) + eps) − [nn(i) = r]·c_i·(x̂_i − x̂_r + eps)
// in increasing i (the CPU kernel's order), written to gx, then gx_r = (g − x̂(x̂·g)) / ‖x_r‖ (or g / eps
// where the norm was clamped). Each thread re-reads only the elements it wrote itself.
extern "C" __global__ void __launch_bounds__(128)
koleo_bwd(const float* __restrict__ xhat, const float* __restrict__ norms, const int* __restrict__ nn,
          const float* __restrict__ coef, int N, int D, double eps, float* __restrict__ gx) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    const float epsf = (float)eps;
    const float* hr = xhat + (size_t)r * D;
    const float* hn = xhat + (size_t)nn[r] * D;
    float* gr = gx + (size_t)r * D;
    float cr = coef[r];
    float p = 0.f;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.f, h = hr[d];
        for (int i = 0; i < N; i++) {
            if (i == r) acc += cr * (h - hn[d] + epsf);
            if (nn[i] == r) acc -= coef[i] * (xhat[(size_t)i * D + d] - h + epsf);
        }
        gr[d] = acc;
        p = fmaf(h, acc, p);
    }
    p = blockSum(p, scratch);
    float n = norms[r];
    if ((double)n > eps) {
        float inv = 1.f / n;
        for (int d = threadIdx.x; d < D; d += blockDim.x) gr[d] = fmaf(hr[d], -p, gr[d]) * inv;
    } else {
        float inv = (float)(1.0 / eps);
        for (int d = threadIdx.x; d < D; d += blockDim.x) gr[d] *= inv;
    }
}
