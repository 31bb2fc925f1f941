package dino4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dino4j.kernels.FamilyTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class OptimizerKernelsTest {

    /** Hand-written torch.optim.AdamW (single-tensor, float tensors, Python-float scalars). */
    private static void torchAdamw(float[] p, float[] g, float[] m, float[] v, double lr, double b1, double b2,
                                   double eps, double wd, int step) {
        for (int i = 0; i < p.length; i++) {
            p[i] *= (float) (1 - lr * wd);                                  // param.mul_(1 - lr*wd)
            m[i] = m[i] + (float) (1 - b1) * (g[i] - m[i]);                 // exp_avg.lerp_(grad, 1-beta1)
            v[i] = v[i] * (float) b2 + (float) (1 - b2) * g[i] * g[i];      // exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2)
            double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
            float stepSize = (float) (lr / bc1), bc2sqrt = (float) Math.sqrt(bc2);
            float denom = (float) Math.sqrt(v[i]) / bc2sqrt + (float) eps;  // (v.sqrt() / bc2_sqrt).add_(eps)
            p[i] = p[i] - stepSize * m[i] / denom;                          // param.addcdiv_(m, denom, -step_size)
        }
    }

    @Test
    void adamwMatchesTorchFormula() {
        Random r = new Random(21);
        int n = 1001;
        float[] p = randn(r, n + 2), pRef = java.util.Arrays.copyOfRange(p, 2, n + 2);
        float[] m = new float[n + 1], v = new float[n + 5], mRef = new float[n], vRef = new float[n];
        double[] pd = toDouble(pRef), md = new double[n], vd = new double[n];
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.04f;
        for (int step = 1; step <= 6; step++) {
            float[] g = randn(r, n + 1);
            float[] gRef = java.util.Arrays.copyOfRange(g, 1, n + 1);
            if (step == 3) java.util.Arrays.fill(gRef, 0, 10, 0f);
            if (step == 3) java.util.Arrays.fill(g, 1, 11, 0f);
            OptimizerKernels.adamw(n, p, 2, g, 1, m, 1, v, 5 - 4, lr, b1, b2, eps, wd, step);
            torchAdamw(pRef, gRef, mRef, vRef, lr, b1, b2, eps, wd, step);
            OptimizerKernels.adamw(n, pd, 0, toDouble(gRef), 0, md, vd, lr, b1, b2, eps, wd, step);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(pRef[i], p[2 + i], 2e-6f * Math.max(1f, Math.abs(pRef[i])), "p " + i);
            assertEquals(mRef[i], m[1 + i], 1e-6f, "m " + i);
            assertEquals(vRef[i], v[1 + i], 1e-6f, "v " + i);
        }
        assertRel("adamw vs double", java.util.Arrays.copyOfRange(p, 2, n + 2), pd, 1e-6);
    }

    @Test
    void adamwShortOverloadAndFirstStep() {
        // first step: p ← p(1−lr·wd) − lr·g/(|g| + eps) elementwise (m̂ = g, v̂ = g²)
        float[] p = {1f, -2f, 0.5f}, g = {0.3f, -4f, 0f}, m = new float[3], v = new float[3];
        OptimizerKernels.adamw(3, p, 0, g, 0, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f, 1);
        assertEquals(1f * 0.95f - 0.1f, p[0], 1e-6f);
        assertEquals(-2f * 0.95f + 0.1f, p[1], 1e-6f);
        assertEquals(0.5f * 0.95f, p[2], 1e-6f);
    }

    @Test
    void emaMatchesFormula() {
        Random r = new Random(22);
        int n = 777;
        float[] t = randn(r, n), s = randn(r, n), t0 = t.clone();
        OptimizerKernels.ema(n, t, 0, s, 0, 0.996f);
        double[] td = toDouble(t0);
        OptimizerKernels.ema(n, td, 0, toDouble(s), 0, 0.996f);
        for (int i = 0; i < n; i++) {
            assertEquals(0.996f * t0[i] + (1 - 0.996f) * s[i], t[i], 1e-6f);
            assertEquals(td[i], t[i], 1e-6);
        }
    }
}
