// Convolution helpers, NCHW.
//
// Dense conv2d is GEMM-based (the tensor layer runs the GEMMs): im2col writes
//     col[b, (c·kh + ky)·kw + kx, oy·OW + ox] = x[b, c, oy·sh − ph + ky, ox·sw − pw + kx]   (0 in the padding)
// i.e. col is [B, K = C·kh·kw, T = OH·OW], rows in the weight's [O, C, kh, kw] order, so per image
// y[b] = W[O, K] · col[b] (+ bias) is [O, OH, OW]. col2im is the adjoint (gather: each input pixel sums the
// col entries that read it, in (ky, kx) order as ConvKernels.col2im adds them).
//
// Depthwise conv2d (groups = C, weight [C, 1, k, k], stride 1, padding p, OH = H + 2p − k + 1), as
// DepthwiseConvKernels:
//  - conv_dw_corr: tiled correlation dst = bias + Σ w·src_padded; the forward (src = x, pad p) and the input
//    gradient (src = gy, pad k−1−p, kernel flipped) are the same kernel. 32×8 outputs per block, the input
//    window and the k×k weights in shared memory.
//  - conv_dw_wgrad_partial + conv_dw_wgrad_final: gw / gb ACCUMULATED. Each block reduces one 32×8 tile of one
//    plane for every tap (a warp per tap, fixed order), the final kernel sums tiles and images per channel in a
//    fixed order in double. No atomics: deterministic.
#include "common.cuh"

// ------------------------------------------------------------------------------- im2col / col2im

// One thread per col element; n = B·K·T.
extern "C" __global__ void conv_im2col(long n, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                                       int OH, int OW, const float* __restrict__ x, float* __restrict__ col) {
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const long T = (long)OH * OW, K = (long)C * kh * kw;
    const int t = (int)(i % T);
    const long rk = i / T;
    const int r = (int)(rk % K);
    const long b = rk / K;
    const int ox = t % OW, oy = t / OW;
    const int kx = r % kw, ky = (r / kw) % kh, c = r / (kh * kw);
    const int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
    col[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[((b * C + c) * H + iy) * (long)W + ix] : 0.f;
}

// One thread per x element; n = B·C·H·W. x = (accumulate ? x : 0) + Σ_{ky, kx} col[...] (ky, kx ascending).
extern "C" __global__ void conv_col2im(long n, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                                       int OH, int OW, const float* __restrict__ col, float* __restrict__ x, int accumulate) {
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int ix = (int)(i % W);
    const long r1 = i / W;
    const int iy = (int)(r1 % H);
    const long bc = r1 / H;                         // b·C + c
    const long T = (long)OH * OW;
    const float* cb = col + bc * (long)kh * kw * T; // rows (c·kh + ky)·kw + kx of image b start here
    float acc = accumulate ? x[i] : 0.f;
    // oy·sh = iy + ph − ky: ky runs over one residue class mod sh
    const int ky0 = ((iy + ph) % sh + sh) % sh, kx0 = ((ix + pw) % sw + sw) % sw;
    for (int ky = ky0; ky < kh; ky += sh) {
        const int oy = (iy + ph - ky) / sh;
        if (oy < 0 || oy >= OH) continue;
        for (int kx = kx0; kx < kw; kx += sw) {
            const int ox = (ix + pw - kx) / sw;
            if (ox < 0 || ox >= OW) continue;
            acc += cb[(long)(ky * kw + kx) * T + (long)oy * OW + ox];
        }
    }
    x[i] = acc;
}

// ------------------------------------------------------------------------------- depthwise

#define DW_TW 32
#define DW_TH 8

// Block (32, 8); grid.x = planes·tilesY·tilesX with tilesX = ceil(DW/32), tilesY = ceil(DH/8).
// dst[pl, dy, dx] = bias[c] + Σ_{ky,kx} wk[ky, kx]·src[pl, dy + ky − pad, dx + kx − pad] (0 outside the
// [SH, SW] plane), c = pl mod C, wk = w[c] or its 180° rotation (flip). bias nullable.
// Dynamic shared memory: ((DW_TH + k − 1)·(DW_TW + k − 1) + k·k) floats.
extern "C" __global__ void __launch_bounds__(256) conv_dw_corr(int C, int SH, int SW, int DH, int DW, int k, int pad, int flip,
                                                               const float* __restrict__ src, const float* __restrict__ w,
                                                               const float* __restrict__ bias, float* __restrict__ dst) {
    extern __shared__ float smem[];
    const int tileW = DW_TW + k - 1, tileH = DW_TH + k - 1, kk = k * k;
    float* ws = smem;                 // k·k weights
    float* tile = smem + kk;          // tileH × tileW input window
    const int tilesX = (DW + DW_TW - 1) / DW_TW, tilesY = (DH + DW_TH - 1) / DW_TH;
    const long blk = blockIdx.x;
    const long pl = blk / ((long)tilesX * tilesY);
    const int tIdx = (int)(blk % ((long)tilesX * tilesY));
    const int dy0 = (tIdx / tilesX) * DW_TH, dx0 = (tIdx % tilesX) * DW_TW;
    const int c = (int)(pl % C);
    const int tid = threadIdx.y * DW_TW + threadIdx.x;
    const float* wc = w + (long)c * kk;
    for (int j = tid; j < kk; j += 256) ws[j] = wc[flip ? kk - 1 - j : j];
    const float* sp = src + pl * (long)SH * SW;
    for (int j = tid; j < tileH * tileW; j += 256) {
        const int sy = dy0 + j / tileW - pad, sx = dx0 + j % tileW - pad;
        tile[j] = (sy >= 0 && sy < SH && sx >= 0 && sx < SW) ? sp[(long)sy * SW + sx] : 0.f;
    }
    __syncthreads();
    const int dy = dy0 + threadIdx.y, dx = dx0 + threadIdx.x;
    if (dy >= DH || dx >= DW) return;
    float acc = bias ? bias[c] : 0.f;
    for (int ky = 0; ky < k; ky++) {
        const float* tr = tile + (threadIdx.y + ky) * tileW + threadIdx.x;
        const float* wr = ws + ky * k;
        for (int kx = 0; kx < k; kx++) acc += wr[kx] * tr[kx];
    }
    dst[(pl * DH + dy) * (long)DW + dx] = acc;
}

// Weight / bias gradient partials. Block (32, 8) over one 32×8 tile of output gy of plane pl = b·C + c;
// grid.x = B·C·tilesY·tilesX. partial[((c·B + b)·tiles + tile)·(k·k + 1) + j] =
//   j < k·k: Σ_tile gy[oy, ox]·x[oy + ky − p, ox + kx − p] (j = ky·k + kx),  j = k·k: Σ_tile gy (when wantB).
// Dynamic shared memory: ((DW_TH + k − 1)·(DW_TW + k − 1) + DW_TH·DW_TW) floats.
extern "C" __global__ void __launch_bounds__(256) conv_dw_wgrad_partial(int B, int C, int H, int W, int OH, int OW, int k, int p,
                                                                        int wantW, int wantB, const float* __restrict__ x,
                                                                        const float* __restrict__ gy, float* __restrict__ partial) {
    extern __shared__ float smem[];
    const int tileW = DW_TW + k - 1, tileH = DW_TH + k - 1, kk = k * k;
    float* gs = smem;                  // DW_TH × DW_TW gy tile (0 outside OH × OW)
    float* xs = smem + DW_TH * DW_TW;  // tileH × tileW x window
    const int tilesX = (OW + DW_TW - 1) / DW_TW, tilesY = (OH + DW_TH - 1) / DW_TH, tiles = tilesX * tilesY;
    const long blk = blockIdx.x;
    const long pl = blk / tiles;
    const int tIdx = (int)(blk % tiles);
    const int oy0 = (tIdx / tilesX) * DW_TH, ox0 = (tIdx % tilesX) * DW_TW;
    const int c = (int)(pl % C);
    const long b = pl / C;
    const int tid = threadIdx.y * DW_TW + threadIdx.x;
    {
        const int oy = oy0 + threadIdx.y, ox = ox0 + threadIdx.x;
        gs[tid] = (oy < OH && ox < OW) ? gy[(pl * OH + oy) * (long)OW + ox] : 0.f;
    }
    if (wantW) {
        const float* xp = x + pl * (long)H * W;
        for (int j = tid; j < tileH * tileW; j += 256) {
            const int sy = oy0 + j / tileW - p, sx = ox0 + j % tileW - p;
            xs[j] = (sy >= 0 && sy < H && sx >= 0 && sx < W) ? xp[(long)sy * W + sx] : 0.f;
        }
    }
    __syncthreads();
    const int warp = tid >> 5, lane = tid & 31;
    float* out = partial + ((c * (long)B + b) * tiles + tIdx) * (kk + 1);
    for (int j = warp; j <= kk; j += 8) {
        if (j < kk ? !wantW : !wantB) continue;    // warp-uniform
        float s = 0.f;
        if (j < kk) {
            const int ky = j / k, kx = j % k;
#pragma unroll
            for (int r = 0; r < DW_TH; r++) s += gs[r * DW_TW + lane] * xs[(r + ky) * tileW + lane + kx];
        } else {
#pragma unroll
            for (int r = 0; r < DW_TH; r++) s += gs[r * DW_TW + lane];
        }
        s = warpSum(s);
        if (lane == 0) out[j] = s;
    }
}

// One thread per (c, j), j ≤ k·k: sums the B·tiles partials of channel c in order (double), then
// gw[c·k·k + j] += (j < k·k) or gb[c] += (j = k·k). gw / gb nullable.
extern "C" __global__ void conv_dw_wgrad_final(int C, int kk, int n, const float* __restrict__ partial,
                                               float* __restrict__ gw, float* __restrict__ gb) {
    const long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long)C * (kk + 1)) return;
    const int c = (int)(t / (kk + 1)), j = (int)(t % (kk + 1));
    float* dst = j < kk ? (gw ? gw + (long)c * kk + j : nullptr) : (gb ? gb + c : nullptr);
    if (!dst) return;
    const float* pc = partial + (long)c * n * (kk + 1) + j;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)pc[(long)i * (kk + 1)];
    *dst += (float)s;
}
