// Element-wise family: broadcasting binary ops, unary ops (forward and backward), strided copies (with a
// tiled transpose path), fill, indexSelect / indexAdd. float32 unless said. Semantics follow
// ElementwiseKernels (Java): MAX/MIN propagate NaN and rank +0 above -0 (Math.max/min), POW is Math.pow
// computed in double, RSQRT is 1/sqrt (IEEE, no rsqrtf approximation), GELU is the exact erf form.
// exp/log/tanh/erfc come from CUDA's accurate (non fast-math) library, not the CPU's Cephes polynomials:
// results agree to a few ulp, but exp overflows to +inf where VectorMath.exp saturates near 3.4e38.
// Backward of TANH / SIGMOID / SILU uses cancellation-free forms of the same derivatives.
//
// Strided kernels take shapes and element strides as by-value Dims8 (the launcher has dropped size-1
// dims and merged contiguous ones) plus, per dim, a magic-number divider so unravelling a linear index
// costs a mul-hi and a shift per dim instead of an integer division. Linear indices are 32-bit (the
// launcher checks numel < 2^31); element offsets are computed in 64-bit.
#include "common.cuh"

struct Dims8 { int d[8]; };

// ---------------------------------------------------------------------------------- helpers

// q = n / d for n < 2^31, with (magic, shift) from the launcher: shift = ceil(log2 d),
// magic = floor(2^32 (2^shift - d) / d) + 1 (Granlund–Montgomery, as in PyTorch's IntDivider).
static __device__ __forceinline__ unsigned fastDiv(unsigned n, unsigned magic, int shift) {
    return (__umulhi(n, magic) + n) >> shift;
}


// aligned16, jmax and jmin live in common.cuh.

// (float) Math.pow(x, y): C pow in double plus Java's two differences (pow(±1, ±inf) and pow(1, NaN) are NaN).
static __device__ __forceinline__ float jpow(float x, float y) {
    if (y != y) return y;
    if (fabsf(x) == 1.f && isinf(y)) return __int_as_float(0x7fc00000);
    return (float)pow((double)x, (double)y);
}

// sin/cos as the CPU takes them, (float) Math.sin((double) x), from a double argument reduction and
// double polynomials. Why not sinf/cosf: their Payne–Hanek path keeps a small array that ptxas may put in
// local memory (it did in the backward kernels), and the build forbids any stack frame. Here everything
// stays in registers: |x| < 2^28 reduces by Cody–Waite with π/2 as three doubles (fma, exact enough for
// every float); larger |x| multiplies the 24-bit mantissa by a 96-bit window of 2/π's bits (Payne–Hanek
// in integers, as in ARM's optimized-routines sincosf). Checked against 300-bit references on ±[2^-30, 2^128).
__constant__ unsigned TWO_OVER_PI_BITS[8] = {0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u,
                                             0xdb629599u, 0x3c439041u, 0xfe5163abu, 0xdebbc561u};

// r ∈ [-π/4, π/4] and quadrant q with x = r + q·π/2 (mod 2π).
static __device__ __forceinline__ double trigReduce(float x, int& q) {
    if (fabsf(x) < 268435456.f) {                       // 2^28
        double n = rint((double)x * 0.63661977236758134);
        double r = fma(-n, 1.5707963267948966, (double)x);
        r = fma(-n, 6.123233995736766e-17, r);
        r = fma(-n, -1.4973849048591698e-33, r);
        q = (int)(long long)n & 3;
        return r;
    }
    const unsigned b = __float_as_uint(x);
    const int e = (int)((b >> 23) & 0xff) - 127;        // 28..127 (inf/NaN never reach here: callers check)
    const unsigned m = (b & 0x7fffffu) | 0x800000u;
    const int s = e - 25, k = s >> 5, off = s & 31;      // 2/π bits s+1 .. s+96 matter (k ≤ 3)
    const unsigned w0 = __funnelshift_l(TWO_OVER_PI_BITS[k + 1], TWO_OVER_PI_BITS[k], off);
    const unsigned w1 = __funnelshift_l(TWO_OVER_PI_BITS[k + 2], TWO_OVER_PI_BITS[k + 1], off);
    const unsigned w2 = __funnelshift_l(TWO_OVER_PI_BITS[k + 3], TWO_OVER_PI_BITS[k + 2], off);
    const unsigned long long p2 = (unsigned long long)m * w2;
    const unsigned long long p1 = (unsigned long long)m * w1 + (p2 >> 32);
    const unsigned r0 = m * w0 + (unsigned)(p1 >> 32);
    unsigned long long h = ((unsigned long long)r0 << 32) | (unsigned)p1;   // (x·2/π mod 4)/4 in 0.64 fixed point
    const unsigned long long n = (h + (1ull << 61)) >> 62;                 // nearest quadrant (4 wraps to 0)
    h -= n << 62;
    double r = (double)(long long)h * 3.4061215800865545e-19;              // · π/2 / 2^62
    int qq = (int)n;
    if (x < 0.f) { r = -r; qq = -qq; }
    q = qq & 3;
    return r;
}

// Taylor polynomials on |r| ≤ π/4 (truncation < 1e-16).
static __device__ __forceinline__ double sinPoly(double r) {
    double z = r * r;
    double p = 2.8114572543455206e-15;                  // 1/17!
    p = fma(p, z, -7.6471637318198164e-13);             // -1/15!
    p = fma(p, z, 1.6059043836821613e-10);              // 1/13!
    p = fma(p, z, -2.5052108385441720e-08);             // -1/11!
    p = fma(p, z, 2.7557319223985893e-06);              // 1/9!
    p = fma(p, z, -1.9841269841269841e-04);             // -1/7!
    p = fma(p, z, 8.3333333333333333e-03);              // 1/5!
    p = fma(p, z, -1.6666666666666667e-01);             // -1/3!
    return fma(r * z, p, r);
}
static __device__ __forceinline__ double cosPoly(double r) {
    double z = r * r;
    double p = -1.5619206968586225e-16;                 // -1/18!
    p = fma(p, z, 4.7794773323873853e-14);              // 1/16!
    p = fma(p, z, -1.1470745597729725e-11);             // -1/14!
    p = fma(p, z, 2.0876756987868099e-09);              // 1/12!
    p = fma(p, z, -2.7557319223985891e-07);             // -1/10!
    p = fma(p, z, 2.4801587301587302e-05);              // 1/8!
    p = fma(p, z, -1.3888888888888889e-03);             // -1/6!
    p = fma(p, z, 4.1666666666666667e-02);              // 1/4!
    p = fma(p, z, -0.5);                                // -1/2!
    return fma(z, p, 1.0);
}

// sin(x + shift·π/2) in double: shift 0 gives sin, 1 gives cos.
static __device__ __forceinline__ double sinQuadrant(float x, int shift) {
    if (!isfinite(x)) return (double)(x - x);           // NaN for ±inf and NaN
    int q;
    double r = trigReduce(x, q);
    q = (q + shift) & 3;
    double v = (q & 1) ? cosPoly(r) : sinPoly(r);
    return (q & 2) ? -v : v;
}

// ---------------------------------------------------------------------------------- operators

// Op codes: the order of dino4j.kernels.BinaryOp / UnaryOp (kernel names carry the op name, not the code).
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_POW };
enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_RSQRT, U_ABS, U_TANH, U_SIGMOID, U_RELU, U_GELU, U_SILU, U_SQUARE,
       U_RECIPROCAL, U_SIN, U_COS };

template <int OP> static __device__ __forceinline__ float binop(float x, float y) {
    if constexpr (OP == B_ADD) return x + y;
    else if constexpr (OP == B_SUB) return x - y;
    else if constexpr (OP == B_MUL) return x * y;
    else if constexpr (OP == B_DIV) return x / y;
    else if constexpr (OP == B_MAX) return jmax(x, y);
    else if constexpr (OP == B_MIN) return jmin(x, y);
    else return jpow(x, y);
}

#define INV_SQRT_2PI 0.3989422804014327f

static __device__ __forceinline__ float sigmoidf(float x) { return 1.f / (1.f + expf(-x)); }

template <int OP> static __device__ __forceinline__ float unop(float x) {
    if constexpr (OP == U_NEG) return -x;
    else if constexpr (OP == U_EXP) return expf(x);
    else if constexpr (OP == U_LOG) return logf(x);
    else if constexpr (OP == U_SQRT) return sqrtf(x);
    else if constexpr (OP == U_RSQRT) return __frcp_rn(__fsqrt_rn(x));   // = 1.f / sqrtf(x), both correctly rounded
    else if constexpr (OP == U_ABS) return fabsf(x);
    else if constexpr (OP == U_TANH) return tanhf(x);
    else if constexpr (OP == U_SIGMOID) return sigmoidf(x);
    else if constexpr (OP == U_RELU) return x > 0.f ? x : (x != x ? x : 0.f);   // NaN stays NaN, like max(x, 0)
    else if constexpr (OP == U_GELU) return x * normcdff(x);
    else if constexpr (OP == U_SILU) return x / (1.f + expf(-x));
    else if constexpr (OP == U_SQUARE) return x * x;
    else if constexpr (OP == U_RECIPROCAL) return 1.f / x;
    else if constexpr (OP == U_SIN) return (float)sinQuadrant(x, 0);
    else return (float)sinQuadrant(x, 1);
}

// gy·f'(x), in the CPU kernel's order of operations.
template <int OP> static __device__ __forceinline__ float ungrad(float x, float g) {
    if constexpr (OP == U_NEG) return -g;
    else if constexpr (OP == U_EXP) return g * expf(x);
    else if constexpr (OP == U_LOG) return g / x;
    else if constexpr (OP == U_SQRT) return (g * 0.5f) / sqrtf(x);
    else if constexpr (OP == U_RSQRT) return (g * -0.5f) / (x * sqrtf(x));
    else if constexpr (OP == U_ABS) return x > 0.f ? g : (x == 0.f ? 0.f : 0.f - g);
    // tanh' = sech² = 4e/(1+e)², sigmoid' = e/(1+e)² with e = exp(-2|x|) resp. exp(-|x|): the CPU's
    // 1 - t² and s(1 - s) cancel catastrophically for large |x| (1e-4 relative error at |x| = 4).
    else if constexpr (OP == U_TANH) { float e = expf(-2.f * fabsf(x)), d = 1.f + e; return g * ((4.f * e) / (d * d)); }
    else if constexpr (OP == U_SIGMOID) { float e = expf(-fabsf(x)), d = 1.f + e; return g * (e / (d * d)); }
    else if constexpr (OP == U_RELU) return x > 0.f ? g : 0.f;
    else if constexpr (OP == U_GELU) {
        // pdf = exp(-x²/2)/√(2π) with x² = hi + 2·lo carried exactly (fma split): exp(-hi/2)·(1 - lo)
        float hi = x * x, lo = 0.5f * fmaf(x, x, -hi);
        float pdf = expf(-0.5f * hi) * (1.f - lo) * INV_SQRT_2PI;
        return g * fmaf(x, pdf, normcdff(x));
    }
    else if constexpr (OP == U_SILU) {
        float e = expf(-x), s = 1.f / (1.f + e);
        float oms = x >= 0.f ? e * s : 1.f - s;           // 1 - s without cancellation on either side
        return g * (s * (x * oms + 1.f));
    }
    else if constexpr (OP == U_SQUARE) return (g * x) * 2.f;
    else if constexpr (OP == U_RECIPROCAL) return -g / (x * x);
    else if constexpr (OP == U_SIN) return (float)((double)g * sinQuadrant(x, 1));
    else return (float)((double)g * -sinQuadrant(x, 0));
}

// ---------------------------------------------------------------------------------- binary

// Contiguous, same shape: out[i] = a[i] op b[i]; float4 when all three pointers are 16-byte aligned.
// No __restrict__: out may alias a or b (in-place accumulation).
template <int OP>
static __device__ __forceinline__ void binaryContig(long long n, const float* a, const float* b, float* out) {
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x, stride = (long long)gridDim.x * blockDim.x;
    long long done = 0;
    if (aligned16(a) && aligned16(b) && aligned16(out)) {
        long long n4 = n >> 2;
        const float4* a4 = reinterpret_cast<const float4*>(a);
        const float4* b4 = reinterpret_cast<const float4*>(b);
        float4* o4 = reinterpret_cast<float4*>(out);
        for (long long i = tid; i < n4; i += stride) {
            float4 x = a4[i], y = b4[i];
            o4[i] = make_float4(binop<OP>(x.x, y.x), binop<OP>(x.y, y.y), binop<OP>(x.z, y.z), binop<OP>(x.w, y.w));
        }
        done = n4 << 2;
    }
    for (long long i = done + tid; i < n; i += stride) out[i] = binop<OP>(a[i], b[i]);
}

// out[r, c] (contiguous [rows, cols]) = a[r·ar + c·ac] op b[r·br + c·bc] with ac, bc ∈ {0, 1}: covers the
// bias row (br = 0, bc = 1), a per-row column (br = 1, bc = 0), a scalar (0, 0) and either operand
// contiguous. One linear loop over the output, r = i / cols via the magic divider (magicS/shiftS for
// cols, magicV/shiftV for cols/4). vec (the launcher: cols % 4 == 0 and row starts 16-byte aligned) turns
// on float4 when the base pointers are aligned too.
template <int OP>
static __device__ __forceinline__ void binaryRows(int rows, int cols, int magicS, int shiftS, int magicV, int shiftV, int vec,
                                                  const float* a, int ar, int ac, const float* b, int br, int bc, float* out) {
    unsigned tid = blockIdx.x * blockDim.x + threadIdx.x, stride = gridDim.x * blockDim.x;
    unsigned total = (unsigned)rows * (unsigned)cols;   // < 2^31 (launcher)
    if (vec && aligned16(a) && aligned16(b) && aligned16(out)) {
        unsigned cols4 = (unsigned)cols >> 2, total4 = total >> 2;
        for (unsigned i = tid; i < total4; i += stride) {
            unsigned r = fastDiv(i, (unsigned)magicV, shiftV), c = (i - r * cols4) << 2;
            long long ia = (long long)r * ar, ib = (long long)r * br;
            float4 x, y;
            if (ac) x = *reinterpret_cast<const float4*>(a + ia + c);
            else { float s = a[ia]; x = make_float4(s, s, s, s); }
            if (bc) y = *reinterpret_cast<const float4*>(b + ib + c);
            else { float s = b[ib]; y = make_float4(s, s, s, s); }
            reinterpret_cast<float4*>(out)[i] =
                make_float4(binop<OP>(x.x, y.x), binop<OP>(x.y, y.y), binop<OP>(x.z, y.z), binop<OP>(x.w, y.w));
        }
        return;
    }
    for (unsigned i = tid; i < total; i += stride) {
        unsigned r = fastDiv(i, (unsigned)magicS, shiftS), c = i - r * (unsigned)cols;
        out[i] = binop<OP>(a[(long long)r * ar + (long long)c * ac], b[(long long)r * br + (long long)c * bc]);
    }
}

// Element offsets oa = Σ coord_k·sa_k and ob = Σ coord_k·sb_k of the i-th element of shape[0..rank) (row-major),
// the coordinates peeled off innermost first with the launcher's magic-number divisions.
static __device__ __forceinline__ void unravel2(unsigned i, int rank, const Dims8& shape, const Dims8& magic, const Dims8& shift,
                                                const Dims8& sa, const Dims8& sb, long long& oa, long long& ob) {
    unsigned rem = i;
    oa = 0;
    ob = 0;
#pragma unroll
    for (int k = 7; k >= 0; k--) {
        if (k < rank) {
            unsigned q = fastDiv(rem, (unsigned)magic.d[k], shift.d[k]);
            int coord = (int)(rem - q * (unsigned)shape.d[k]);
            rem = q;
            oa += (long long)coord * sa.d[k];
            ob += (long long)coord * sb.d[k];
        }
    }
}

// General case: out contiguous over shape[0..rank), a and b at arbitrary element strides (0 broadcasts).
template <int OP>
static __device__ __forceinline__ void binaryStrided(int n, int rank, const Dims8& shape, const Dims8& magic, const Dims8& shift,
                                                     const float* a, const Dims8& sa, const float* b, const Dims8& sb, float* out) {
    unsigned tid = blockIdx.x * blockDim.x + threadIdx.x, stride = gridDim.x * blockDim.x;
    for (unsigned i = tid; i < (unsigned)n; i += stride) {
        long long oa, ob;
        unravel2(i, rank, shape, magic, shift, sa, sb, oa, ob);
        out[i] = binop<OP>(a[oa], b[ob]);
    }
}

#define BINARY_KERNELS(NAME, OP)                                                                                      \
    extern "C" __global__ void elementwise_binary_contig_##NAME(                             \
        long long n, const float* a, const float* b, float* out) {                                                   \
        binaryContig<OP>(n, a, b, out);                                                                               \
    }                                                                                                                 \
    extern "C" __global__ void elementwise_binary_rows_##NAME(                               \
        int rows, int cols, int magicS, int shiftS, int magicV, int shiftV, int vec,                                  \
        const float* a, int ar, int ac, const float* b, int br, int bc, float* out) {                                \
        binaryRows<OP>(rows, cols, magicS, shiftS, magicV, shiftV, vec, a, ar, ac, b, br, bc, out);                  \
    }                                                                                                                 \
    extern "C" __global__ void elementwise_binary_strided_##NAME(                            \
        int n, int rank, Dims8 shape, Dims8 magic, Dims8 shift, const float* a, Dims8 sa, const float* b, Dims8 sb,  \
        float* out) {                                                                                                 \
        binaryStrided<OP>(n, rank, shape, magic, shift, a, sa, b, sb, out);                                           \
    }

BINARY_KERNELS(add, B_ADD)
BINARY_KERNELS(sub, B_SUB)
BINARY_KERNELS(mul, B_MUL)
BINARY_KERNELS(div, B_DIV)
BINARY_KERNELS(max, B_MAX)
BINARY_KERNELS(min, B_MIN)
BINARY_KERNELS(pow, B_POW)

// ---------------------------------------------------------------------------------- unary

// y = f(x) and gx = gy·f'(x), contiguous; float4 when aligned. y may alias x (no __restrict__).
template <int OP>
static __device__ __forceinline__ void unaryContig(long long n, const float* x, float* y) {
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x, stride = (long long)gridDim.x * blockDim.x;
    long long done = 0;
    if (aligned16(x) && aligned16(y)) {
        long long n4 = n >> 2;
        for (long long i = tid; i < n4; i += stride) {
            float4 v = reinterpret_cast<const float4*>(x)[i];
            reinterpret_cast<float4*>(y)[i] = make_float4(unop<OP>(v.x), unop<OP>(v.y), unop<OP>(v.z), unop<OP>(v.w));
        }
        done = n4 << 2;
    }
    for (long long i = done + tid; i < n; i += stride) y[i] = unop<OP>(x[i]);
}

template <int OP>
static __device__ __forceinline__ void unaryGradContig(long long n, const float* x, const float* gy, float* gx) {
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x, stride = (long long)gridDim.x * blockDim.x;
    long long done = 0;
    if (aligned16(x) && aligned16(gy) && aligned16(gx)) {
        long long n4 = n >> 2;
        for (long long i = tid; i < n4; i += stride) {
            float4 v = reinterpret_cast<const float4*>(x)[i], g = reinterpret_cast<const float4*>(gy)[i];
            reinterpret_cast<float4*>(gx)[i] =
                make_float4(ungrad<OP>(v.x, g.x), ungrad<OP>(v.y, g.y), ungrad<OP>(v.z, g.z), ungrad<OP>(v.w, g.w));
        }
        done = n4 << 2;
    }
    for (long long i = done + tid; i < n; i += stride) gx[i] = ungrad<OP>(x[i], gy[i]);
}

#define UNARY_KERNELS(NAME, OP)                                                                                  \
    extern "C" __global__ void elementwise_unary_##NAME(long long n, const float* x,    \
                                                                              float* y) {                      \
        unaryContig<OP>(n, x, y);                                                                                \
    }                                                                                                            \
    extern "C" __global__ void elementwise_unary_grad_##NAME(                           \
        long long n, const float* x, const float* gy, float* gx) {                                              \
        unaryGradContig<OP>(n, x, gy, gx);                                                                       \
    }

UNARY_KERNELS(neg, U_NEG)
UNARY_KERNELS(exp, U_EXP)
UNARY_KERNELS(log, U_LOG)
UNARY_KERNELS(sqrt, U_SQRT)
UNARY_KERNELS(rsqrt, U_RSQRT)
UNARY_KERNELS(abs, U_ABS)
UNARY_KERNELS(tanh, U_TANH)
UNARY_KERNELS(sigmoid, U_SIGMOID)
UNARY_KERNELS(relu, U_RELU)
UNARY_KERNELS(gelu, U_GELU)
UNARY_KERNELS(silu, U_SILU)
UNARY_KERNELS(square, U_SQUARE)
UNARY_KERNELS(reciprocal, U_RECIPROCAL)
UNARY_KERNELS(sin, U_SIN)
UNARY_KERNELS(cos, U_COS)

// ---------------------------------------------------------------------------------- SwiGLU

// y = silu(a)·b, and its backward ga = (gy·b)·silu'(a), gb = gy·silu(a): one pass each instead of SiLU, the
// product and their two backwards (five passes over the hidden activations), same operations in the same
// order as that composition on the CPU. Contiguous, a/b/gy read once.
extern "C" __global__ void elementwise_swiglu(long long n, const float* __restrict__ a, const float* __restrict__ b,
                                              float* __restrict__ y) {
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x, stride = (long long)gridDim.x * blockDim.x;
    for (long long i = tid; i < n; i += stride) y[i] = unop<U_SILU>(a[i]) * b[i];
}

extern "C" __global__ void elementwise_swiglu_grad(long long n, const float* __restrict__ a, const float* __restrict__ b,
                                                   const float* __restrict__ gy, float* __restrict__ ga, float* __restrict__ gb) {
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x, stride = (long long)gridDim.x * blockDim.x;
    for (long long i = tid; i < n; i += stride) {
        float x = a[i], g = gy[i];
        ga[i] = ungrad<U_SILU>(x, g * b[i]);
        gb[i] = g * unop<U_SILU>(x);
    }
}

// ---------------------------------------------------------------------------------- fill

extern "C" __global__ void elementwise_fill(long long n, float value, float* __restrict__ y) {
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x, stride = (long long)gridDim.x * blockDim.x;
    long long done = 0;
    if (aligned16(y)) {
        long long n4 = n >> 2;
        float4 v = make_float4(value, value, value, value);
        for (long long i = tid; i < n4; i += stride) reinterpret_cast<float4*>(y)[i] = v;
        done = n4 << 2;
    }
    for (long long i = done + tid; i < n; i += stride) y[i] = value;
}

// ---------------------------------------------------------------------------------- strided copies

// dst[unravel(i)·dstStrides] = src[unravel(i)·srcStrides] for any element size (copied as raw bits).
template <typename T>
static __device__ __forceinline__ void copyStrided(int n, int rank, const Dims8& shape, const Dims8& magic, const Dims8& shift,
                                                   const T* __restrict__ src, const Dims8& ss, T* __restrict__ dst, const Dims8& ds) {
    unsigned tid = blockIdx.x * blockDim.x + threadIdx.x, stride = gridDim.x * blockDim.x;
    for (unsigned i = tid; i < (unsigned)n; i += stride) {
        long long os, od;
        unravel2(i, rank, shape, magic, shift, ss, ds, os, od);
        dst[od] = src[os];
    }
}

// Transposing copy: over the last two dims [R, C] the source is contiguous along R (ss[rank-2] == 1) and
// the destination along C (ds[rank-1] == 1), so a 32×32 tile goes through shared memory to keep both the
// reads and the writes coalesced. Block 32×8; one tile per block iteration; blockIdx.x walks
// (lead index, tileR, tileC), the lead index running over dims [0, lead) = all but the last two. The last
// two dims come as scalars (R, C, source stride cs of C, destination stride rsd of R): indexing a by-value
// Dims8 with a runtime index would put it in local memory.
template <typename T>
static __device__ __forceinline__ void copyTransposed(int lead, const Dims8& shape, const Dims8& magic, const Dims8& shift,
                                                      const T* __restrict__ src, const Dims8& ss, T* __restrict__ dst,
                                                      const Dims8& ds, int R, int C, int cs, int rsd, int tilesR, int tilesC,
                                                      long long tiles) {
    __shared__ T tile[32][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    for (long long blk = blockIdx.x; blk < tiles; blk += gridDim.x) {       // uniform over the block
        long long t = blk;
        int tc = (int)(t % tilesC); t /= tilesC;
        int tr = (int)(t % tilesR); t /= tilesR;
        unsigned rem = (unsigned)t;                                          // lead index < 2^31
        long long bs = 0, bd = 0;
#pragma unroll
        for (int k = 5; k >= 0; k--) {                                       // dims [0, lead) hold the lead index
            if (k < lead) {
                unsigned q = fastDiv(rem, (unsigned)magic.d[k], shift.d[k]);
                int coord = (int)(rem - q * (unsigned)shape.d[k]);
                rem = q;
                bs += (long long)coord * ss.d[k];
                bd += (long long)coord * ds.d[k];
            }
        }
        const int i0 = tr * 32, j0 = tc * 32;
        for (int k = ty; k < 32; k += 8) {            // read: tx runs along R (source-contiguous)
            int i = i0 + tx, j = j0 + k;
            if (i < R && j < C) tile[k][tx] = src[bs + i + (long long)j * cs];
        }
        __syncthreads();
        for (int k = ty; k < 32; k += 8) {            // write: tx runs along C (destination-contiguous)
            int i = i0 + k, j = j0 + tx;
            if (i < R && j < C) dst[bd + (long long)i * rsd + j] = tile[tx][k];
        }
        __syncthreads();
    }
}

#define COPY_KERNELS(SUFFIX, T)                                                                                         \
    extern "C" __global__ void elementwise_copy_strided_##SUFFIX(                               \
        int n, int rank, Dims8 shape, Dims8 magic, Dims8 shift, const T* __restrict__ src, Dims8 ss, T* __restrict__ dst, \
        Dims8 ds) {                                                                                                     \
        copyStrided<T>(n, rank, shape, magic, shift, src, ss, dst, ds);                                                \
    }                                                                                                                   \
    extern "C" __global__ void elementwise_copy_transpose_##SUFFIX(                             \
        int lead, Dims8 shape, Dims8 magic, Dims8 shift, const T* __restrict__ src, Dims8 ss, T* __restrict__ dst,     \
        Dims8 ds, int R, int C, int cs, int rsd, int tilesR, int tilesC, long long tiles) {                             \
        copyTransposed<T>(lead, shape, magic, shift, src, ss, dst, ds, R, C, cs, rsd, tilesR, tilesC, tiles);          \
    }

COPY_KERNELS(b1, uint8_t)
COPY_KERNELS(b2, uint16_t)
COPY_KERNELS(b4, uint32_t)
COPY_KERNELS(b8, unsigned long long)

// ---------------------------------------------------------------------------------- indexing

// out[i, :] = x[index[i], :]. gridDim.y walks rows, x threads the columns (float4 when aligned).
extern "C" __global__ void elementwise_index_select(int rows, int cols, const float* __restrict__ x,
                                                                          const int* __restrict__ index,
                                                                          float* __restrict__ out) {
    const int tid = blockIdx.x * blockDim.x + threadIdx.x, stride = gridDim.x * blockDim.x;
    const bool vec = (cols & 3) == 0 && aligned16(x) && aligned16(out);
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
        const long long src = (long long)index[r] * cols, dst = (long long)r * cols;
        if (vec) {
            for (int c = tid; c < (cols >> 2); c += stride)
                reinterpret_cast<float4*>(out + dst)[c] = reinterpret_cast<const float4*>(x + src)[c];
        } else {
            for (int c = tid; c < cols; c += stride) out[dst + c] = x[src + c];
        }
    }
}

// out[index[i], :] += src[i, :] for i = 0..n-1 in order (out already holds a copy of base). Deterministic
// and equal to the CPU loop bit for bit: a destination row belongs to exactly one block row (blockIdx.y
// owns rows [y·rowsPerSlice, (y+1)·rowsPerSlice)), whose threads each own one column and walk i in order,
// so every sum is taken in the order of i with no atomics. Indices are staged 1024 at a time in shared
// memory; an index outside [0, baseRows) matches no slice and is skipped.
extern "C" __global__ void elementwise_index_add(int baseRows, int cols, int n, int rowsPerSlice,
                                                                       const int* __restrict__ index,
                                                                       const float* __restrict__ src,
                                                                       float* __restrict__ out) {
    __shared__ int sidx[1024];
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int r0 = blockIdx.y * rowsPerSlice, r1 = min(baseRows, r0 + rowsPerSlice);
    for (int i0 = 0; i0 < n; i0 += 1024) {
        const int m = min(1024, n - i0);
        for (int k = threadIdx.x; k < m; k += blockDim.x) sidx[k] = index[i0 + k];
        __syncthreads();
        if (c < cols) {
            // The row last touched stays in a register (acc) until another row comes: the same float adds
            // in the same order as the CPU's out[r] += src[i], without a memory round trip per repeat.
            int cur = -1;
            float acc = 0.f;
            for (int k = 0; k < m; k++) {
                const int r = sidx[k];
                if (r >= r0 && r < r1) {
                    if (r != cur) {
                        if (cur >= 0) out[(long long)cur * cols + c] = acc;
                        cur = r;
                        acc = out[(long long)r * cols + c];
                    }
                    acc += src[(long long)(i0 + k) * cols + c];
                }
            }
            if (cur >= 0) out[(long long)cur * cols + c] = acc;
        }
        __syncthreads();
    }
}
