package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused optimiser updates over flat parameter arrays: AdamW exactly as {@code torch.optim.AdamW}
 * (single-tensor path: decoupled decay first, bias corrections {@code 1−β^t}, eps added after the
 * bias-corrected square root) and the teacher EMA. Double twins are the reference.
 */
public final class OptimizerKernels {
    private OptimizerKernels() {}

    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = S.length();
    private static final int GRAIN = 1 << 15;

    /** AdamW step with moment arrays {@code m}, {@code v} indexed from 0 (same length as the span). */
    public static void adamw(int n, float[] param, int pOff, float[] grad, int gOff, float[] m, float[] v,
                             float lr, float beta1, float beta2, float eps, float weightDecay, int step) {
        adamw(n, param, pOff, grad, gOff, m, 0, v, 0, lr, beta1, beta2, eps, weightDecay, step);
    }

    /**
     * One AdamW step ({@code step} ≥ 1 is the step count after incrementing, as torch):
     * <pre>
     * p *= 1 − lr·wd
     * m  = m + (1−β1)·(g − m)
     * v  = β2·v + (1−β2)·g·g
     * p += −(lr/(1−β1^t)) · m / (√v / √(1−β2^t) + eps)
     * </pre>
     * Scalars are computed in double and rounded to float, as PyTorch does with Python-float scalars.
     */
    public static void adamw(int n, float[] param, int pOff, float[] grad, int gOff, float[] m, int mOff,
                             float[] v, int vOff, float lr, float beta1, float beta2, float eps, float weightDecay,
                             int step) {
        if (step < 1) throw new IllegalArgumentException("step must be >= 1, got " + step);
        final float decay = (float) (1.0 - (double) lr * weightDecay);
        final float w1 = (float) (1.0 - beta1);
        final float w2 = (float) (1.0 - beta2);
        final double bc1 = 1.0 - Math.pow(beta1, step), bc2 = 1.0 - Math.pow(beta2, step);
        final float negStep = (float) (-(double) lr / bc1);
        final float bc2sqrt = (float) Math.sqrt(bc2);
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int i = i0;
            for (int ub = i0 + S.loopBound(i1 - i0); i < ub; i += L) {
                FloatVector g = FloatVector.fromArray(S, grad, gOff + i);
                FloatVector p = FloatVector.fromArray(S, param, pOff + i).mul(decay);
                FloatVector mv = FloatVector.fromArray(S, m, mOff + i);
                mv = mv.add(g.sub(mv).mul(w1));
                FloatVector vv = FloatVector.fromArray(S, v, vOff + i).mul(beta2);
                vv = vv.add(g.mul(w2).mul(g));
                FloatVector denom = vv.sqrt().div(bc2sqrt).add(eps);
                p = p.add(mv.mul(negStep).div(denom));
                mv.intoArray(m, mOff + i);
                vv.intoArray(v, vOff + i);
                p.intoArray(param, pOff + i);
            }
            for (; i < i1; i++) {
                float g = grad[gOff + i];
                float p = param[pOff + i] * decay;
                float mm = m[mOff + i];
                mm = mm + (g - mm) * w1;
                float vv = v[vOff + i] * beta2;
                vv = vv + g * w2 * g;
                float denom = (float) Math.sqrt(vv) / bc2sqrt + eps;
                p = p + mm * negStep / denom;
                m[mOff + i] = mm; v[vOff + i] = vv; param[pOff + i] = p;
            }
        });
    }

    /** Double twin (reference) of AdamW, same formula evaluated in double. */
    public static void adamw(int n, double[] param, int pOff, double[] grad, int gOff, double[] m, int mOff,
                             double[] v, int vOff, double lr, double beta1, double beta2, double eps,
                             double weightDecay, int step) {
        if (step < 1) throw new IllegalArgumentException("step must be >= 1, got " + step);
        double bc1 = 1.0 - Math.pow(beta1, step), bc2 = 1.0 - Math.pow(beta2, step);
        double stepSize = lr / bc1, bc2sqrt = Math.sqrt(bc2);
        for (int i = 0; i < n; i++) {
            double g = grad[gOff + i];
            double p = param[pOff + i] * (1.0 - lr * weightDecay);
            double mm = m[mOff + i] + (1.0 - beta1) * (g - m[mOff + i]);
            double vv = beta2 * v[vOff + i] + (1.0 - beta2) * g * g;
            p -= stepSize * mm / (Math.sqrt(vv) / bc2sqrt + eps);
            m[mOff + i] = mm; v[vOff + i] = vv; param[pOff + i] = p;
        }
    }

    public static void adamw(int n, double[] param, int pOff, double[] grad, int gOff, double[] m, double[] v,
                             double lr, double beta1, double beta2, double eps, double weightDecay, int step) {
        adamw(n, param, pOff, grad, gOff, m, 0, v, 0, lr, beta1, beta2, eps, weightDecay, step);
    }

    /** Teacher EMA: t = momentum·t + (1 − momentum)·s. */
    public static void ema(int n, float[] teacher, int tOff, float[] student, int sOff, float momentum) {
        final float w = (float) (1.0 - momentum);
        Parallel.forRange(n, GRAIN, (i0, i1) -> {
            int i = i0;
            for (int ub = i0 + S.loopBound(i1 - i0); i < ub; i += L)
                FloatVector.fromArray(S, teacher, tOff + i).mul(momentum)
                        .add(FloatVector.fromArray(S, student, sOff + i).mul(w)).intoArray(teacher, tOff + i);
            for (; i < i1; i++) teacher[tOff + i] = teacher[tOff + i] * momentum + student[sOff + i] * w;
        });
    }

    public static void ema(int n, double[] teacher, int tOff, double[] student, int sOff, double momentum) {
        for (int i = 0; i < n; i++) teacher[tOff + i] = momentum * teacher[tOff + i] + (1.0 - momentum) * student[sOff + i];
    }
}
