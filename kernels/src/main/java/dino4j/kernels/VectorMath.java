package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * exp, log and tanh on float vectors from +, ×, fma and bit operations only (Cephes single-precision
 * polynomials, ≤ 2 ulp). Why not {@code lanewise(EXP)}: HotSpot computes that with an SVML stub once C2 has
 * compiled the loop but with a scalar fallback before, and the two differ in the last bit — so results
 * depended on JIT timing and a resumed training run could not be bit-identical. These are deterministic.
 */
public final class VectorMath {
    private VectorMath() {}

    private static final float LOG2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private static final float ROUND_MAGIC = 12582912f; // 1.5·2^23: x + M − M rounds to nearest (|x| < 2^22)
    private static final float EXP_HI = 88.72283935546875f, EXP_LO = -87.33654475f;

    /**
     * e^x, lane-wise. Inputs are clamped to [−87.3, 88.7], so overflow saturates near 3.4e38 instead of
     * +inf and underflow stops at 1.2e−38 instead of 0 (NaN propagates). Kept small with no special-value
     * blends so C2 inlines it into the kernels' loops; a call that is not inlined boxes every vector.
     */
    public static FloatVector exp(FloatVector x) {
        var sp = x.species();
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector fx = xc.mul(LOG2E).add(ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = fx.fma(FloatVector.broadcast(sp, -C1), xc);
        r = fx.fma(FloatVector.broadcast(sp, -C2), r);
        FloatVector z = r.mul(r);
        FloatVector p = FloatVector.broadcast(sp, 1.9875691500E-4f)
                .fma(r, FloatVector.broadcast(sp, 1.3981999507E-3f))
                .fma(r, FloatVector.broadcast(sp, 8.3334519073E-3f))
                .fma(r, FloatVector.broadcast(sp, 4.1665795894E-2f))
                .fma(r, FloatVector.broadcast(sp, 1.6666665459E-1f))
                .fma(r, FloatVector.broadcast(sp, 5.0000001201E-1f));
        FloatVector y = p.fma(z, r).add(1f);
        // 2^n as 2^(n>>1) · 2^(n − (n>>1)): both factors stay normal for every n in [−126, 128]
        IntVector n = (IntVector) fx.convert(VectorOperators.F2I, 0);
        IntVector n1 = n.lanewise(VectorOperators.ASHR, 1), n2 = n.sub(n1);
        return y.mul(n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    /** Natural log, lane-wise; log(0) = −inf, negative → NaN (subnormal inputs are not special-cased). */
    public static FloatVector log(FloatVector x) {
        var sp = x.species();
        IntVector bits = x.reinterpretAsInts();
        IntVector e = bits.lanewise(VectorOperators.LSHR, 23).and(0xff).sub(126);
        FloatVector m = bits.and(0x807fffff).or(0x3f000000).reinterpretAsFloats();   // [0.5, 1)
        VectorMask<Float> small = m.compare(VectorOperators.LT, 0.707106781186547524f);
        FloatVector ef = ((FloatVector) e.convert(VectorOperators.I2F, 0)).sub(FloatVector.zero(sp).blend(1f, small));
        FloatVector xm = m.sub(1f).add(FloatVector.zero(sp).blend(m, small));
        FloatVector z = xm.mul(xm);
        FloatVector y = FloatVector.broadcast(sp, 7.0376836292E-2f)
                .fma(xm, FloatVector.broadcast(sp, -1.1514610310E-1f))
                .fma(xm, FloatVector.broadcast(sp, 1.1676998740E-1f))
                .fma(xm, FloatVector.broadcast(sp, -1.2420140846E-1f))
                .fma(xm, FloatVector.broadcast(sp, 1.4249322787E-1f))
                .fma(xm, FloatVector.broadcast(sp, -1.6668057665E-1f))
                .fma(xm, FloatVector.broadcast(sp, 2.0000714765E-1f))
                .fma(xm, FloatVector.broadcast(sp, -2.4999993993E-1f))
                .fma(xm, FloatVector.broadcast(sp, 3.3333331174E-1f))
                .mul(xm).mul(z);
        y = ef.fma(FloatVector.broadcast(sp, C2), y);
        y = z.fma(FloatVector.broadcast(sp, -0.5f), y);
        FloatVector res = xm.add(y);
        res = ef.fma(FloatVector.broadcast(sp, C1), res);
        res = res.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        res = res.blend(Float.NaN, x.compare(VectorOperators.LT, 0f).or(x.test(VectorOperators.IS_NAN)));
        return res.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
    }

    /** tanh, lane-wise: an odd polynomial for |x| < 0.625, 1 − 2/(e^{2|x|}+1) above, with the sign restored. */
    public static FloatVector tanh(FloatVector x) {
        var sp = x.species();
        FloatVector a = x.abs();
        FloatVector z = x.mul(x);
        FloatVector p = FloatVector.broadcast(sp, -5.70498872745E-3f)
                .fma(z, FloatVector.broadcast(sp, 2.06390887954E-2f))
                .fma(z, FloatVector.broadcast(sp, -5.37397155531E-2f))
                .fma(z, FloatVector.broadcast(sp, 1.33314422036E-1f))
                .fma(z, FloatVector.broadcast(sp, -3.33332819422E-1f))
                .mul(z).fma(x, x);
        FloatVector big = FloatVector.broadcast(sp, 1f).sub(FloatVector.broadcast(sp, 2f).div(exp(a.mul(2f)).add(1f)));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        return p.blend(big, a.compare(VectorOperators.GE, 0.625f)).blend(x, x.test(VectorOperators.IS_NAN));
    }

    /**
     * Lane rotations by 8, 4, 2, 1 (null where the species is narrower). Separate static finals, not an array: C2
     * intrinsifies {@code rearrange} only for a shuffle it knows as a constant, and a shuffle read from an array
     * sent every {@link #sum} through the Vector API's boxed fallback (JFR: 11 % of attention's time).
     */
    private static final VectorShuffle<Float> ROT8 = rotation(8), ROT4 = rotation(4), ROT2 = rotation(2), ROT1 = rotation(1);

    private static VectorShuffle<Float> rotation(int s) {
        int l = Simd.LANES;
        return s < l ? VectorShuffle.fromOp(Simd.F, i -> (i + s) % l) : null;
    }

    /**
     * Sum of the lanes in a fixed pairwise tree. {@code reduceLanes(ADD)} may add in any order (the spec says
     * so, and the interpreter and C2 do differ), which made training runs differ in the last bits.
     */
    public static float sum(FloatVector v) {
        if (v.species() != Simd.F) {
            float[] a = v.toArray();
            float s = 0;
            for (float x : a) s += x;
            return s;
        }
        if (Simd.LANES > 16) throw new IllegalStateException("VectorMath.sum: " + Simd.LANES + " float lanes");
        if (Simd.LANES > 8) v = v.add(v.rearrange(ROT8));
        if (Simd.LANES > 4) v = v.add(v.rearrange(ROT4));
        if (Simd.LANES > 2) v = v.add(v.rearrange(ROT2));
        if (Simd.LANES > 1) v = v.add(v.rearrange(ROT1));
        return v.lane(0);
    }

    /** Scalar twins through the same arithmetic (for loop tails), so a value never depends on where it sits. */
    public static float exp(float x) { return lane0(exp(FloatVector.broadcast(FloatVector.SPECIES_64, x))); }

    public static float log(float x) { return lane0(log(FloatVector.broadcast(FloatVector.SPECIES_64, x))); }

    public static float tanh(float x) { return lane0(tanh(FloatVector.broadcast(FloatVector.SPECIES_64, x))); }

    private static float lane0(FloatVector v) { return v.lane(0); }
}
