// Soft-target cross-entropy of the DINO / iBOT heads: one block per row of student logits s [R, K]
// with targets t [R, K] (Sinkhorn probabilities, possibly weighted: Σ_k t_rk need not be 1):
//   z = s·invT,  M = max_k z,  S = Σ_k exp(z − M),  T = Σ_k t,  Z = Σ_k t·(z − M)
//   loss_r   = −Σ_k t_k · log_softmax(z)_k = T·log S − Z          (both terms ≥ 0: no cancellation)
//   ∂loss_r/∂s_k = invT · (softmax(z)_k · T − t_k)
// Each thread keeps running (M, S, T, Z) over its strided elements (online rescaling when M grows),
// merged across the block in a fixed tree: deterministic, one read of s and t per row. z is rounded
// explicitly (__fmul_rn) so the forward statistics and the backward softmax see the same z.
#include "common.cuh"

struct CeStats {
    float m;    // running max of z
    float se;   // Σ exp(z − m)
    float st;   // Σ t
    float stz;  // Σ t·(z − m)
};

static __device__ __forceinline__ CeStats ceEmpty() { return CeStats{-INFINITY, 0.f, 0.f, 0.f}; }

static __device__ __forceinline__ void ceAdd(CeStats& a, float z, float t) {
    if (z > a.m) {
        if (a.m != -INFINITY) {  // re-base the sums on the new max
            float d = a.m - z;
            a.se *= expf(d);
            a.stz = fmaf(d, a.st, a.stz);
        }
        a.m = z;
    }
    a.se += expf(z - a.m);
    a.stz = fmaf(t, z - a.m, a.stz);
    a.st += t;
}

// Commutative (bitwise: IEEE + and fmaxf are), so the xor butterfly leaves every lane with the same value.
static __device__ __forceinline__ CeStats ceMerge(const CeStats& a, const CeStats& b) {
    CeStats r;
    r.m = fmaxf(a.m, b.m);
    float ea = a.m == -INFINITY ? 0.f : a.se * expf(a.m - r.m);
    float eb = b.m == -INFINITY ? 0.f : b.se * expf(b.m - r.m);
    float za = a.m == -INFINITY ? a.stz : fmaf(a.m - r.m, a.st, a.stz);
    float zb = b.m == -INFINITY ? b.stz : fmaf(b.m - r.m, b.st, b.stz);
    r.se = ea + eb;
    r.st = a.st + b.st;
    r.stz = za + zb;
    return r;
}

static __device__ __forceinline__ CeStats ceWarpMerge(CeStats v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        CeStats w;
        w.m = __shfl_xor_sync(0xffffffffu, v.m, o);
        w.se = __shfl_xor_sync(0xffffffffu, v.se, o);
        w.st = __shfl_xor_sync(0xffffffffu, v.st, o);
        w.stz = __shfl_xor_sync(0xffffffffu, v.stz, o);
        v = ceMerge(v, w);
    }
    return v;
}

// Block-wide merge (blockDim.x a multiple of 32); every thread gets the row's statistics.
// Starts and ends with a barrier-protected exchange through `sh` (33 entries).
static __device__ __forceinline__ CeStats ceBlockMerge(CeStats v, CeStats* sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = ceWarpMerge(v);
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    if (warp == 0) {
        CeStats w = lane < nw ? sh[lane] : ceEmpty();
        w = ceWarpMerge(w);
        if (lane == 0) sh[32] = w;
    }
    __syncthreads();
    return sh[32];
}

// grid = R blocks; rowLoss[r] = −Σ_k t_rk log_softmax(s_r·invT)_k.
extern "C" __global__ void __launch_bounds__(1024)
crossentropy_fwd(int R, int K, const float* __restrict__ s, const float* __restrict__ t, float invT,
                 float* __restrict__ rowLoss) {
    __shared__ CeStats sh[33];
    int r = blockIdx.x;
    if (r >= R) return;  // whole block: no barrier skipped by part of it
    const float* sr = s + (size_t)r * K;
    const float* tr = t + (size_t)r * K;
    CeStats a = ceEmpty();
#pragma unroll 4
    for (int k = threadIdx.x; k < K; k += blockDim.x) ceAdd(a, __fmul_rn(sr[k], invT), tr[k]);
    a = ceBlockMerge(a, sh);
    if (threadIdx.x == 0) rowLoss[r] = fmaf(a.st, logf(a.se), -a.stz);
}

// grid = R blocks; gs[r,k] = (softmax(s_r·invT)_k · Σt_r − t_rk) · invT · gRowLoss[r].
// The first `cache` elements of the row (s and t) are kept in dynamic shared memory (8·cache bytes)
// between the statistics pass and the write pass, so rows with K ≤ cache are read from HBM once; the
// uncached tail is re-read in reverse order (what was read last is the likeliest to still be in L2).
extern "C" __global__ void __launch_bounds__(1024)
crossentropy_bwd(int R, int K, const float* __restrict__ s, const float* __restrict__ t, float invT,
                 const float* __restrict__ gRowLoss, float* __restrict__ gs, int cache) {
    extern __shared__ float cacheS[];  // [cache] s, then [cache] t
    float* cacheT = cacheS + cache;
    __shared__ CeStats sh[33];
    int r = blockIdx.x;
    if (r >= R) return;
    const float* sr = s + (size_t)r * K;
    const float* tr = t + (size_t)r * K;
    float* gr = gs + (size_t)r * K;
    CeStats a = ceEmpty();
#pragma unroll 4
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
        float sv = sr[k], tv = tr[k];
        if (k < cache) { cacheS[k] = sv; cacheT[k] = tv; }
        ceAdd(a, __fmul_rn(sv, invT), tv);
    }
    a = ceBlockMerge(a, sh);  // its barriers also publish the cache
    float pscale = a.st / a.se;           // softmax_k · T = exp(z − M) · T / S
    float gscale = invT * gRowLoss[r];
#pragma unroll 4
    for (int k = K - 1 - (int)threadIdx.x; k >= 0; k -= (int)blockDim.x) {
        float sv, tv;
        if (k < cache) { sv = cacheS[k]; tv = cacheT[k]; }
        else { sv = sr[k]; tv = tr[k]; }
        float p = expf(__fmul_rn(sv, invT) - a.m);  // the same rounded z as the statistics: no fma contraction
        gr[k] = fmaf(p, pscale, -tv) * gscale;
    }
}
