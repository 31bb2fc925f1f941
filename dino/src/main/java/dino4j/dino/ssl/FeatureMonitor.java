package dino4j.dino.ssl;

import dino4j.dino.data.ImageDataset;
import dino4j.dino.eval.ImageSample;
import dino4j.dino.eval.Knn;
import dino4j.dino.eval.KnnFeatures;
import dino4j.dino.eval.ProbeImages;
import dino4j.dino.eval.RankMe;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.tensor.Tensor;

import java.util.Locale;

/**
 * What a run watches in its teacher's features. With labels: the k-NN probe (DINO protocol, spec §6.1: the CLS
 * token; {@link KnnFeatures} offers the mean patch token too) on a reference/query pair. Always: RankMe, the
 * effective rank of the reference (or, without labels, the sampled training) images' features, which needs no
 * labels and falls towards 1 when the features collapse.
 */
public final class FeatureMonitor {
    /** One evaluation: the k-NN votes (null without labels) and the effective rank of {@code width}-wide features (NaN when too wide). */
    public record Eval(Knn.Result knn, double effectiveRank, int width) {
        /** k-NN top-1 accuracy, NaN without labels. */
        public double knnTop1() { return knn == null ? Double.NaN : knn.top1(); }

        public String describe() {
            return knn == null ? rankText() : String.format(Locale.ROOT, "k-NN %.2f %%, %s", 100 * knnTop1(), rankText());
        }

        /** "RankMe 41.3 of 96". */
        public String rankText() {
            return Double.isNaN(effectiveRank) ? "RankMe not measured above " + RankMe.MAX_WIDTH + " wide"
                    : String.format(Locale.ROOT, "RankMe %.1f of %d", effectiveRank, width);
        }
    }

    private final ProbeImages probe;     // null without labels
    private final ImageSample unlabelled; // the rank's images without labels, else null
    private final int[] trainLabels, testLabels;
    private final Knn.Protocol protocol;   // null without labels
    private final KnnFeatures features;

    private FeatureMonitor(ProbeImages probe, ImageSample unlabelled, Knn.Protocol protocol, KnnFeatures features) {
        this.probe = probe;
        this.unlabelled = unlabelled;
        this.trainLabels = probe == null ? null : probe.trainLabels();
        this.testLabels = probe == null ? null : probe.testLabels();
        this.protocol = protocol;
        this.features = features;
    }

    /** k-NN on a labelled pair (plus RankMe of the reference features). */
    public static FeatureMonitor knn(ImageDataset train, ImageDataset test, int maxTrain, int maxTest, int size, float[] mean, float[] std,
                                     Knn.Protocol protocol, KnnFeatures features) {
        return new FeatureMonitor(new ProbeImages(train, test, maxTrain, maxTest, size, mean, std), null, protocol, features);
    }

    /** RankMe only, on the first {@code max} images of unlabelled data. */
    public static FeatureMonitor unlabelled(ImageDataset data, int max, int size, float[] mean, float[] std, KnnFeatures features) {
        return new FeatureMonitor(null, new ImageSample(data, max, size, mean, std), null, features);
    }

    public boolean hasLabels() { return probe != null; }

    public KnnFeatures features() { return features; }

    /** The protocol in one line, e.g. "k = 20, T = 0.07, cosine; 8000 reference / 2000 query images". */
    public String describe() {
        String f = features == KnnFeatures.CLS ? "" : "; features " + features.cliName;
        if (probe == null) return String.format(Locale.ROOT, "RankMe of %d unlabelled images%s", unlabelled.size(), f);
        return String.format(Locale.ROOT, "%s; %d reference / %d query images%s", protocol.describe(),
                trainLabels.length, testLabels.length, f);
    }

    /** Evaluates a ViT being trained (in eval mode, restored after). */
    public Eval evaluate(DinoVisionTransformer backbone) {
        boolean wasTraining = backbone.isTraining();
        backbone.eval();
        try {
            return evaluate((Backbone) backbone);
        } finally {
            backbone.train(wasTraining);
        }
    }

    /** Evaluates a backbone already in eval mode (e.g. loaded from a checkpoint). */
    public Eval evaluate(Backbone backbone) {
        if (probe == null) {
            Tensor z = unlabelled.embed(backbone, features);
            return new Eval(null, RankMe.orNaN(z), z.size(1));
        }
        Tensor tr = probe.embedTrain(backbone, features), te = probe.embedTest(backbone, features);
        return new Eval(Knn.classify(tr, trainLabels, te, testLabels, protocol), RankMe.orNaN(tr), tr.size(1));
    }
}
