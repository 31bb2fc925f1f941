// Fused optimiser updates over flat float arrays, with OptimizerKernels' semantics. Every operation uses
// an explicitly rounded intrinsic (no FMA contraction) in the CPU kernel's order, so results are
// bit-identical to OptimizerKernels (Java neither fuses nor reorders float arithmetic). Scalars (decay,
// 1−β, −lr/(1−β1^t), √(1−β2^t)) are computed by the launcher in double and rounded to float, as the CPU does.
#include "common.cuh"

// AdamW, one element per thread (grid-stride):
//   p *= decay; m += (g − m)·w1; v = β2·v + g·w2·g; p += m·negStep / (√v / bc2sqrt + eps)
extern "C" __global__ void optim_adamw(int n, float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                                       float* __restrict__ v, float decay, float w1, float w2, float beta2, float eps,
                                       float negStep, float bc2sqrt) {
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        const float g = grad[i];
        float p = __fmul_rn(param[i], decay);
        float mm = m[i];
        mm = __fadd_rn(mm, __fmul_rn(__fsub_rn(g, mm), w1));
        float vv = __fmul_rn(v[i], beta2);
        vv = __fadd_rn(vv, __fmul_rn(__fmul_rn(g, w2), g));
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vv), bc2sqrt), eps);
        p = __fadd_rn(p, __fdiv_rn(__fmul_rn(mm, negStep), denom));
        m[i] = mm;
        v[i] = vv;
        param[i] = p;
    }
}

// Teacher EMA: t = t·momentum + s·w with w = (float)(1 − momentum).
extern "C" __global__ void optim_ema(int n, float* __restrict__ teacher, const float* __restrict__ student, float momentum, float w) {
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        teacher[i] = __fadd_rn(__fmul_rn(teacher[i], momentum), __fmul_rn(student[i], w));
}
