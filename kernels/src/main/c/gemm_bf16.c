// BF16 GEMM for float32 operands: C = alpha * op(A) * op(B) + beta * C (+ bias per column), on Intel AMX tiles
// or, on CPUs without AMX, on AVX512-BF16 dot products (second half of this file). Row-major, op(A) M×K,
// op(B) K×N, the same contract as GemmKernels.sgemm. The inputs are rounded to bfloat16 (round to nearest
// even) while they are packed; products accumulate in float32. This is PyTorch's
// set_float32_matmul_precision("medium") on the CPU: the Java Vector API cannot issue tile or bf16
// dot-product instructions, so this one family is C, called through the FFM API (GemmBf16.java); the
// Vector-API GemmKernels stays the float32 path and the fallback where neither instruction set exists.
//
// Tiles: every tile is 16 rows × 64 bytes. The M-side operand tile holds 16 rows of op(A), 32 bf16 of K
// each; the N-side tile is in AMX's pair-interleaved ("VNNI") form: row q holds (B[2q][j], B[2q+1][j]) for
// 16 columns j. A 2×2 block of accumulator tiles (tmm0-3) covers 32×32 of C; tmm4/5 hold A, tmm6/7 hold B.
// Packing converts and reorders once per call: whichever side is stored with K as its row index needs a
// 16×16 transpose of 32-bit pairs, done with one gather per output row.
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
#define TILE_BF16 512          /* 16 rows × 32 bf16 */
#define KCHUNK 24              /* K tiles (of 32) per accumulation pass: a 32-row A block of K 768 is 48 KiB */
#define B_BYTES (1 << 20)      /* packed B columns walked per pass over the M blocks: about 1 MiB, half of L2 */

typedef struct {
    uint8_t palette_id, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* 1 when the CPU has AMX-BF16 and AVX512-BF16 and the kernel granted this process the tile state. */
int dino4j_amx_init(void) {
    if (!__builtin_cpu_supports("avx512bf16") || !__builtin_cpu_supports("avx512bw")) return 0;
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    if (!(d & (1u << 22)) || !(d & (1u << 24))) return 0;      /* AMX-BF16, AMX-TILE */
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 ? 1 : 0;
}

static __thread uint16_t *tl_ap, *tl_bp;
static __thread float *tl_acc;
static __thread size_t tl_ap_n, tl_bp_n, tl_acc_n;

static void *grow(void **p, size_t *have, size_t bytes) {
    if (*have < bytes) {
        free(*p);
        *p = aligned_alloc(64, (bytes + 63) & ~(size_t) 63);
        *have = *p ? bytes : 0;
    }
    return *p;
}

static inline __mmask16 lanes(int count) { return count >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (count < 0 ? 0 : count)) - 1); }

/* The first min(count, 16) floats at p (zeros after), and their store. Full vectors take plain loads and
 * stores: masked memory operations cost several times more on AMD Zen 4/5 (2× on a whole GEMM there). */
static inline __m512 load16(const float *p, int count) {
    return count >= 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(lanes(count), p);
}

static inline void store16(float *p, int count, __m512 v) {
    if (count >= 16) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, lanes(count), v);
}

/* 32 floats (count of them valid) -> 32 bf16 in order. */
static inline __m512i cvt32(const float *p, int count) {
    return (__m512i) _mm512_cvtne2ps_pbh(load16(p + 16, count - 16), load16(p, count));
}

/* Two rows of 16 floats (count of them valid) -> 16 interleaved pairs (x0[j], x1[j]) as 32 bf16. */
static inline __m512i cvt_pairs(const float *r0, const float *r1, int count) {
    static const uint16_t ix[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                    8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    __m512 x0 = r0 ? load16(r0, count) : _mm512_setzero_ps();
    __m512 x1 = r1 ? load16(r1, count) : _mm512_setzero_ps();
    __m512i v = (__m512i) _mm512_cvtne2ps_pbh(x1, x0);
    return _mm512_permutexvar_epi16(_mm512_loadu_si512(ix), v);
}

/* dst row r = column r of the 16×16 matrix of 32-bit pairs in src (row-major): one gather per row. */
static inline void transpose_pairs(const uint32_t *src, uint16_t *dst) {
    const __m512i idx = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
    for (int r = 0; r < 16; r++)
        _mm512_storeu_si512(dst + 32 * r, _mm512_i32gather_epi32(idx, (const int *) (src + r), 4));
}

/*
 * One operand into tiles of 16 "rows" × 32 K: out[(blk * kt + t) * 512 + r * 32 + kk] for the row-form
 * (M side) or pair-interleaved (N side) layout. `kmajor` says the stored matrix has K as its row index
 * (element (x, p) at src[p * ld + x]); otherwise element (x, p) is at src[x * ld + p].
 * `vnni` selects the N-side form. `rows` is the logical M (or N), padded with zeros to `blocks` × 16.
 */
static void pack(const float *src, int ld, int kmajor, int vnni, int rows, int k, int blocks, int kt, uint16_t *out) {
    uint32_t tmp[256];
    for (int blk = 0; blk < blocks; blk++) {
        int x0 = blk * 16, nx = rows - x0;          /* may be <= 0 in the padding */
        for (int t = 0; t < kt; t++) {
            int p0 = t * 32, np = k - p0;
            uint16_t *dst = out + ((size_t) blk * kt + t) * TILE_BF16;
            if (!kmajor) {
                /* rows of the stored matrix run along K: 32 contiguous floats per x */
                uint32_t *rowform = vnni ? tmp : (uint32_t *) dst;
                for (int r = 0; r < 16; r++) {
                    __m512i v = r < nx ? cvt32(src + (size_t) (x0 + r) * ld + p0, np) : _mm512_setzero_si512();
                    _mm512_storeu_si512(rowform + 16 * r, v);
                }
                if (vnni) transpose_pairs(tmp, dst);     /* row x, pair q -> row q, column x */
            } else {
                /* rows of the stored matrix run along x: interleave K pairs, 16 x at a time */
                uint32_t *pairs = vnni ? (uint32_t *) dst : tmp;
                for (int q = 0; q < 16; q++) {
                    int p = p0 + 2 * q;
                    const float *r0 = (p < k && nx > 0) ? src + (size_t) p * ld + x0 : NULL;
                    const float *r1 = (p + 1 < k && nx > 0) ? src + (size_t) (p + 1) * ld + x0 : NULL;
                    _mm512_storeu_si512(pairs + 16 * q, cvt_pairs(r0, r1, nx));
                }
                if (!vnni) transpose_pairs(tmp, dst);    /* row q, column x -> row x, pair q */
            }
        }
    }
}

/* C block (rows × cols of a 32×32 tile block in t, stride 32) = alpha * t + beta * C + bias. */
static void epilogue(const float *t, int rows, int cols, float alpha, float beta, const float *bias, float *c, int ldc) {
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        for (int h = 0; h < 2; h++) {
            int n16 = cols - 16 * h;
            if (n16 <= 0) break;
            float *cp = c + (size_t) r * ldc + 16 * h;
            __m512 v = _mm512_mul_ps(va, _mm512_loadu_ps(t + 32 * r + 16 * h));
            if (beta != 0.0f) v = _mm512_fmadd_ps(vb, load16(cp, n16), v);
            if (bias) v = _mm512_add_ps(v, load16(bias + 16 * h, n16));
            store16(cp, n16, v);
        }
    }
}

/*
 * The GEMM on the calling thread. Returns 0, or -1 when the packing buffers cannot be allocated.
 * bias (may be NULL) is added to every row; beta == 0 never reads C.
 */
int dino4j_gemm_amx(int transA, int transB, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc,
                    const float *bias) {
    if (m <= 0 || n <= 0) return 0;
    int mb = (m + 31) / 32 * 2, nb = (n + 31) / 32 * 2, kt = (k + 31) / 32;
    if (kt == 0) kt = 1;                              /* k == 0: one zero tile, C = beta * C + bias */
    uint16_t *ap = grow((void **) &tl_ap, &tl_ap_n, (size_t) mb * kt * TILE_BF16 * 2);
    uint16_t *bp = grow((void **) &tl_bp, &tl_bp_n, (size_t) nb * kt * TILE_BF16 * 2);
    int chunks = (kt + KCHUNK - 1) / KCHUNK;
    int mp = mb * 16, np = nb * 16;
    int kc = (kt < KCHUNK ? kt : KCHUNK) * 32;
    int nchunk = B_BYTES / (kc * 2) / 32 * 32;
    if (nchunk < 32) nchunk = 32;
    float *acc = chunks > 1 ? grow((void **) &tl_acc, &tl_acc_n, (size_t) mp * np * 4) : NULL;
    if (!ap || !bp || (chunks > 1 && !acc)) return -1;
    /* op(A)[i,p] = transA ? a[p*lda+i] : a[i*lda+p]; op(B)[p,j] = transB ? b[j*ldb+p] : b[p*ldb+j] */
    pack(a, lda, transA, 0, m, k, mb, kt, ap);
    pack(b, ldb, !transB, 1, n, k, nb, kt, bp);

    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette_id = 1;
    for (int i = 0; i < 8; i++) { cfg.rows[i] = 16; cfg.colsb[i] = 64; }
    _tile_loadconfig(&cfg);
    float out[32 * 32] __attribute__((aligned(64)));
    for (int ch = 0; ch < chunks; ch++) {
        int t0 = ch * KCHUNK, t1 = t0 + KCHUNK < kt ? t0 + KCHUNK : kt;
        int last = ch == chunks - 1;
        for (int j0 = 0; j0 < np; j0 += nchunk) {
            int j1 = j0 + nchunk < np ? j0 + nchunk : np;
            for (int i = 0; i < mp; i += 32) {
                const uint16_t *a0 = ap + (size_t) (i / 16) * kt * TILE_BF16, *a1 = a0 + (size_t) kt * TILE_BF16;
                for (int j = j0; j < j1; j += 32) {
                    const uint16_t *b0 = bp + (size_t) (j / 16) * kt * TILE_BF16, *b1 = b0 + (size_t) kt * TILE_BF16;
                    /* full blocks with alpha 1 and beta 0 (+ bias) or 1 start from bias or C and are stored
                     * straight into C: no staging copy and no second pass over the block */
                    int direct = alpha == 1.0f && i + 32 <= m && j + 32 <= n && (beta == 0.0f || (beta == 1.0f && !bias));
                    float *cb = c + (size_t) i * ldc + j;
                    if (ch == 0 && direct && beta == 1.0f) {
                        _tile_loadd(0, cb, ldc * 4); _tile_loadd(1, cb + 16, ldc * 4);
                        _tile_loadd(2, cb + 16 * (size_t) ldc, ldc * 4); _tile_loadd(3, cb + 16 * (size_t) ldc + 16, ldc * 4);
                    } else if (ch == 0 && direct && bias) {
                        _tile_loadd(0, bias + j, 0); _tile_loadd(1, bias + j + 16, 0);   /* stride 0: the row 16 times */
                        _tile_loadd(2, bias + j, 0); _tile_loadd(3, bias + j + 16, 0);
                    } else if (ch == 0) {
                        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
                    } else {
                        float *q = acc + (size_t) i * np + j;
                        _tile_loadd(0, q, np * 4); _tile_loadd(1, q + 16, np * 4);
                        _tile_loadd(2, q + 16 * np, np * 4); _tile_loadd(3, q + 16 * np + 16, np * 4);
                    }
                    for (int t = t0; t < t1; t++) {
                        _tile_loadd(4, a0 + (size_t) t * TILE_BF16, 64);
                        _tile_loadd(5, a1 + (size_t) t * TILE_BF16, 64);
                        _tile_loadd(6, b0 + (size_t) t * TILE_BF16, 64);
                        _tile_loadd(7, b1 + (size_t) t * TILE_BF16, 64);
                        _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
                        _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
                    }
                    if (!last) {
                        float *q = acc + (size_t) i * np + j;
                        _tile_stored(0, q, np * 4); _tile_stored(1, q + 16, np * 4);
                        _tile_stored(2, q + 16 * np, np * 4); _tile_stored(3, q + 16 * np + 16, np * 4);
                        continue;
                    }
                    if (direct) {
                        _tile_stored(0, cb, ldc * 4); _tile_stored(1, cb + 16, ldc * 4);
                        _tile_stored(2, cb + 16 * (size_t) ldc, ldc * 4); _tile_stored(3, cb + 16 * (size_t) ldc + 16, ldc * 4);
                        continue;
                    }
                    if (i >= m || j >= n) continue;
                    _tile_stored(0, out, 128); _tile_stored(1, out + 16, 128);
                    _tile_stored(2, out + 512, 128); _tile_stored(3, out + 528, 128);
                    int rows = m - i < 32 ? m - i : 32, cols = n - j < 32 ? n - j : 32;
                    epilogue(out, rows, cols, alpha, beta, bias ? bias + j : NULL, c + (size_t) i * ldc + j, ldc);
                }
            }
        }
    }
    _tile_release();
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * The same GEMM on AVX512-BF16 (vdpbf16ps) for CPUs without AMX (AMD Zen 4/5, Intel Cooper Lake). It reads
 * the operands in the tile layouts that pack() writes: a 32-bit word of an M-side tile row is the pair
 * (A[i][2q], A[i][2q+1]), broadcast to all 16 lanes; row q of an N-side tile holds the 16 pairs
 * (B[2q][j], B[2q+1][j]), so one vdpbf16ps adds both products of a K pair to 16 columns at once.
 * A register block of 8 rows × 32 columns (16 accumulators) walks one K chunk; chunks after the first add
 * into C, so K of any length keeps its A rows in L1 and its B columns in L2.
 * --------------------------------------------------------------------------------------------------------- */

/* 1 when the CPU has AVX512-BF16 and AVX512-BW. */
int dino4j_avx512bf16_init(void) {
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") ? 1 : 0;
}

#define MR 8

/*
 * acc[2r + h] += sum over the K tiles [t0, t1) of row r of the 8-row block × the 16 columns of B tile h.
 * The A pair (row r, pair q) of a tile is word ars*r + aqs*q: row form (16, 1) or, for a K-major A packed
 * pair-interleaved like B, (1, 16): that needs no transpose while packing. Called with constants, so each
 * form compiles to its own loop.
 */
static inline __attribute__((always_inline)) void dp_block(const uint32_t *a, int ars, int aqs, const uint32_t *b0,
                                                           const uint32_t *b1, int t0, int t1, __m512 acc[2 * MR]) {
    for (int t = t0; t < t1; t++) {
        const uint32_t *at = a + (size_t) t * 256, *bt0 = b0 + (size_t) t * 256, *bt1 = b1 + (size_t) t * 256;
        for (int q = 0; q < 16; q++) {
            __m512bh vb0 = (__m512bh) _mm512_loadu_si512(bt0 + 16 * q), vb1 = (__m512bh) _mm512_loadu_si512(bt1 + 16 * q);
#pragma GCC unroll 8
            for (int r = 0; r < MR; r++) {
                __m512bh va = (__m512bh) _mm512_set1_epi32((int) at[ars * r + aqs * q]);
                acc[2 * r] = _mm512_dpbf16_ps(acc[2 * r], va, vb0);
                acc[2 * r + 1] = _mm512_dpbf16_ps(acc[2 * r + 1], va, vb1);
            }
        }
    }
}

int dino4j_gemm_avx512bf16(int transA, int transB, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc,
                           const float *bias) {
    if (m <= 0 || n <= 0) return 0;
    int mb = (m + 31) / 32 * 2, nb = (n + 31) / 32 * 2, kt = (k + 31) / 32;
    if (kt == 0) kt = 1;
    uint16_t *ap = grow((void **) &tl_ap, &tl_ap_n, (size_t) mb * kt * TILE_BF16 * 2);
    uint16_t *bp = grow((void **) &tl_bp, &tl_bp_n, (size_t) nb * kt * TILE_BF16 * 2);
    if (!ap || !bp) return -1;
    int avnni = transA;   /* a K-major A packs like B (no transpose); dp_block reads it with swapped strides */
    pack(a, lda, transA, avnni, m, k, mb, kt, ap);
    pack(b, ldb, !transB, 1, n, k, nb, kt, bp);
    int chunks = (kt + KCHUNK - 1) / KCHUNK;
    int kc = (kt < KCHUNK ? kt : KCHUNK) * 32;
    int nchunk = B_BYTES / (kc * 2) / 32 * 32;
    if (nchunk < 32) nchunk = 32;
    const __m512 va = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
    for (int ch = 0; ch < chunks; ch++) {
        int t0 = ch * KCHUNK, t1 = t0 + KCHUNK < kt ? t0 + KCHUNK : kt;
        for (int j0 = 0; j0 < n; j0 += nchunk) {
            int j1 = j0 + nchunk < n ? j0 + nchunk : n;
            for (int i = 0; i < m; i += MR) {
                const uint32_t *ai = (const uint32_t *) (ap + (size_t) (i / 16) * kt * TILE_BF16) + (i % 16) * (avnni ? 1 : 16);
                int rows = m - i < MR ? m - i : MR;
                for (int j = j0; j < j1; j += 32) {
                    const uint32_t *b0 = (const uint32_t *) (bp + (size_t) (j / 16) * kt * TILE_BF16);
                    const uint32_t *b1 = b0 + (size_t) kt * 256;
                    __m512 acc[2 * MR];
                    for (int x = 0; x < 2 * MR; x++) acc[x] = _mm512_setzero_ps();
                    if (avnni) dp_block(ai, 1, 16, b0, b1, t0, t1, acc);
                    else dp_block(ai, 16, 1, b0, b1, t0, t1, acc);
                    for (int r = 0; r < rows; r++) {
                        float *cp = c + (size_t) (i + r) * ldc + j;
                        for (int h = 0; h < 2; h++) {
                            int cols = j1 - j - 16 * h;
                            if (cols <= 0) break;
                            __m512 v = alpha == 1.0f ? acc[2 * r + h] : _mm512_mul_ps(va, acc[2 * r + h]);
                            if (ch > 0) v = _mm512_add_ps(v, load16(cp + 16 * h, cols));
                            else {
                                if (beta != 0.0f) v = _mm512_fmadd_ps(vbeta, load16(cp + 16 * h, cols), v);
                                if (bias) v = _mm512_add_ps(v, load16(bias + j + 16 * h, cols));
                            }
                            store16(cp + 16 * h, cols, v);
                        }
                    }
                }
            }
        }
    }
    return 0;
}
