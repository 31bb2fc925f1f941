package dino4j.dino.ssl;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.eval.RankMe;
import dino4j.tensor.Tensor;

import java.util.Locale;

/**
 * Is a teacher's head giving the student a signal? On a batch of images: how alike the backbone's CLS tokens, the
 * DINO head's L2-normalised bottlenecks and the patch tokens are (mean pairwise cosine; for the CLS tokens also their
 * effective rank, {@link RankMe}), how much the prototype
 * logits vary across images, and the mean entropy of the Sinkhorn-Knopp targets (ln K = uniform = no signal).
 * A DINO head whose bottlenecks all point one way while the CLS tokens differ has collapsed (its targets stay
 * uniform and the DINO loss stays at ln K); bench/results/pretrain-fashion.md shows such runs.
 */
public final class HeadProbe {
    private HeadProbe() {}

    public record Report(int images, double clsCosine, double clsRankMe, int clsWidth, double dinoBottleneckCosine, double dinoLogitStdAcrossImages,
                         double dinoTargetEntropy, int patches, double patchCosine, double ibotBottleneckCosine,
                         double ibotTargetEntropy, int prototypes, double teacherTemp) {
        public String format() {
            return String.format(Locale.ROOT, String.join("%n",
                    "DINO head (%d images): CLS mean pairwise cosine %.4f (RankMe %.1f of %d), bottleneck %.4f; logits std across images %.5f;",
                    "  Sinkhorn-Knopp targets at T = %.3f: mean entropy %.4f nats (uniform: ln %d = %.4f)",
                    "iBOT head (%d patch tokens): patch-token cosine %.4f, bottleneck %.4f; targets' mean entropy %.4f nats"),
                    images, clsCosine, clsRankMe, clsWidth, dinoBottleneckCosine, dinoLogitStdAcrossImages, teacherTemp, dinoTargetEntropy,
                    prototypes, Math.log(prototypes), patches, patchCosine, ibotBottleneckCosine, ibotTargetEntropy);
        }
    }

    /** Probes {@code model} (put in eval mode) on normalised images [n, 3, S, S]; the iBOT part uses at most 4,096 patches. */
    public static Report probe(SslModel model, Tensor images, double teacherTemp) {
        model.eval();
        try (var g = Grad.noGrad()) {
            var f = model.backbone.forwardFeatures(Var.constant(images));
            Tensor cls = f.clsToken().data();
            Var z = model.dinoHead.forwardBottleneck(f.clsToken());
            Tensor logits = model.dinoHead.forwardLastLayer(z).data().contiguous();
            Tensor pt = f.patchTokens().data().contiguous();
            int p = pt.size(1), d = pt.size(2), m = Math.min(pt.size(0), Math.max(1, 4096 / p)) * p;
            Tensor patches = pt.reshape(-1, d).slice(0, 0, m).contiguous();
            Var pz = model.ibotHead.forwardBottleneck(Var.constant(patches));
            Tensor pl = model.ibotHead.forwardLastLayer(pz).data();
            return new Report(cls.size(0), meanPairwiseCosine(cls), RankMe.orNaN(cls), cls.size(1), meanPairwiseCosine(z.data()), stdAcrossRows(logits),
                    SslTrainer.meanEntropy(Losses.sinkhornKnopp(logits, teacherTemp)), m, meanPairwiseCosine(patches),
                    meanPairwiseCosine(pz.data()), SslTrainer.meanEntropy(Losses.sinkhornKnopp(pl, teacherTemp)),
                    logits.size(1), teacherTemp);
        }
    }

    /**
     * Mean cosine over all pairs i ≠ j of the rows of x [n, d]: (|Σ u_i|² − n) / (n(n − 1)) with u_i = x_i / |x_i|.
     * The unit rows stay in double here ({@code Knn.normalizeRows} rounds them to float, which costs ~1e-7 in a
     * number whose interesting digits, as in 0.9853 vs 0.9999, sit right there).
     */
    static double meanPairwiseCosine(Tensor x) {
        Tensor c = x.contiguous();
        int n = c.size(0), d = c.size(1);
        if (n < 2) return Double.NaN;
        float[] v = c.f32();
        double[] sum = new double[d];
        for (int i = 0; i < n; i++) {
            int o = c.offset() + i * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) v[o + j] * v[o + j];
            double inv = 1 / Math.max(Math.sqrt(ss), 1e-30);
            for (int j = 0; j < d; j++) sum[j] += v[o + j] * inv;
        }
        double s2 = 0;
        for (double s : sum) s2 += s * s;
        return (s2 - n) / ((double) n * (n - 1));
    }

    /** For each column, the standard deviation over rows; averaged over the columns (x [n, K]). */
    static double stdAcrossRows(Tensor x) {
        Tensor c = x.contiguous();
        int n = c.size(0), k = c.size(1);
        float[] v = c.f32();
        double acc = 0;
        for (int j = 0; j < k; j++) {
            double m = 0, q = 0;
            for (int i = 0; i < n; i++) { double e = v[c.offset() + i * k + j]; m += e; q += e * e; }
            m /= n;
            acc += Math.sqrt(Math.max(0, q / n - m * m));
        }
        return acc / k;
    }
}
