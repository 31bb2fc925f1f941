package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Element-wise kernels: broadcasting binary ops over strided operands, unary ops (forward and
 * backward), strided copies, BLAS-1 style helpers and storage conversions (bf16/f16 ↔ f32).
 *
 * <p>Strided operands: {@code shape} is the (output) shape, strides are element strides, a stride of 0
 * broadcasts. Outputs are contiguous row-major in {@code shape}. Every float kernel has a double twin
 * with the same signature (scalar, the reference / float64 backend).
 */
public final class ElementwiseKernels {
    private ElementwiseKernels() {}

    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = S.length();
    /** Elements per parallel chunk. */
    static final int GRAIN = 1 << 15;

    // =====================================================================================
    // Strided iteration plan
    // =====================================================================================

    /** Coalesced iteration space: dims[nd], strides per operand; out is contiguous. */
    private static final class Plan {
        final int nd; final int[] dims; final int[] sa; final int[] sb;
        final long total; final int rows; final int len;
        Plan(int nd, int[] dims, int[] sa, int[] sb) {
            this.nd = nd; this.dims = dims; this.sa = sa; this.sb = sb;
            long t = 1; for (int i = 0; i < nd; i++) t *= dims[i];
            total = t;
            len = nd == 0 ? 1 : dims[nd - 1];
            rows = (int) (len == 0 ? 0 : t / len);
        }
    }

    private static Plan plan(int[] shape, int[] as, int[] bs) {
        int n = shape.length;
        if (as.length != n || (bs != null && bs.length != n))
            throw new IllegalArgumentException("stride rank mismatch with shape rank " + n);
        int[] d = new int[n], sa = new int[n], sb = new int[n];
        int nd = 0;
        for (int i = n - 1; i >= 0; i--) {     // build from innermost outward, reversed
            if (shape[i] < 0) throw new IllegalArgumentException("negative dim " + shape[i]);
            if (shape[i] == 0) return new Plan(1, new int[]{0}, new int[]{0}, new int[]{0});
            if (shape[i] == 1) continue;
            int ai = as[i], bi = bs == null ? 0 : bs[i];
            if (nd > 0 && ai == sa[nd - 1] * d[nd - 1] && bi == sb[nd - 1] * d[nd - 1]) {
                d[nd - 1] *= shape[i];
                continue;
            }
            d[nd] = shape[i]; sa[nd] = ai; sb[nd] = bi; nd++;
        }
        if (nd == 0) return new Plan(1, new int[]{1}, new int[]{1}, new int[]{1});
        int[] rd = new int[nd], ra = new int[nd], rb = new int[nd];
        for (int i = 0; i < nd; i++) { rd[i] = d[nd - 1 - i]; ra[i] = sa[nd - 1 - i]; rb[i] = sb[nd - 1 - i]; }
        return new Plan(nd, rd, ra, rb);
    }

    @FunctionalInterface
    private interface RowBody { void run(int len, int aPos, int aStr, int bPos, int bStr, int oPos); }

    /** Runs body over every row (or row piece), in parallel when large. */
    private static void iterate(Plan p, int aOff, int bOff, int outOff, RowBody body) {
        if (p.total == 0) return;
        final int len = p.len, rows = p.rows, nd = p.nd;
        final int as = p.sa[nd - 1], bs = p.sb[nd - 1];
        int threads = Parallel.threads();
        int cc = 1;
        if (p.total >= 2L * GRAIN && rows < 4 * threads) {
            cc = Math.max(1, Math.min((len + GRAIN / 2 - 1) / (GRAIN / 2), (4 * threads + rows - 1) / rows));
        }
        final int colChunks = cc;
        final int tasks = rows * colChunks;
        final int grain = Math.max(1, (int) Math.min(Integer.MAX_VALUE, (long) GRAIN * colChunks / Math.max(1, len)));
        Parallel.forRange(tasks, p.total < GRAIN ? Integer.MAX_VALUE : grain, (t0, t1) -> {
            int[] idx = new int[nd];
            int row = t0 / colChunks;
            // unravel row over dims[0..nd-2]
            int r = row, ap = aOff, bp = bOff;
            for (int i = nd - 2; i >= 0; i--) {
                int di = p.dims[i];
                idx[i] = r % di; r /= di;
                ap += idx[i] * p.sa[i]; bp += idx[i] * p.sb[i];
            }
            for (int t = t0; t < t1; t++) {
                int rr = t / colChunks, c = t % colChunks;
                while (row < rr) {        // odometer increment
                    row++;
                    for (int i = nd - 2; i >= 0; i--) {
                        idx[i]++; ap += p.sa[i]; bp += p.sb[i];
                        if (idx[i] < p.dims[i]) break;
                        ap -= idx[i] * p.sa[i]; bp -= idx[i] * p.sb[i]; idx[i] = 0;
                    }
                }
                int c0 = (int) ((long) len * c / colChunks), c1 = (int) ((long) len * (c + 1) / colChunks);
                if (c1 > c0) body.run(c1 - c0, ap + c0 * as, as, bp + c0 * bs, bs, outOff + rr * len + c0);
            }
        });
    }

    // =====================================================================================
    // Binary
    // =====================================================================================

    static FloatVector apply(BinaryOp op, FloatVector x, FloatVector y) {
        return switch (op) {
            case ADD -> x.add(y);
            case SUB -> x.sub(y);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            case MAX -> x.max(y);
            case MIN -> x.min(y);
            case POW -> throw new IllegalStateException("POW runs on the scalar path");
        };
    }

    static float apply(BinaryOp op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
            case POW -> (float) Math.pow(x, y);
        };
    }

    /** Double scalar semantics of {@code op} (the reference). */
    public static double apply(BinaryOp op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
            case POW -> Math.pow(x, y);
        };
    }

    private static void binaryRow(BinaryOp op, int n, float[] a, int ai, int as, float[] b, int bi, int bs,
                                  float[] out, int oi) {
        int i = 0;
        if (op == BinaryOp.POW) {   // scalar: lanewise(POW) is not bit-stable across JIT tiers, and POW is never hot
            for (; i < n; i++) out[oi + i] = apply(op, a[ai + i * as], b[bi + i * bs]);
        } else if (as == 1 && bs == 1) {
            i = switch (op) {
                case ADD -> addVV(n, a, ai, b, bi, out, oi);
                case SUB -> subVV(n, a, ai, b, bi, out, oi);
                case MUL -> mulVV(n, a, ai, b, bi, out, oi);
                case DIV -> divVV(n, a, ai, b, bi, out, oi);
                case MAX -> maxVV(n, a, ai, b, bi, out, oi);
                case MIN -> minVV(n, a, ai, b, bi, out, oi);
                case POW -> 0;
            };
            for (; i < n; i++) out[oi + i] = apply(op, a[ai + i], b[bi + i]);
        } else if (as == 1 && bs == 0) {
            float bv = b[bi];
            i = switch (op) {
                case ADD -> addVS(n, a, ai, bv, out, oi);
                case SUB -> addVS(n, a, ai, -bv, out, oi);
                case MUL -> mulVS(n, a, ai, bv, out, oi);
                default -> anyVS(op, n, a, ai, bv, out, oi);
            };
            for (; i < n; i++) out[oi + i] = apply(op, a[ai + i], bv);
        } else if (as == 0 && bs == 1) {
            float av = a[ai];
            i = switch (op) {
                case ADD -> addVS(n, b, bi, av, out, oi);
                case MUL -> mulVS(n, b, bi, av, out, oi);
                default -> anySV(op, n, av, b, bi, out, oi);
            };
            for (; i < n; i++) out[oi + i] = apply(op, av, b[bi + i]);
        } else {
            for (; i < n; i++) out[oi + i] = apply(op, a[ai + i * as], b[bi + i * bs]);
        }
    }

    // One small loop per operator and operand pattern: a switch over the operator inside the loop (or one method
    // holding every pattern's loop) exceeded C2's inlining budget, and the vectors went through the Vector API's
    // boxed fallback (JFR on the SSL step: 3.6 % of all samples in apply(BinaryOp, FloatVector, FloatVector)).
    // x − s runs as x + (−s): exact in IEEE arithmetic.
    private static int addVV(int n, float[] a, int ai, float[] b, int bi, float[] out, int oi) {
        int ub = S.loopBound(n);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).add(FloatVector.fromArray(S, b, bi + i)).intoArray(out, oi + i);
        return ub;
    }

    private static int subVV(int n, float[] a, int ai, float[] b, int bi, float[] out, int oi) {
        int ub = S.loopBound(n);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).sub(FloatVector.fromArray(S, b, bi + i)).intoArray(out, oi + i);
        return ub;
    }

    private static int mulVV(int n, float[] a, int ai, float[] b, int bi, float[] out, int oi) {
        int ub = S.loopBound(n);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).mul(FloatVector.fromArray(S, b, bi + i)).intoArray(out, oi + i);
        return ub;
    }

    private static int divVV(int n, float[] a, int ai, float[] b, int bi, float[] out, int oi) {
        int ub = S.loopBound(n);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).div(FloatVector.fromArray(S, b, bi + i)).intoArray(out, oi + i);
        return ub;
    }

    private static int maxVV(int n, float[] a, int ai, float[] b, int bi, float[] out, int oi) {
        int ub = S.loopBound(n);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).max(FloatVector.fromArray(S, b, bi + i)).intoArray(out, oi + i);
        return ub;
    }

    private static int minVV(int n, float[] a, int ai, float[] b, int bi, float[] out, int oi) {
        int ub = S.loopBound(n);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).min(FloatVector.fromArray(S, b, bi + i)).intoArray(out, oi + i);
        return ub;
    }

    private static int anyVS(BinaryOp op, int n, float[] a, int ai, float s, float[] out, int oi) {
        int ub = S.loopBound(n);
        FloatVector v = FloatVector.broadcast(S, s);
        for (int i = 0; i < ub; i += L) apply(op, FloatVector.fromArray(S, a, ai + i), v).intoArray(out, oi + i);
        return ub;
    }

    private static int anySV(BinaryOp op, int n, float s, float[] b, int bi, float[] out, int oi) {
        int ub = S.loopBound(n);
        FloatVector v = FloatVector.broadcast(S, s);
        for (int i = 0; i < ub; i += L) apply(op, v, FloatVector.fromArray(S, b, bi + i)).intoArray(out, oi + i);
        return ub;
    }

    private static int addVS(int n, float[] a, int ai, float s, float[] out, int oi) {
        int ub = S.loopBound(n);
        FloatVector v = FloatVector.broadcast(S, s);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).add(v).intoArray(out, oi + i);
        return ub;
    }

    private static int mulVS(int n, float[] a, int ai, float s, float[] out, int oi) {
        int ub = S.loopBound(n);
        FloatVector v = FloatVector.broadcast(S, s);
        for (int i = 0; i < ub; i += L) FloatVector.fromArray(S, a, ai + i).mul(v).intoArray(out, oi + i);
        return ub;
    }

    /**
     * {@code out[idx] = a[idx] op b[idx]} over {@code shape}; {@code out} contiguous row-major; operand
     * strides in elements, 0 broadcasts. Vectorised whenever the (coalesced) innermost axis is contiguous
     * or broadcast for each operand (same-shape, scalar, row-vector/bias patterns).
     */
    public static void binary(BinaryOp op, int[] shape, float[] a, int aOff, int[] aStrides,
                              float[] b, int bOff, int[] bStrides, float[] out, int outOff) {
        Plan p = plan(shape, aStrides, bStrides);
        iterate(p, aOff, bOff, outOff, (n, ap, as, bp, bs, op2) -> binaryRow(op, n, a, ap, as, b, bp, bs, out, op2));
    }

    /** Double twin of {@link #binary(BinaryOp, int[], float[], int, int[], float[], int, int[], float[], int)}. */
    public static void binary(BinaryOp op, int[] shape, double[] a, int aOff, int[] aStrides,
                              double[] b, int bOff, int[] bStrides, double[] out, int outOff) {
        Plan p = plan(shape, aStrides, bStrides);
        iterate(p, aOff, bOff, outOff, (n, ap, as, bp, bs, oi) -> {
            for (int i = 0; i < n; i++) out[oi + i] = apply(op, a[ap + i * as], b[bp + i * bs]);
        });
    }

    // =====================================================================================
    // Strided copy
    // =====================================================================================

    /** Gathers a strided (permuted / sliced / broadcast) view into contiguous {@code dst}. */
    public static void copyStrided(int[] shape, float[] src, int srcOff, int[] srcStrides, float[] dst, int dstOff) {
        Plan p = plan(shape, srcStrides, null);
        if (p.nd >= 2 && p.sa[p.nd - 2] == 1 && p.sa[p.nd - 1] != 1 && p.sa[p.nd - 1] != 0 && p.total >= 4096) {
            transposeTiles(p, src, srcOff, dst, dstOff);
            return;
        }
        iterate(p, srcOff, 0, dstOff, (n, ap, as, bp, bs, oi) -> {
            if (as == 1) System.arraycopy(src, ap, dst, oi, n);
            else if (as == 0) Arrays.fill(dst, oi, oi + n, src[ap]);
            else for (int i = 0; i < n; i++) dst[oi + i] = src[ap + i * as];
        });
    }

    private static final int TILE = 32;

    /**
     * Copy where the source's last two (coalesced) axes are transposed (second-to-last has stride 1):
     * 32×32 tiles so reads and writes both stay in L1. Parallel over (leading index, tile row).
     */
    private static void transposeTiles(Plan p, float[] src, int srcOff, float[] dst, int dstOff) {
        final int nd = p.nd, R = p.dims[nd - 2], Cn = p.dims[nd - 1], cs = p.sa[nd - 1];
        final int lead = (int) (p.total / ((long) R * Cn)), rowTiles = (R + TILE - 1) / TILE;
        Parallel.forRange(lead * rowTiles, Math.max(1, GRAIN / (TILE * Math.max(1, Cn))), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int l = t / rowTiles, i0 = (t % rowTiles) * TILE, i1 = Math.min(R, i0 + TILE);
                int sb = srcOff, r = l;
                for (int d = nd - 3; d >= 0; d--) { sb += (r % p.dims[d]) * p.sa[d]; r /= p.dims[d]; }
                int db = dstOff + l * R * Cn;
                for (int j0 = 0; j0 < Cn; j0 += TILE) {
                    int j1 = Math.min(Cn, j0 + TILE);
                    for (int j = j0; j < j1; j++) {
                        int s0 = sb + j * cs;
                        for (int i = i0; i < i1; i++) dst[db + i * Cn + j] = src[s0 + i];
                    }
                }
            }
        });
    }

    /** Double twin of {@link #copyStrided(int[], float[], int, int[], float[], int)}. */
    public static void copyStrided(int[] shape, double[] src, int srcOff, int[] srcStrides, double[] dst, int dstOff) {
        Plan p = plan(shape, srcStrides, null);
        iterate(p, srcOff, 0, dstOff, (n, ap, as, bp, bs, oi) -> {
            if (as == 1) System.arraycopy(src, ap, dst, oi, n);
            else if (as == 0) Arrays.fill(dst, oi, oi + n, src[ap]);
            else for (int i = 0; i < n; i++) dst[oi + i] = src[ap + i * as];
        });
    }

    // =====================================================================================
    // Unary
    // =====================================================================================

    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    /** 0.5/√2: t = 1/(1 + |x|·0.5/√2) = 1/(1 + z/2) with z = |x|/√2. */
    private static final float T_COEF = (float) (0.5 / Math.sqrt(2.0));

    /**
     * Numerical Recipes' Chebyshev fit of erfc: {@code erfc(z) = t·exp(−z² + P(t))}, t = 1/(1+z/2),
     * fractional error < 1.2e-7 for all z ≥ 0. Returns P(t). (Small on purpose: C2 must inline every
     * helper that returns a vector, or the vectors get boxed.)
     */
    private static FloatVector erfcPoly(FloatVector t) {
        FloatVector p = FloatVector.broadcast(S, 0.17087277f);
        p = p.fma(t, FloatVector.broadcast(S, -0.82215223f));
        p = p.fma(t, FloatVector.broadcast(S, 1.48851587f));
        p = p.fma(t, FloatVector.broadcast(S, -1.13520398f));
        p = p.fma(t, FloatVector.broadcast(S, 0.27886807f));
        p = p.fma(t, FloatVector.broadcast(S, -0.18628806f));
        p = p.fma(t, FloatVector.broadcast(S, 0.09678418f));
        p = p.fma(t, FloatVector.broadcast(S, 0.37409196f));
        p = p.fma(t, FloatVector.broadcast(S, 1.00002368f));
        return p.fma(t, FloatVector.broadcast(S, -1.26551223f));
    }



    /** y[i] = f(x[i]) for i in [0, n): one loop per operator (the switch stays out of the loop). */
    private static void unaryRange(UnaryOp op, int n, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        final int ub = S.loopBound(n);
        switch (op) {
            case NEG -> i = fwdNeg(ub, x, xo, y, yo);
            case EXP -> i = fwdExp(ub, x, xo, y, yo);
            case LOG -> i = fwdLog(ub, x, xo, y, yo);
            case SQRT -> i = fwdSqrt(ub, x, xo, y, yo);
            case RSQRT -> i = fwdRsqrt(ub, x, xo, y, yo);
            case ABS -> i = fwdAbs(ub, x, xo, y, yo);
            case TANH -> i = fwdTanh(ub, x, xo, y, yo);
            case SIGMOID -> i = fwdSigmoid(ub, x, xo, y, yo);
            case RELU -> i = fwdRelu(ub, x, xo, y, yo);
            case GELU -> i = gelu(ub, x, xo, null, 0, y, yo);
            case SILU -> i = fwdSilu(ub, x, xo, y, yo);
            case SQUARE -> i = fwdSquare(ub, x, xo, y, yo);
            case RECIPROCAL -> i = fwdReciprocal(ub, x, xo, y, yo);
            case SIN -> {
                // scalar (the loop below): lanewise(SIN/COS) is not bit-stable across JIT tiers; never hot
            }
            case COS -> {
                // scalar (the loop below): lanewise(SIN/COS) is not bit-stable across JIT tiers; never hot
            }
        }
        for (; i < n; i++) y[yo + i] = (float) apply(op, (double) x[xo + i]);
    }

    /** gx[i] = gy[i]·f'(x[i]) for i in [0, n): one loop per operator. */
    private static void gradRange(UnaryOp op, int n, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        final int ub = S.loopBound(n);
        switch (op) {
            case NEG -> i = gradNeg(ub, x, xo, gy, go, gx, gxo);
            case EXP -> i = gradExp(ub, x, xo, gy, go, gx, gxo);
            case LOG -> i = gradLog(ub, x, xo, gy, go, gx, gxo);
            case SQRT -> i = gradSqrt(ub, x, xo, gy, go, gx, gxo);
            case RSQRT -> i = gradRsqrt(ub, x, xo, gy, go, gx, gxo);
            case ABS -> i = gradAbs(ub, x, xo, gy, go, gx, gxo);
            case TANH -> i = gradTanh(ub, x, xo, gy, go, gx, gxo);
            case SIGMOID -> i = gradSigmoid(ub, x, xo, gy, go, gx, gxo);
            case RELU -> i = gradRelu(ub, x, xo, gy, go, gx, gxo);
            case SILU -> i = gradSilu(ub, x, xo, gy, go, gx, gxo);
            case SQUARE -> i = gradSquare(ub, x, xo, gy, go, gx, gxo);
            case RECIPROCAL -> i = gradReciprocal(ub, x, xo, gy, go, gx, gxo);
            case SIN -> {
                // scalar (the loop below): lanewise(SIN/COS) is not bit-stable across JIT tiers; never hot
            }
            case COS -> {
                // scalar (the loop below): lanewise(SIN/COS) is not bit-stable across JIT tiers; never hot
            }
            case GELU -> i = gelu(ub, x, xo, gy, go, gx, gxo);
        }
        for (; i < n; i++) gx[gxo + i] = (float) (gy[go + i] * derivative(op, (double) x[xo + i]));
    }

    /**
     * GELU forward (gy == null: out = x·Φ(x)) or backward (out = gy·(Φ(x) + x·φ(x))) over [0, ub), staged through
     * L1-sized buffers: one C2 compilation of the whole formula (two exps, the erfc polynomial, a division)
     * exceeds the inlining node budget and then boxes every vector (≈ 10× slower), so each stage is its own
     * small loop. Φ(x) = 0.5·erfc(|x|/√2) mirrored, with erfc(z) = t·exp(−z² + P(t)) (see erfcPoly) and
     * z² = x²/2 carried exactly as hi/2 + lo, exp(−hi/2) taken on its own: relative accuracy in both tails.
     */
    private static int gelu(int ub, float[] x, int xo, float[] gy, int go, float[] out, int oo) {
        final int chunk = 512;
        float[] t = new float[chunk], eh = new float[chunk], ep = new float[chunk];
        for (int c = 0; c < ub; c += chunk) {
            int len = Math.min(chunk, ub - c);                   // a multiple of L: ub is
            geluStageArgs(len, x, xo + c, t, eh, ep);
            expInPlace(len, eh);
            expInPlace(len, ep);
            if (gy == null) geluStageForward(len, x, xo + c, t, eh, ep, out, oo + c);
            else geluStageBackward(len, x, xo + c, t, eh, ep, gy, go + c, out, oo + c);
        }
        return ub;
    }

    /** t = 1/(1 + |x|/(2√2)), eh = −hi/2, ep = P(t) − lo (the two exponents, exponentiated next). */
    private static void geluStageArgs(int len, float[] x, int xo, float[] t, float[] eh, float[] ep) {
        final FloatVector one = FloatVector.broadcast(S, 1f), tc = FloatVector.broadcast(S, T_COEF);
        for (int i = 0; i < len; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector hi = v.mul(v);
            FloatVector lo = v.fma(v, hi.neg()).mul(0.5f);          // x²/2 = hi/2 + lo exactly
            FloatVector tv = one.div(v.abs().fma(tc, one));
            tv.intoArray(t, i);
            hi.mul(-0.5f).intoArray(eh, i);
            erfcPoly(tv).sub(lo).intoArray(ep, i);
        }
    }

    private static void expInPlace(int len, float[] a) {
        for (int i = 0; i < len; i += L) VectorMath.exp(FloatVector.fromArray(S, a, i)).intoArray(a, i);
    }

    /** Φ(x) from the staged t, exp(−hi/2), exp(P − lo): the lower tail h = ½·t·…, mirrored for x ≥ 0. */
    private static FloatVector geluCdf(FloatVector v, FloatVector t, FloatVector eh, FloatVector ep, FloatVector one) {
        FloatVector h = t.mul(0.5f).mul(eh).mul(ep);
        return h.blend(one.sub(h), v.compare(VectorOperators.GE, 0f));
    }

    private static void geluStageForward(int len, float[] x, int xo, float[] t, float[] eh, float[] ep, float[] y, int yo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        for (int i = 0; i < len; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector cdf = geluCdf(v, FloatVector.fromArray(S, t, i), FloatVector.fromArray(S, eh, i), FloatVector.fromArray(S, ep, i), one);
            v.mul(cdf).intoArray(y, yo + i);
        }
    }

    private static void geluStageBackward(int len, float[] x, int xo, float[] t, float[] eh, float[] ep,
                                          float[] gy, int go, float[] gx, int gxo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        for (int i = 0; i < len; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector e = FloatVector.fromArray(S, eh, i);
            FloatVector cdf = geluCdf(v, FloatVector.fromArray(S, t, i), e, FloatVector.fromArray(S, ep, i), one);
            FloatVector hi = v.mul(v), lo = v.fma(v, hi.neg()).mul(0.5f);
            FloatVector pdf = e.mul(one.sub(lo)).mul(INV_SQRT_2PI);       // φ(x) = exp(−hi/2)·exp(−lo)
            FloatVector.fromArray(S, gy, go + i).mul(v.fma(pdf, cdf)).intoArray(gx, gxo + i);
        }
    }

    /** silu(v) = v / (1 + e^{−v}): the SILU kernel's formula, shared with the SwiGLU gate (small: C2 inlines it). */
    private static FloatVector silu(FloatVector v, FloatVector one) {
        return v.div(one.add(VectorMath.exp(v.neg())));
    }

    /** silu'(v) = σ(v)·(1 + v·σ(−v)), each of σ(±v) from e = exp(−|v|) without the cancelling 1 − σ(v). */
    private static FloatVector siluGrad(FloatVector v, FloatVector one) {
        FloatVector e = VectorMath.exp(v.abs().neg()), inv = one.div(one.add(e)), small = e.mul(inv);
        var pos = v.compare(VectorOperators.GE, 0f);
        FloatVector sp = small.blend(inv, pos), sn = inv.blend(small, pos);   // σ(v), σ(−v)
        return sp.mul(v.mul(sn).add(one));
    }

    // One small method per operator: C2 compiles each on its own, so its vector code stays within one
    // method's inlining budget (a shared loop method ran out of it and boxed every vector).

    private static int fwdNeg(int ub, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.neg().intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdExp(int ub, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            VectorMath.exp(v).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdLog(int ub, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            VectorMath.log(v).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdSqrt(int ub, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.sqrt().intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdRsqrt(int ub, float[] x, int xo, float[] y, int yo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            one.div(v.sqrt()).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdAbs(int ub, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.abs().intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdTanh(int ub, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            VectorMath.tanh(v).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdSigmoid(int ub, float[] x, int xo, float[] y, int yo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            one.div(one.add(VectorMath.exp(v.neg()))).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdRelu(int ub, float[] x, int xo, float[] y, int yo) {
        final FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.max(zero).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdSilu(int ub, float[] x, int xo, float[] y, int yo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            silu(FloatVector.fromArray(S, x, xo + i), one).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdSquare(int ub, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.mul(v).intoArray(y, yo + i);
        }
        return i;
    }

    private static int fwdReciprocal(int ub, float[] x, int xo, float[] y, int yo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            one.div(v).intoArray(y, yo + i);
        }
        return i;
    }

    private static int gradNeg(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.neg().intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradExp(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.mul(VectorMath.exp(v)).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradLog(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.div(v).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradSqrt(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.mul(0.5f).div(v.sqrt()).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradRsqrt(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.mul(-0.5f).div(v.mul(v.sqrt())).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradAbs(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        final FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            zero.sub(g).blend(g, v.compare(VectorOperators.GT, 0f)).blend(zero, v.compare(VectorOperators.EQ, 0f)).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradTanh(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            // sech²(x) = 4e/(1+e)² with e = exp(−2|x|): no cancellation, unlike 1 − tanh² for large |x|
            FloatVector e = VectorMath.exp(v.abs().mul(-2f)), d = one.add(e);
            g.mul(e.mul(4f).div(d.mul(d))).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradSigmoid(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            // σ(x)·σ(−x) = e/(1+e)² with e = exp(−|x|): both factors accurate in both tails
            FloatVector e = VectorMath.exp(v.abs().neg()), d = one.add(e);
            g.mul(e.div(d.mul(d))).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradRelu(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.blend(0f, v.compare(VectorOperators.GT, 0f).not()).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradSilu(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.mul(siluGrad(v, one)).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradSquare(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.mul(v).mul(2f).intoArray(gx, gxo + i);
        }
        return i;
    }

    private static int gradReciprocal(int ub, float[] x, int xo, float[] gy, int go, float[] gx, int gxo) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i), g = FloatVector.fromArray(S, gy, go + i);
            g.neg().div(v.mul(v)).intoArray(gx, gxo + i);
        }
        return i;
    }

    // =====================================================================================
    // SwiGLU gate: y = silu(a)·b (the same operations, in the same order, as SILU then MUL, so the fused op
    // gives the composition's bits), and its backward in one pass
    // =====================================================================================

    /** y = silu(a)·b, contiguous. */
    public static void swiglu(int n, float[] a, int aOff, float[] b, int bOff, float[] y, int yOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int len = i1 - i0, i = swigluLoop(S.loopBound(len), a, aOff + i0, b, bOff + i0, y, yOff + i0);
            for (; i < len; i++) y[yOff + i0 + i] = (float) apply(UnaryOp.SILU, a[aOff + i0 + i]) * b[bOff + i0 + i];
        });
    }

    private static int swigluLoop(int ub, float[] a, int ao, float[] b, int bo, float[] y, int yo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            silu(FloatVector.fromArray(S, a, ao + i), one).mul(FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
        }
        return i;
    }

    /** ga = (gy·b)·silu'(a), gb = gy·silu(a), written, contiguous. */
    public static void swigluBackward(int n, float[] a, int aOff, float[] b, int bOff, float[] gy, int gyOff,
                                      float[] ga, int gaOff, float[] gb, int gbOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int len = i1 - i0;
            int i = swigluGradLoop(S.loopBound(len), a, aOff + i0, b, bOff + i0, gy, gyOff + i0, ga, gaOff + i0, gb, gbOff + i0);
            for (; i < len; i++) {
                double x = a[aOff + i0 + i];
                float g = gy[gyOff + i0 + i];
                ga[gaOff + i0 + i] = (float) ((g * b[bOff + i0 + i]) * derivative(UnaryOp.SILU, x));
                gb[gbOff + i0 + i] = g * (float) apply(UnaryOp.SILU, x);
            }
        });
    }

    // two loops over the same (L2-resident) chunk: with both exps in one loop C2 ran out of inlining budget and
    // boxed the vectors (measured 3.0 ns/element against 0.8 for the SiLU backward alone)
    private static int swigluGradLoop(int ub, float[] a, int ao, float[] b, int bo, float[] gy, int go,
                                      float[] ga, int gao, float[] gb, int gbo) {
        swigluGradALoop(ub, a, ao, b, bo, gy, go, ga, gao);
        return swigluGradBLoop(ub, a, ao, gy, go, gb, gbo);
    }

    /** ga = (gy·b)·silu'(a). */
    private static int swigluGradALoop(int ub, float[] a, int ao, float[] b, int bo, float[] gy, int go, float[] ga, int gao) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, a, ao + i), g = FloatVector.fromArray(S, gy, go + i);
            g.mul(FloatVector.fromArray(S, b, bo + i)).mul(siluGrad(v, one)).intoArray(ga, gao + i);
        }
        return i;
    }

    /** gb = gy·silu(a). */
    private static int swigluGradBLoop(int ub, float[] a, int ao, float[] gy, int go, float[] gb, int gbo) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector.fromArray(S, gy, go + i).mul(silu(FloatVector.fromArray(S, a, ao + i), one)).intoArray(gb, gbo + i);
        }
        return i;
    }

    /** Double twin of {@link #swiglu(int, float[], int, float[], int, float[], int)} (the reference). */
    public static void swiglu(int n, double[] a, int aOff, double[] b, int bOff, double[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] = apply(UnaryOp.SILU, a[aOff + i]) * b[bOff + i];
    }

    /** Double twin of the backward (the reference). */
    public static void swigluBackward(int n, double[] a, int aOff, double[] b, int bOff, double[] gy, int gyOff,
                                      double[] ga, int gaOff, double[] gb, int gbOff) {
        for (int i = 0; i < n; i++) {
            double x = a[aOff + i], g = gy[gyOff + i];
            ga[gaOff + i] = (g * b[bOff + i]) * derivative(UnaryOp.SILU, x);
            gb[gbOff + i] = g * apply(UnaryOp.SILU, x);
        }
    }

    /** Double scalar f(x) (the reference). */
    public static double apply(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0.0);
            case GELU -> x * normalCdf(x);
            case SILU -> x / (1.0 + Math.exp(-x));
            case SQUARE -> x * x;
            case RECIPROCAL -> 1.0 / x;
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
        };
    }

    /** Double scalar f'(x) (the reference). */
    public static double derivative(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -1.0;
            case EXP -> Math.exp(x);
            case LOG -> 1.0 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case ABS -> Math.signum(x);
            case TANH -> { double e = Math.exp(-2 * Math.abs(x)); yield 4 * e / ((1 + e) * (1 + e)); }   // sech², no cancellation
            case SIGMOID -> { double e = Math.exp(-Math.abs(x)); yield e / ((1 + e) * (1 + e)); }        // σ(x)σ(−x)
            case RELU -> x > 0 ? 1.0 : 0.0;
            case GELU -> normalCdf(x) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2.0 * Math.PI);
            case SILU -> { double s = 1.0 / (1.0 + Math.exp(-x)), sn = 1.0 / (1.0 + Math.exp(x)); yield s * (1.0 + x * sn); }
            case SQUARE -> 2.0 * x;
            case RECIPROCAL -> -1.0 / (x * x);
            case SIN -> Math.cos(x);
            case COS -> -Math.sin(x);
        };
    }

    /** y = f(x), contiguous. */
    public static void unary(UnaryOp op, int n, float[] x, int xOff, float[] y, int yOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> unaryRange(op, i1 - i0, x, xOff + i0, y, yOff + i0));
    }

    /** Double twin of {@link #unary(UnaryOp, int, float[], int, float[], int)}. */
    public static void unary(UnaryOp op, int n, double[] x, int xOff, double[] y, int yOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            for (int i = i0; i < i1; i++) y[yOff + i] = apply(op, x[xOff + i]);
        });
    }

    /** gx = gy·f'(x), written (not accumulated). */
    public static void unaryBackward(UnaryOp op, int n, float[] x, int xOff, float[] gy, int gyOff, float[] gx, int gxOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> gradRange(op, i1 - i0, x, xOff + i0, gy, gyOff + i0, gx, gxOff + i0));
    }

    /** Double twin of {@link #unaryBackward(UnaryOp, int, float[], int, float[], int, float[], int)}. */
    public static void unaryBackward(UnaryOp op, int n, double[] x, int xOff, double[] gy, int gyOff, double[] gx, int gxOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            for (int i = i0; i < i1; i++) gx[gxOff + i] = gy[gyOff + i] * derivative(op, x[xOff + i]);
        });
    }

    // =====================================================================================
    // erf in double (reference accuracy ~1e-15)
    // =====================================================================================

    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double INV_SQRT_PI = 1.0 / Math.sqrt(Math.PI);

    /** erf(x) in double: positive-term series for |x| < 1.5, continued fraction of erfc beyond. */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        double r = ax < 1.5 ? erfSeries(ax) : 1.0 - erfcCf(ax);
        return x < 0 ? -r : r;
    }

    /** erfc(x) in double, accurate in relative terms in the right tail. */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < 0) return 1.0 + erf(-x);
        if (x < 1.5) return 1.0 - erfSeries(x);   // erfc(1.5) ≈ 0.034: no significant cancellation
        return erfcCf(x);
    }

    /** erf(x) = 2/√π·e^{−x²}·Σ (2x²)^n·x / (1·3·…·(2n+1)), all terms positive (x ≥ 0). */
    static double erfSeries(double x) {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 500; n++) {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    }

    /** erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) for x ≥ 1.5 (150 terms: converged). */
    static double erfcCf(double x) {
        if (x > 27.3) return 0.0;
        double f = x;
        for (int k = 150; k >= 1; k--) f = x + (0.5 * k) / f;
        return Math.exp(-x * x) * INV_SQRT_PI / f;
    }

    /** Standard normal CDF Φ(x) in double. */
    public static double normalCdf(double x) {
        double z = x / Math.sqrt(2.0);
        return x < 0 ? 0.5 * erfc(-z) : 1.0 - 0.5 * erfc(z);
    }

    // =====================================================================================
    // BLAS-1 helpers
    // =====================================================================================

    /** y[0..n) = value. */
    public static void fill(int n, float value, float[] y, int yOff) { Arrays.fill(y, yOff, yOff + n, value); }

    public static void fill(int n, double value, double[] y, int yOff) { Arrays.fill(y, yOff, yOff + n, value); }

    /** y = alpha·x (in place allowed). */
    public static void scale(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int i = i0;
            for (int ub = i0 + S.loopBound(i1 - i0); i < ub; i += L)
                FloatVector.fromArray(S, x, xOff + i).mul(alpha).intoArray(y, yOff + i);
            for (; i < i1; i++) y[yOff + i] = alpha * x[xOff + i];
        });
    }

    public static void scale(int n, double alpha, double[] x, int xOff, double[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] = alpha * x[xOff + i];
    }

    /** y = x + alpha (in place allowed). */
    public static void addScalar(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int i = i0;
            for (int ub = i0 + S.loopBound(i1 - i0); i < ub; i += L)
                FloatVector.fromArray(S, x, xOff + i).add(alpha).intoArray(y, yOff + i);
            for (; i < i1; i++) y[yOff + i] = x[xOff + i] + alpha;
        });
    }

    public static void addScalar(int n, double alpha, double[] x, int xOff, double[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] = x[xOff + i] + alpha;
    }

    /** y += alpha·x. */
    public static void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int i = i0;
            FloatVector va = FloatVector.broadcast(S, alpha);
            for (int ub = i0 + S.loopBound(i1 - i0); i < ub; i += L)
                FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
            for (; i < i1; i++) y[yOff + i] += alpha * x[xOff + i];
        });
    }

    public static void axpy(int n, double alpha, double[] x, int xOff, double[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** dst += src (gradient accumulation). */
    public static void accumulate(int n, float[] src, int srcOff, float[] dst, int dstOff) {
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int i = i0;
            for (int ub = i0 + S.loopBound(i1 - i0); i < ub; i += L)
                FloatVector.fromArray(S, src, srcOff + i).add(FloatVector.fromArray(S, dst, dstOff + i)).intoArray(dst, dstOff + i);
            for (; i < i1; i++) dst[dstOff + i] += src[srcOff + i];
        });
    }

    public static void accumulate(int n, double[] src, int srcOff, double[] dst, int dstOff) {
        for (int i = 0; i < n; i++) dst[dstOff + i] += src[srcOff + i];
    }

    // =====================================================================================
    // Storage conversions
    // =====================================================================================

    public static void bf16ToF32(short[] src, int off, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) dst[dOff + i] = Float.intBitsToFloat((src[off + i] & 0xFFFF) << 16);
    }

    /** Round-to-nearest-even; NaN stays NaN (quietened), ±Inf preserved. */
    public static short f32ToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return (short) ((bits >>> 16) | 0x0040);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    public static void f32ToBf16(float[] src, int off, short[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) dst[dOff + i] = f32ToBf16(src[off + i]);
    }

    public static void f16ToF32(short[] src, int off, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) dst[dOff + i] = Float.float16ToFloat(src[off + i]);
    }

    public static void f32ToF16(float[] src, int off, short[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) dst[dOff + i] = Float.floatToFloat16(src[off + i]);
    }
}
