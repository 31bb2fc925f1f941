package dino4j.dino.eval;

import dino4j.autograd.F;
import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.nn.Linear;
import dino4j.nn.optim.AdamW;
import dino4j.nn.optim.ParamGroups;
import dino4j.nn.optim.Schedules;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongConsumer;

/**
 * Linear probe of frozen features (the linear evaluation of spec §6): a softmax classifier (one {@link Linear}
 * with bias, cross-entropy, AdamW, cosine lr) trained on the reference features and scored on the query features.
 * Features are standardised per dimension with the training rows' statistics. The lr and weight decay come from a
 * grid: every pair is trained on the reference rows minus a held-out validation part and scored there; the best
 * pair is then trained on all reference rows. The query labels are read only for the final score.
 */
public final class LinearProbe {
    private LinearProbe() {}

    public record Options(int epochs, int batch, double[] lrs, double[] weightDecays, double valFraction, long seed) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("linear probe: epochs must be at least 1, got " + epochs);
            if (batch < 1) throw new IllegalArgumentException("linear probe: batch must be at least 1, got " + batch);
            if (lrs.length == 0 || weightDecays.length == 0) throw new IllegalArgumentException("linear probe: empty lr or weight-decay grid");
            for (double lr : lrs) if (!(lr > 0)) throw new IllegalArgumentException("linear probe: lr must be positive, got " + lr);
            for (double wd : weightDecays) if (!(wd >= 0)) throw new IllegalArgumentException("linear probe: weight decay must be >= 0, got " + wd);
            if (!(valFraction > 0 && valFraction < 1)) throw new IllegalArgumentException("linear probe: validation fraction must be in (0, 1), got " + valFraction);
        }

        public static Options defaults() { return new Options(30, 256, new double[]{1e-3, 3e-3, 1e-2, 3e-2}, new double[]{0, 1e-2}, 0.1, 0); }

        /** Optimizer steps of one training over n rows. */
        long steps(int n) { return (long) epochs * ((n + batch - 1) / batch); }
    }

    /** One grid point and its accuracy on the validation rows. */
    public record Trial(double lr, double weightDecay, double valAccuracy) {}

    /** The query score, the chosen grid point, every trial, and the classifier trained on all reference rows. */
    public record Result(double testAccuracy, double lr, double weightDecay, List<Trial> trials, Linear head, Standardizer standardizer) {
        /**
         * The classifier as named tensors: {@code weight} [C, D], {@code bias} [C] and the standardisation it expects,
         * {@code feature_mean} and {@code feature_std} [D]: logits = weight · ((x − mean) / std) + bias.
         */
        public java.util.LinkedHashMap<String, Tensor> stateDict() {
            var sd = new java.util.LinkedHashMap<String, Tensor>();
            sd.put("weight", head.weight.data().contiguous());
            sd.put("bias", head.bias.data().contiguous());
            int d = standardizer.mean().length;
            float[] mean = new float[d], std = new float[d];
            for (int j = 0; j < d; j++) { mean[j] = (float) standardizer.mean()[j]; std[j] = (float) (1 / standardizer.invStd()[j]); }
            sd.put("feature_mean", Tensor.of(mean, d));
            sd.put("feature_std", Tensor.of(std, d));
            return sd;
        }
    }

    /** Optimizer steps {@link #fit} takes in all (for a progress bar). */
    public static long totalSteps(int trainRows, Options o) {
        int nVal = validationRows(trainRows, o);
        return o.lrs().length * o.weightDecays().length * o.steps(trainRows - nVal) + o.steps(trainRows);
    }

    private static int validationRows(int n, Options o) {
        int v = (int) Math.round(n * o.valFraction());
        if (v < 1 || v >= n) throw new IllegalArgumentException("linear probe: " + n + " reference rows leave no training or validation rows at fraction " + o.valFraction());
        return v;
    }

    /**
     * Chooses lr and weight decay on a validation split of (train, trainLabels), trains on all of it with the best
     * pair and returns the top-1 accuracy on (test, testLabels). {@code onStep} hears every optimizer step.
     */
    public static Result fit(Tensor train, int[] trainLabels, Tensor test, int[] testLabels, Options o, LongConsumer onStep) {
        if (train.dim() != 2 || test.dim() != 2 || train.size(1) != test.size(1))
            throw new IllegalArgumentException("linear probe: features must be [N, D] with one D, got train " + java.util.Arrays.toString(train.shape())
                    + " and test " + java.util.Arrays.toString(test.shape()));
        if (train.size(0) != trainLabels.length || test.size(0) != testLabels.length)
            throw new IllegalArgumentException("linear probe: features and labels differ in count");
        int n = train.size(0), d = train.size(1);
        int classes = 0;
        for (int l : trainLabels) classes = Math.max(classes, l + 1);
        float[] x = copy(train), xt = copy(test);   // standardised in place below

        // validation split: a seeded shuffle of the reference rows, the last valFraction held out
        int[] perm = permutation(n, new Random(o.seed()));
        int nVal = validationRows(n, o), nFit = n - nVal;
        float[] xFit = rows(x, d, perm, 0, nFit), xVal = rows(x, d, perm, nFit, n);
        int[] yFit = labels(trainLabels, perm, 0, nFit), yVal = labels(trainLabels, perm, nFit, n);
        Standardizer sFit = Standardizer.of(xFit, d);
        sFit.apply(xFit);
        sFit.apply(xVal);
        List<Trial> trials = new ArrayList<>();
        Trial best = null;
        for (double lr : o.lrs())
            for (double wd : o.weightDecays()) {
                Linear head = train(xFit, yFit, d, classes, lr, wd, o, onStep);
                Trial t = new Trial(lr, wd, accuracy(head, xVal, yVal, d));
                trials.add(t);
                if (best == null || t.valAccuracy() > best.valAccuracy()) best = t;
            }

        Standardizer s = Standardizer.of(x, d);
        s.apply(x);
        s.apply(xt);
        Linear head = train(x, trainLabels, d, classes, best.lr(), best.weightDecay(), o, onStep);
        return new Result(accuracy(head, xt, testLabels, d), best.lr(), best.weightDecay(), List.copyOf(trials), head, s);
    }

    static Linear train(float[] x, int[] y, int d, int classes, double lr, double wd, Options o, LongConsumer onStep) {
        int n = y.length;
        Random rng = new Random(o.seed() + 1);
        Linear head = new Linear(d, classes, true, rng);
        AdamW opt = new AdamW(ParamGroups.dinov3(head, 1.0, 0, 1.0));   // no decay on the bias, as everywhere in dino4j
        int perEpoch = (n + o.batch() - 1) / o.batch(), total = perEpoch * o.epochs();
        double[] lrs = Schedules.warmupCosine(lr, 0, Math.min(perEpoch, total / 10), total);
        int[] order = permutation(n, rng);
        int step = 0;
        for (int e = 0; e < o.epochs(); e++) {
            shuffle(order, rng);
            for (int from = 0; from < n; from += o.batch(), step++) {
                int to = Math.min(n, from + o.batch());
                float[] xb = rows(x, d, order, from, to);
                int[] yb = labels(y, order, from, to);
                Var loss = F.crossEntropy(head.forward(Var.constant(Tensor.of(xb, to - from, d))), yb);
                head.zeroGrad();
                loss.backward();
                opt.step(lrs[step], wd);
                if (onStep != null) onStep.accept(1);
            }
        }
        return head;
    }

    static double accuracy(Linear head, float[] x, int[] y, int d) {
        int n = y.length, correct = 0, bs = 4096;
        try (var g = Grad.noGrad()) {
            for (int from = 0; from < n; from += bs) {
                int to = Math.min(n, from + bs);
                float[] xb = new float[(to - from) * d];
                System.arraycopy(x, from * d, xb, 0, xb.length);
                Tensor logits = head.forward(Var.constant(Tensor.of(xb, to - from, d))).data().contiguous();
                float[] l = logits.f32();
                int c = logits.size(1), off = logits.offset();
                for (int i = 0; i < to - from; i++) {
                    int best = 0;
                    for (int j = 1; j < c; j++) if (l[off + i * c + j] > l[off + i * c + best]) best = j;
                    if (best == y[from + i]) correct++;
                }
            }
        }
        return n == 0 ? 0 : (double) correct / n;
    }

    /** Per-dimension mean and standard deviation of [N, D] rows (the training rows'), applied to any rows. */
    public record Standardizer(double[] mean, double[] invStd) {
        static Standardizer of(float[] x, int d) {
            int n = x.length / d;
            double[] mean = new double[d], var = new double[d], inv = new double[d];
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
            for (int j = 0; j < d; j++) mean[j] /= Math.max(1, n);
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) { double c = x[i * d + j] - mean[j]; var[j] += c * c; }
            for (int j = 0; j < d; j++) inv[j] = 1.0 / Math.max(Math.sqrt(var[j] / Math.max(1, n)), 1e-6);   // constant dims stay 0
            return new Standardizer(mean, inv);
        }

        void apply(float[] x) {
            int d = mean.length;
            for (int i = 0; i < x.length; i++) x[i] = (float) ((x[i] - mean[i % d]) * invStd[i % d]);
        }
    }

    private static float[] copy(Tensor t) {
        Tensor c = t.to(DType.F32).contiguous();
        return java.util.Arrays.copyOfRange(c.f32(), c.offset(), c.offset() + c.numel());
    }

    private static float[] rows(float[] x, int d, int[] idx, int from, int to) {
        float[] out = new float[(to - from) * d];
        for (int i = from; i < to; i++) System.arraycopy(x, idx[i] * d, out, (i - from) * d, d);
        return out;
    }

    private static int[] labels(int[] y, int[] idx, int from, int to) {
        int[] out = new int[to - from];
        for (int i = from; i < to; i++) out[i - from] = y[idx[i]];
        return out;
    }

    private static int[] permutation(int n, Random rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        shuffle(p, rng);
        return p;
    }

    private static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i]; a[i] = a[j]; a[j] = t;
        }
    }
}
