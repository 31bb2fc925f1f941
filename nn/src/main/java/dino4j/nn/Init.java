package dino4j.nn;

import dino4j.tensor.Tensor;

import java.util.Random;

/**
 * In-place initialisers, all drawing from a caller-supplied (seeded) {@link Random} so runs are
 * reproducible. As a value, an {@code Init} is a recipe ({@code Init.truncNormal(0.02)}) applied later
 * with {@link #apply(Tensor, Random)}; the static {@code fill*} methods apply one directly.
 */
@FunctionalInterface
public interface Init {
    /** Fills {@code t} (contiguous) in place. */
    void apply(Tensor t, Random rng);

    /** Truncated normal with PyTorch's defaults: mean 0, truncation at absolute [-2, 2]. */
    static Init truncNormal(double std) { return truncNormal(0, std, -2, 2); }

    static Init truncNormal(double mean, double std, double a, double b) { return (t, r) -> fillTruncNormal(t, mean, std, a, b, r); }

    static Init normal(double mean, double std) { return (t, r) -> fillNormal(t, mean, std, r); }

    static Init uniform(double lo, double hi) { return (t, r) -> fillUniform(t, lo, hi, r); }

    static Init zeros() { return (t, r) -> fillConstant(t, 0); }

    static Init ones() { return (t, r) -> fillConstant(t, 1); }

    static Init constant(double v) { return (t, r) -> fillConstant(t, v); }

    /**
     * Normal(mean, std) restricted to [a, b] (absolute bounds, like torch.nn.init.trunc_normal_): values
     * outside are redrawn. When [a, b] holds almost no mass, falls back to clamping after 1000 draws.
     */
    static void fillTruncNormal(Tensor t, double mean, double std, double a, double b, Random rng) {
        if (!(a < b)) throw new IllegalArgumentException("trunc_normal needs a < b, got [" + a + ", " + b + "]");
        checkContiguous(t);
        int n = t.numel();
        for (int i = 0; i < n; i++) {
            double v = mean + std * rng.nextGaussian();
            int tries = 0;
            while ((v < a || v > b) && ++tries < 1000) v = mean + std * rng.nextGaussian();
            t.storage().set(t.offset() + i, Math.min(b, Math.max(a, v)));
        }
        t.bumpVersion();
    }

    static void fillNormal(Tensor t, double mean, double std, Random rng) {
        checkContiguous(t);
        for (int i = 0; i < t.numel(); i++) t.storage().set(t.offset() + i, mean + std * rng.nextGaussian());
        t.bumpVersion();
    }

    /** Uniform in [lo, hi). */
    static void fillUniform(Tensor t, double lo, double hi, Random rng) {
        checkContiguous(t);
        for (int i = 0; i < t.numel(); i++) t.storage().set(t.offset() + i, lo + (hi - lo) * rng.nextDouble());
        t.bumpVersion();
    }

    static void fillConstant(Tensor t, double v) {
        checkContiguous(t);
        for (int i = 0; i < t.numel(); i++) t.storage().set(t.offset() + i, v);
        t.bumpVersion();
    }

    private static void checkContiguous(Tensor t) {
        if (!t.isContiguous()) throw new IllegalArgumentException("initialisers fill contiguous tensors only");
    }

    /**
     * The generator layers use when none is passed: one process-wide Random seeded with 0, so a model
     * built the same way in the same order gets the same weights. Pass your own Random for control.
     */
    static Random defaultRng() { return DefaultRng.RNG; }

    /** Holder for {@link #defaultRng()}. */
    final class DefaultRng {
        private DefaultRng() {}
        static final Random RNG = new Random(0);
    }
}
