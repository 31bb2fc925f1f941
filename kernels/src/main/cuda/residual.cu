// The LayerScale residual out = x + y ⊙ γ (γ per column of [rows, cols]) and its backward gy = g ⊙ γ,
// gγ += Σ_rows g ⊙ y, with ResidualKernels' semantics and rounding: the forward is one fmaf (the CPU uses
// Math.fma), and the γ gradient is reduced exactly as the CPU does, so results are bit-identical: fmaf
// over each 64-row task in row order (residual_bwd_partial), then the task partials added into gγ in task
// order (residual_bwd_final). Deterministic, no atomics.
#include "common.cuh"

#define RESIDUAL_ROW_GRAIN 64   // = ResidualKernels.ROW_GRAIN

extern "C" __global__ void residual_fwd(long n, int cols, const float* x, const float* y, const float* __restrict__ gamma, float* out) {
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        out[i] = fmaf(y[i], gamma[i % cols], x[i]);
}

// One thread per (task, column): gy[r, col] = g[r, col]·γ[col] (gy nullable) and, when partial != null,
// partial[task·cols + col] = fma-chain of g·y over the task's rows. grid.x·blockDim.x >= tasks·cols.
extern "C" __global__ void residual_bwd_partial(int rows, int cols, const float* __restrict__ g, const float* __restrict__ y,
                                                const float* __restrict__ gamma, float* __restrict__ gy, float* __restrict__ partial) {
    const long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    const long tasks = ((long)rows + RESIDUAL_ROW_GRAIN - 1) / RESIDUAL_ROW_GRAIN;
    if (t >= tasks * cols) return;
    const int col = (int)(t % cols);
    const long task = t / cols;
    const long r0 = task * RESIDUAL_ROW_GRAIN, r1 = min((long)rows, r0 + RESIDUAL_ROW_GRAIN);
    const float gm = gamma[col];
    float acc = 0.f;
    for (long r = r0; r < r1; r++) {
        const long i = r * cols + col;
        const float gv = g[i];
        if (gy) gy[i] = gv * gm;
        if (partial) acc = fmaf(gv, y[i], acc);
    }
    if (partial) partial[t] = acc;
}

// One thread per column: gGamma[col] += partial[task·cols + col] for task ascending (float, as the CPU).
extern "C" __global__ void residual_bwd_final(int cols, int tasks, const float* __restrict__ partial, float* __restrict__ gGamma) {
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    float s = gGamma[col];
    for (int k = 0; k < tasks; k++) s += partial[(long)k * cols + col];
    gGamma[col] = s;
}
