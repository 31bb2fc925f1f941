// 2-D resize of planes [P, H, W] -> [P, OH, OW] and its exact adjoint, with ResizeKernels' semantics
// (PyTorch F.interpolate, align_corners = False; bilinear / bicubic, antialias on or off).
//
// Per-axis weight tables are built on the device by resize_axis_table, in double with explicitly rounded
// intrinsics (no FMA contraction), in the same operation order as ResizeKernels.axisWeights: the tables are
// bit-identical to the CPU's (start, len, (float) w). Layout per axis: output d reads input start[d] + j with
// weight w[d·maxLen + j], j < len[d] (entries len..maxLen−1 are 0).
//
// Forward = two separable gathers: along W (x -> tmp[P, H, OW]) then along H (tmp -> y).
// Backward = the transpose, also as gathers (deterministic, no atomics): along H (gy -> tmp[P, H, OW]), then
// along W (tmp -> gx). Each input index i sums the outputs d whose window holds it; resize_axis_range finds
// the range [lo[i], hi[i]) of such d, in ascending d, the order the CPU scatter accumulates in.
#include "common.cuh"

static __device__ __forceinline__ double rnAdd(double a, double b) { return __dadd_rn(a, b); }
static __device__ __forceinline__ double rnSub(double a, double b) { return __dsub_rn(a, b); }
static __device__ __forceinline__ double rnMul(double a, double b) { return __dmul_rn(a, b); }
static __device__ __forceinline__ double rnDiv(double a, double b) { return __ddiv_rn(a, b); }

// Keys cubic, |x| <= 1 and 1 < |x| < 2 (ResizeKernels.cubic1 / cubic2, same evaluation order).
static __device__ __forceinline__ double cubic1(double x, double a) {
    return rnAdd(rnMul(rnMul(rnSub(rnMul(rnAdd(a, 2.0), x), rnAdd(a, 3.0)), x), x), 1.0);
}
static __device__ __forceinline__ double cubic2(double x, double a) {
    return rnSub(rnMul(rnAdd(rnMul(rnSub(rnMul(a, x), rnMul(5.0, a)), x), rnMul(8.0, a)), x), rnMul(4.0, a));
}

static __device__ __forceinline__ double aaFilter(int bicubic, double x) {
    x = fabs(x);
    if (!bicubic) return x < 1.0 ? rnSub(1.0, x) : 0.0;
    const double a = -0.5;
    if (x < 1.0) return cubic1(x, a);
    if (x < 2.0) return cubic2(x, a);
    return 0.0;
}

static __device__ __forceinline__ int clampIdx(int i, int n) { return min(max(i, 0), n - 1); }

// One thread per output index d. mode: 0 bilinear, 1 bicubic. maxLen as the launcher computed it
// (ResizeKernels: ceil(support)·2 + 1 with antialias, else 2 / 4).
extern "C" __global__ void resize_axis_table(int bicubic, int antialias, int in, int out, int maxLen,
                                             int* __restrict__ start, int* __restrict__ len, float* __restrict__ w) {
    const int d = blockIdx.x * blockDim.x + threadIdx.x;
    if (d >= out) return;
    const double scale = rnDiv((double)in, (double)out);
    float* wd = w + (long)d * maxLen;
    for (int j = 0; j < maxLen; j++) wd[j] = 0.f;
    if (antialias) {
        const double interp = bicubic ? 4.0 : 2.0;
        const double support = scale >= 1.0 ? rnMul(rnMul(interp, 0.5), scale) : rnMul(interp, 0.5);
        const double invscale = scale >= 1.0 ? rnDiv(1.0, scale) : 1.0;
        const double center = rnMul(scale, rnAdd((double)d, 0.5));
        const int xmin = max((int)rnAdd(rnSub(center, support), 0.5), 0);
        int xsize = min((int)rnAdd(rnAdd(center, support), 0.5), in) - xmin;
        xsize = max(0, min(xsize, maxLen));
        double total = 0.0;
        for (int j = 0; j < xsize; j++)
            total = rnAdd(total, aaFilter(bicubic, rnMul(rnAdd(rnSub((double)(j + xmin), center), 0.5), invscale)));
        for (int j = 0; j < xsize; j++) {
            double v = aaFilter(bicubic, rnMul(rnAdd(rnSub((double)(j + xmin), center), 0.5), invscale));
            if (total != 0.0) v = rnDiv(v, total);
            wd[j] = (float)v;
        }
        start[d] = xmin;
        len[d] = xsize;
    } else if (!bicubic) {
        const double real = fmax(rnSub(rnMul(scale, rnAdd((double)d, 0.5)), 0.5), 0.0);
        const int i0 = min((int)real, in - 1);
        const double l1 = fmin(fmax(rnSub(real, (double)i0), 0.0), 1.0);
        start[d] = i0;
        if (i0 < in - 1) { len[d] = 2; wd[0] = (float)rnSub(1.0, l1); wd[1] = (float)l1; }
        else             { len[d] = 1; wd[0] = 1.f; }
    } else {
        const double A = -0.75;
        const double real = rnSub(rnMul(scale, rnAdd((double)d, 0.5)), 0.5);
        const int ix = (int)floor(real);
        const double t = rnSub(real, (double)ix);
        const double c0 = cubic2(rnAdd(t, 1.0), A), c1 = cubic1(t, A), c2 = cubic1(rnSub(1.0, t), A), c3 = cubic2(rnSub(2.0, t), A);
        const int lo = clampIdx(ix - 1, in), hi = clampIdx(ix + 2, in);
        const int k0 = clampIdx(ix - 1, in) - lo, k1 = clampIdx(ix, in) - lo, k2 = clampIdx(ix + 1, in) - lo, k3 = clampIdx(ix + 2, in) - lo;
        // taps clamped onto the same input merge, summed in tap order as the CPU does (registers only)
#pragma unroll
        for (int s = 0; s < 4; s++) {
            double acc = 0.0;
            if (k0 == s) acc = rnAdd(acc, c0);
            if (k1 == s) acc = rnAdd(acc, c1);
            if (k2 == s) acc = rnAdd(acc, c2);
            if (k3 == s) acc = rnAdd(acc, c3);
            if (s < maxLen) wd[s] = (float)acc;
        }
        start[d] = lo;
        len[d] = hi - lo + 1;
    }
}

// One thread per input index i: [lo[i], hi[i]) = the outputs d with start[d] <= i < start[d] + len[d]
// (empty: lo = hi = 0). Scans every d, so it assumes nothing about monotone windows.
extern "C" __global__ void resize_axis_range(int in, int out, const int* __restrict__ start, const int* __restrict__ len,
                                             int* __restrict__ lo, int* __restrict__ hi) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= in) return;
    int first = -1, last = -1;
    for (int d = 0; d < out; d++) {
        int k = i - start[d];
        if (k >= 0 && k < len[d]) { if (first < 0) first = d; last = d; }
    }
    lo[i] = first < 0 ? 0 : first;
    hi[i] = first < 0 ? 0 : last + 1;
}

// tmp[p, h, ox] = Σ_j w[ox, j]·x[p, h, start[ox] + j]; one thread per tmp element.
extern "C" __global__ void resize_fwd_w(long n, int W, int OW, const float* __restrict__ x, const int* __restrict__ start,
                                        const int* __restrict__ len, const float* __restrict__ w, int maxLen, float* __restrict__ tmp) {
    const long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const int ox = (int)(t % OW);
    const long ph = t / OW;                        // p·H + h
    const float* xr = x + ph * W + start[ox];
    const float* wr = w + (long)ox * maxLen;
    const int k = len[ox];
    float acc = 0.f;
    for (int j = 0; j < k; j++) acc += wr[j] * xr[j];
    tmp[t] = acc;
}

// y[p, oy, ox] = Σ_j w[oy, j]·tmp[p, start[oy] + j, ox]; one thread per output element.
extern "C" __global__ void resize_fwd_h(long n, int H, int OH, int OW, const float* __restrict__ tmp, const int* __restrict__ start,
                                        const int* __restrict__ len, const float* __restrict__ w, int maxLen, float* __restrict__ y) {
    const long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const int ox = (int)(t % OW);
    const long r = t / OW;
    const int oy = (int)(r % OH);
    const long p = r / OH;
    const float* tr = tmp + (p * H + start[oy]) * OW + ox;
    const float* wr = w + (long)oy * maxLen;
    const int k = len[oy];
    float acc = 0.f;
    for (int j = 0; j < k; j++) acc += wr[j] * tr[(long)j * OW];
    y[t] = acc;
}

// Adjoint along H: tmp[p, h, ox] = Σ_{oy ∋ h} w[oy, h − start[oy]]·gy[p, oy, ox]; one thread per tmp element.
extern "C" __global__ void resize_bwd_h(long n, int H, int OH, int OW, const float* __restrict__ gy, const int* __restrict__ start,
                                        const int* __restrict__ len, const float* __restrict__ w, int maxLen,
                                        const int* __restrict__ lo, const int* __restrict__ hi, float* __restrict__ tmp) {
    const long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const int ox = (int)(t % OW);
    const long r = t / OW;
    const int h = (int)(r % H);
    const long p = r / H;
    const float* gp = gy + p * OH * (long)OW + ox;
    float acc = 0.f;
    for (int oy = lo[h], e = hi[h]; oy < e; oy++) {
        int k = h - start[oy];
        if (k >= 0 && k < len[oy]) acc += w[(long)oy * maxLen + k] * gp[(long)oy * OW];
    }
    tmp[t] = acc;
}

// Adjoint along W: gx[p, h, iw] = Σ_{ox ∋ iw} w[ox, iw − start[ox]]·tmp[p, h, ox]; one thread per gx element (written).
extern "C" __global__ void resize_bwd_w(long n, int W, int OW, const float* __restrict__ tmp, const int* __restrict__ start,
                                        const int* __restrict__ len, const float* __restrict__ w, int maxLen,
                                        const int* __restrict__ lo, const int* __restrict__ hi, float* __restrict__ gx) {
    const long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const int iw = (int)(t % W);
    const long ph = t / W;                         // p·H + h
    const float* tr = tmp + ph * OW;
    float acc = 0.f;
    for (int ox = lo[iw], e = hi[iw]; ox < e; ox++) {
        int k = iw - start[ox];
        if (k >= 0 && k < len[ox]) acc += w[(long)ox * maxLen + k] * tr[ox];
    }
    gx[t] = acc;
}
