// Gram anchoring loss (GramKernels), per image n of student S_n and Gram teacher T_n [P, D]:
//   Ŝ, T̂ = rows / max(‖row‖, eps);  E = ŜŜᵀ − T̂T̂ᵀ;  L = Σ_{n,i,j} E_ij² / (N·P²)
//   ∂L/∂Ŝ = 4c·E·Ŝ,  ∂L/∂T̂ = −4c·E·T̂  (c = gL/(N·P²), E symmetric), then the normalisation backward.
// Forward: gram_normalize (x2) -> gram_loss_tiles (64×64 tiles of E over the upper triangle, off-diagonal
// tiles counted twice, E never stored) -> gram_loss_finish (fixed-order double sum of the tile partials).
// Backward, per panel of H rows of every image (the launcher sizes H to bound the scratch): gram_e_panel
// writes E[panel rows, all j] (H×P per image, never P×P when P is large), gram_bwd_gemm_{s,st} forms
// gŜ/gT̂ for those rows = ±c4·E_panel·Ŝ/T̂ (plain GEMM, every output written once, no atomics), then
// gram_normalize_bwd turns them into ∂L/∂s, ∂L/∂t in place.
// All GEMM tiles: 256 threads as 16×16, each owning a 4×4 micro-tile; K-slices of 16 staged in shared
// memory with a padded stride (68 floats keeps the float4 reads 16-byte aligned). FP32 FMA throughout.
#include "common.cuh"

namespace {
constexpr int TILE = 64;        // tile rows / columns
constexpr int TK = 16;          // reduction slice
constexpr int TS = TILE + 4;    // shared-memory row stride
constexpr int SLICE = TK * TS;  // floats per staged slice
}

// ------------------------------------------------------------------ row L2 normalisation (warp per row)

// xhat = x · (float)(1 / max(‖x‖, eps)), norms = ‖x‖ (float sum of squares, like the CPU kernel).
// grid ceil(rows / 8), block 256.
extern "C" __global__ void __launch_bounds__(256)
gram_normalize(const float* __restrict__ x, int rows, int D, double eps, float* __restrict__ xhat, float* __restrict__ norms) {
    int row = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    float n = l2NormalizeRowWarp(x + (size_t)row * D, D, eps, xhat + (size_t)row * D, lane);
    if (lane == 0) norms[row] = n;
}

// In place: g holds ∂L/∂x̂ and becomes ∂L/∂x = (g − x̂(x̂·g)) / ‖x‖, or g / eps where the norm was clamped.
extern "C" __global__ void __launch_bounds__(256)
gram_normalize_bwd(const float* __restrict__ xhat, const float* __restrict__ norms, int rows, int D, double eps, float* __restrict__ g) {
    int row = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* hr = xhat + (size_t)row * D;
    float* gr = g + (size_t)row * D;
    float n = norms[row];
    if ((double)n > eps) {
        float p = 0.f;
        for (int k = lane; k < D; k += 32) p = fmaf(hr[k], gr[k], p);
        p = warpSum(p);
        float inv = 1.f / n;
        for (int k = lane; k < D; k += 32) gr[k] = fmaf(hr[k], -p, gr[k]) * inv;
    } else {
        float inv = (float)(1.0 / eps);
        for (int k = lane; k < D; k += 32) gr[k] *= inv;
    }
}

// ------------------------------------------------------------------ tile helpers

// loadRowsT: common.cuh's loadRowsT64x16 at this file's padded stride.
static __device__ __forceinline__ void loadRowsT(const float* __restrict__ a, int rows, int cols, int r0, int c0, float* sm) {
    loadRowsT64x16<TS>(a, rows, cols, r0, c0, sm);
}

// Stages rows [r0, r0+16) × columns [c0, c0+64) of a row-major [rows, cols] matrix as sm[k][c].
static __device__ __forceinline__ void loadRows(const float* __restrict__ b, int rows, int cols, int r0, int c0, float* sm) {
#pragma unroll
    for (int q = 0; q < 4; q++) {
        int e = threadIdx.x + 256 * q;
        int k = e >> 6, c = e & 63;
        int gr = r0 + k, gc = c0 + c;
        sm[k * TS + c] = (gr < rows && gc < cols) ? b[(size_t)gr * cols + gc] : 0.f;
    }
}

static __device__ __forceinline__ void fma4x4(float (&acc)[4][4], const float4 a, const float4 b) {
    const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
}

static __device__ __forceinline__ float4 ld4(const float* p) { return *reinterpret_cast<const float4*>(p); }

// es = Ŝ_I Ŝ_Jᵀ and et = T̂_I T̂_Jᵀ for the 64×64 tile at rows i0, columns j0 of one image (Ŝ, T̂ [P, D]);
// this thread's entries are (i0 + ty·4 + a, j0 + tx·4 + b). Rows beyond P contribute zeros.
// sm: 4 slices, 16-byte aligned.
static __device__ __forceinline__ void gramTile(const float* __restrict__ s, const float* __restrict__ t, int P, int D,
                                                int i0, int j0, float (&es)[4][4], float (&et)[4][4], float* sm) {
    float *sI = sm, *sJ = sm + SLICE, *tI = sm + 2 * SLICE, *tJ = sm + 3 * SLICE;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int b = 0; b < 4; b++) { es[a][b] = 0.f; et[a][b] = 0.f; }
    for (int d0 = 0; d0 < D; d0 += TK) {
        loadRowsT(s, P, D, i0, d0, sI);
        loadRowsT(s, P, D, j0, d0, sJ);
        loadRowsT(t, P, D, i0, d0, tI);
        loadRowsT(t, P, D, j0, d0, tJ);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TK; k++) {
            fma4x4(es, ld4(sI + k * TS + ty * 4), ld4(sJ + k * TS + tx * 4));
            fma4x4(et, ld4(tI + k * TS + ty * 4), ld4(tJ + k * TS + tx * 4));
        }
        __syncthreads();
    }
}

// ------------------------------------------------------------------ forward loss

// grid (T, T, N) with T = ceil(P/64): block (bj, bi, n) writes partial[(n·T + bi)·T + bj] = Σ E² over its
// tile, doubled off the diagonal; tiles below the diagonal (bj < bi) write 0 and stop.
extern "C" __global__ void __launch_bounds__(256)
gram_loss_tiles(const float* __restrict__ sHat, const float* __restrict__ tHat, int P, int D, float* __restrict__ partial) {
    __shared__ __align__(16) float sm[4 * SLICE];
    __shared__ float scratch[32];
    int bj = blockIdx.x, bi = blockIdx.y, n = blockIdx.z, T = gridDim.x;
    size_t slot = ((size_t)n * T + bi) * T + bj;
    if (bj < bi) {  // whole block leaves before any barrier
        if (threadIdx.x == 0) partial[slot] = 0.f;
        return;
    }
    size_t base = (size_t)n * P * D;
    float es[4][4], et[4][4];
    gramTile(sHat + base, tHat + base, P, D, bi * TILE, bj * TILE, es, et, sm);
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float acc = 0.f;
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int b = 0; b < 4; b++) {
            int i = bi * TILE + ty * 4 + a, j = bj * TILE + tx * 4 + b;
            if (i < P && j < P) { float e = es[a][b] - et[a][b]; acc = fmaf(e, e, acc); }
        }
    acc = blockSum(acc, scratch);
    if (threadIdx.x == 0) partial[slot] = bj > bi ? 2.f * acc : acc;
}

static __device__ __forceinline__ double warpSumD(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// One block of 256: loss1[0] = (float)(scale · Σ partial), summed in double in a fixed order.
extern "C" __global__ void __launch_bounds__(256)
gram_loss_finish(const float* __restrict__ partial, int count, double scale, float* __restrict__ loss1) {
    __shared__ double sh[8];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += 256) acc += (double)partial[i];
    acc = warpSumD(acc);
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0.0;
        for (int w = 0; w < 8; w++) s += sh[w];
        loss1[0] = (float)(s * scale);
    }
}

// ------------------------------------------------------------------ backward

// E rows [i0, i0+h) of every image into E [N, H, P] (panel row r = i − i0). grid (T, ceil(h/64), N).
extern "C" __global__ void __launch_bounds__(256)
gram_e_panel(const float* __restrict__ sHat, const float* __restrict__ tHat, int P, int D, int i0, int h, int H,
             float* __restrict__ E) {
    __shared__ __align__(16) float sm[4 * SLICE];
    int n = blockIdx.z, r0 = blockIdx.y * TILE, j0 = blockIdx.x * TILE;
    size_t base = (size_t)n * P * D;
    float es[4][4], et[4][4];
    gramTile(sHat + base, tHat + base, P, D, i0 + r0, j0, es, et, sm);
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float* En = E + (size_t)n * H * P;
#pragma unroll
    for (int a = 0; a < 4; a++) {
        int r = r0 + ty * 4 + a;
        if (r >= h) continue;
#pragma unroll
        for (int b = 0; b < 4; b++) {
            int j = j0 + tx * 4 + b;
            if (j < P) En[(size_t)r * P + j] = es[a][b] - et[a][b];
        }
    }
}

// gS[n, i0 + r, d] = alpha · Σ_j E[n, r, j]·Ŝ[n, j, d] for r < h (and gT likewise with T̂ and −alpha).
// grid (ceil(D/64), ceil(h/64), N).
template <bool WITH_T>
static __device__ __forceinline__ void gramBwdGemm(const float* __restrict__ E, int P, int D, int i0, int h, int H,
                                                   const float* __restrict__ sHat, const float* __restrict__ tHat, float alpha,
                                                   float* __restrict__ gS, float* __restrict__ gT, float* sm) {
    float *sA = sm, *sB = sm + SLICE, *sC = sm + 2 * SLICE;
    int n = blockIdx.z, r0 = blockIdx.y * TILE, d0 = blockIdx.x * TILE;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    const float* En = E + (size_t)n * H * P;
    size_t base = (size_t)n * P * D;
    const float* s = sHat + base;
    const float* t = tHat + base;
    float acc[4][4], accT[4][4];
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int b = 0; b < 4; b++) { acc[a][b] = 0.f; accT[a][b] = 0.f; }
    for (int j0 = 0; j0 < P; j0 += TK) {
        loadRowsT(En, h, P, r0, j0, sA);  // E panel rows, ld P: sA[j][r]
        loadRows(s, P, D, j0, d0, sB);    // Ŝ rows j: sB[j][d]
        if (WITH_T) loadRows(t, P, D, j0, d0, sC);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TK; k++) {
            float4 a = ld4(sA + k * TS + ty * 4);
            fma4x4(acc, a, ld4(sB + k * TS + tx * 4));
            if (WITH_T) fma4x4(accT, a, ld4(sC + k * TS + tx * 4));
        }
        __syncthreads();
    }
#pragma unroll
    for (int a = 0; a < 4; a++) {
        int r = r0 + ty * 4 + a;
        if (r >= h) continue;
        size_t row = base + (size_t)(i0 + r) * D;
#pragma unroll
        for (int b = 0; b < 4; b++) {
            int d = d0 + tx * 4 + b;
            if (d >= D) continue;
            gS[row + d] = alpha * acc[a][b];
            if (WITH_T) gT[row + d] = -alpha * accT[a][b];
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
gram_bwd_gemm_s(const float* __restrict__ E, int P, int D, int i0, int h, int H, const float* __restrict__ sHat,
                float alpha, float* __restrict__ gS) {
    __shared__ __align__(16) float sm[3 * SLICE];
    gramBwdGemm<false>(E, P, D, i0, h, H, sHat, sHat, alpha, gS, gS, sm);
}

extern "C" __global__ void __launch_bounds__(256)
gram_bwd_gemm_st(const float* __restrict__ E, int P, int D, int i0, int h, int H, const float* __restrict__ sHat,
                 const float* __restrict__ tHat, float alpha, float* __restrict__ gS, float* __restrict__ gT) {
    __shared__ __align__(16) float sm[3 * SLICE];
    gramBwdGemm<true>(E, P, D, i0, h, H, sHat, tHat, alpha, gS, gT, sm);
}
