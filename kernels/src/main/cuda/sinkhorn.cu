// Sinkhorn-Knopp teacher targets (SinkhornKernels.sinkhorn): logits x [B, K] -> Q [B, K].
//
// Q is never stored between iterations: it is kept factored as
//     Q[b,k] = u[b] · exp(x[b,k]·invT − m[k]) · v[k]
// m[k] = max_b x[b,k]·invT (a per-column shift, cancelled exactly by the first column normalisation, so
// exp never overflows), v[k] the column scale, u[b] the row scale. Sinkhorn's steps only rescale:
//     column step: v[k] = (1/K)    / Σ_b u[b]·exp(x·invT − m[k])
//     row step:    u[b] = (1/Btot) / Σ_k exp(x·invT − m[k])·v[k]
// and the result is Btot·u[b]·exp(..)·v[k]; the first column step absorbs the initial 1/total (and u=1).
// The launcher runs: col_lse (column max + sum in one online pass) -> col_lse_finish, then per further
// iteration row_scale -> col_scale -> col_finish, and final (last row step fused with the write):
// 2·iters + 1 reads of x and one write of Q (iters ≥ 1). Column sums are per-(row chunk) partials combined
// in chunk order; row sums use a fixed block tree: bit-reproducible, no atomics.
#include "common.cuh"

// Column pass 1: for column k (thread) and row chunk blockIdx.y, the running max m of x·invT and
// Σ exp(x·invT − m), into part[chunk][k]. grid (ceil(K/blockDim), chunks).
extern "C" __global__ void __launch_bounds__(256)
sinkhorn_col_lse(const float* __restrict__ x, int B, int K, float invT, int rowsPerChunk, float2* __restrict__ part) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= K) return;
    int b0 = blockIdx.y * rowsPerChunk, b1 = min(B, b0 + rowsPerChunk);
    float m = -INFINITY, s = 0.f;
#pragma unroll 4
    for (int b = b0; b < b1; b++) {
        float xv = x[(size_t)b * K + k];
        float z = xv * invT;
        if (z > m) { s *= expf(m - z); m = z; }  // expf(-inf) = 0 on the first element
        s += expf(fmaf(xv, invT, -m));
    }
    part[(size_t)blockIdx.y * K + k] = make_float2(m, s);
}

// Combines the chunk partials of col_lse in chunk order: mv[k] = (m_k, kInv / Σ_b exp(x·invT − m_k)),
// or with raw != 0 (iters = 0) (m_k, Σ_b exp(x·invT − m_k)) for sinkhorn_total. grid ceil(K/blockDim).
extern "C" __global__ void __launch_bounds__(256)
sinkhorn_col_lse_finish(const float2* __restrict__ part, int chunks, int K, float kInv, int raw, float2* __restrict__ mv) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= K) return;
    float m = -INFINITY;
    for (int c = 0; c < chunks; c++) m = fmaxf(m, part[(size_t)c * K + k].x);
    float s = 0.f;
    for (int c = 0; c < chunks; c++) {
        float2 p = part[(size_t)c * K + k];
        s += p.y * expf(p.x - m);
    }
    mv[k] = make_float2(m, raw ? s : kInv / s);
}

// iters = 0 only: Q = Btot · exp(x·invT) / Σ_all exp(x·invT). One block: global max M over the column
// maxima, total = Σ_k s_k·exp(m_k − M), then v[k] = Btot·exp(m_k − M)/total (each thread rewrites only
// the entries it read itself).
extern "C" __global__ void __launch_bounds__(1024)
sinkhorn_total(float2* __restrict__ mv, int K, float btot) {
    __shared__ float scratch[32];
    float mx = -INFINITY;
    for (int k = threadIdx.x; k < K; k += blockDim.x) mx = fmaxf(mx, mv[k].x);
    mx = blockMax(mx, scratch);
    float tot = 0.f;
    for (int k = threadIdx.x; k < K; k += blockDim.x) { float2 q = mv[k]; tot += q.y * expf(q.x - mx); }
    tot = blockSum(tot, scratch);
    float sc = btot / tot;
    for (int k = threadIdx.x; k < K; k += blockDim.x) { float2 q = mv[k]; mv[k] = make_float2(q.x, expf(q.x - mx) * sc); }
}

// Row step: u[b] = btotInv / Σ_k exp(x[b,k]·invT − m_k)·v_k. grid B, one block per row.
extern "C" __global__ void __launch_bounds__(1024)
sinkhorn_row_scale(const float* __restrict__ x, int K, float invT, const float2* __restrict__ mv, float btotInv,
                   float* __restrict__ u) {
    __shared__ float scratch[32];
    const float* xr = x + (size_t)blockIdx.x * K;
    float c = 0.f;
#pragma unroll 4
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
        float2 q = mv[k];
        c += expf(fmaf(xr[k], invT, -q.x)) * q.y;
    }
    c = blockSum(c, scratch);
    if (threadIdx.x == 0) u[blockIdx.x] = btotInv / c;
}

// Column step partials: part[chunk][k] = Σ_{b in chunk} u[b]·exp(x[b,k]·invT − m_k).
// grid (ceil(K/blockDim), chunks).
extern "C" __global__ void __launch_bounds__(256)
sinkhorn_col_scale(const float* __restrict__ x, int B, int K, float invT, const float2* __restrict__ mv,
                   const float* __restrict__ u, int rowsPerChunk, float* __restrict__ part) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= K) return;
    int b0 = blockIdx.y * rowsPerChunk, b1 = min(B, b0 + rowsPerChunk);
    float m = mv[k].x, acc = 0.f;
#pragma unroll 4
    for (int b = b0; b < b1; b++) acc += u[b] * expf(fmaf(x[(size_t)b * K + k], invT, -m));
    part[(size_t)blockIdx.y * K + k] = acc;
}

// Column step: v_k = kInv / Σ_chunks part[chunk][k] (chunk order). grid ceil(K/blockDim).
extern "C" __global__ void __launch_bounds__(256)
sinkhorn_col_finish(const float* __restrict__ part, int chunks, int K, float kInv, float2* __restrict__ mv) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= K) return;
    float s = 0.f;
    for (int c = 0; c < chunks; c++) s += part[(size_t)c * K + k];
    mv[k].y = kInv / s;
}

// Output, one block per row: Q[b,k] = exp(x·invT − m_k)·v_k·scale_b with scale_b = 1/Σ_k exp(..)·v_k
// (the last row step times Btot: rows sum to 1) when normalizeRows, else 1 (iters = 0: v holds it all).
// x and out may be the same buffer: each element is read and then written by the same thread, and the
// row-sum pass finishes (barrier) before any write. The write pass runs backwards so it starts on the
// part of the row read last (likeliest still in L2).
extern "C" __global__ void __launch_bounds__(1024)
sinkhorn_final(const float* x, float* out, int K, float invT, const float2* __restrict__ mv, int normalizeRows) {
    __shared__ float scratch[32];
    size_t o = (size_t)blockIdx.x * K;
    const float* xr = x + o;
    float* yr = out + o;
    float scale = 1.f;
    if (normalizeRows) {  // a kernel argument: uniform, so the barriers inside blockSum are safe
        float c = 0.f;
#pragma unroll 4
        for (int k = threadIdx.x; k < K; k += blockDim.x) {
            float2 q = mv[k];
            c += expf(fmaf(xr[k], invT, -q.x)) * q.y;
        }
        scale = 1.f / blockSum(c, scratch);
    }
#pragma unroll 4
    for (int k = K - 1 - (int)threadIdx.x; k >= 0; k -= (int)blockDim.x) {
        float2 q = mv[k];
        yr[k] = expf(fmaf(xr[k], invT, -q.x)) * q.y * scale;
    }
}
