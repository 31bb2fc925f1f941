package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;

import java.util.Random;
import java.util.function.Function;

/**
 * DINOv3's batch-subset stochastic depth (§1.9): in training, the residual branch runs on a random
 * subset of {@code keep = max(floor(B·(1−p)), 1)} samples and is added back scaled by {@code B/keep};
 * the other samples pass through unchanged. Otherwise (eval or p = 0) it is the plain {@code x + branch(x)}.
 */
public final class StochasticDepth {
    private StochasticDepth() {}

    public static int keep(int batch, double p) { return Math.max((int) Math.floor(batch * (1 - p)), 1); }

    /** The first {@code keep} entries of a random permutation of 0..B−1 (partial Fisher–Yates). */
    public static int[] subset(int batch, int keep, Random rng) {
        int[] perm = new int[batch];
        for (int i = 0; i < batch; i++) perm[i] = i;
        for (int i = 0; i < keep; i++) {
            int j = i + rng.nextInt(batch - i);
            int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
        return java.util.Arrays.copyOf(perm, keep);
    }

    /**
     * {@code x + branch(x)} with batch-subset dropping on axis 0 of {@code x}. The branch maps [k, ...] to
     * the same shape (it includes its norm and LayerScale).
     */
    public static Var residual(Var x, double p, Random rng, boolean training, Function<Var, Var> branch) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("drop rate must be in [0, 1), got " + p);
        if (!training || p == 0) return F.add(x, branch.apply(x));
        int b = x.size(0);
        int keep = keep(b, p);
        int[] idx = subset(b, keep, rng);
        Var res = branch.apply(F.indexSelect(x, idx));
        return F.indexAdd(x, idx, F.mulScalar(res, (double) b / keep));
    }
}
