package dino4j.dino.ssl;

import dino4j.dino.data.ImageDataset;
import dino4j.dino.eval.Knn;
import dino4j.dino.eval.KnnFeatures;
import dino4j.dino.eval.ProbeImages;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.tensor.Tensor;

/**
 * k-NN probe of a backbone's features (DINO protocol, spec §6.1: the CLS token; {@link KnnFeatures} offers the
 * mean patch token too) on a labelled train/test pair ({@link ProbeImages}: prepared once, embedded at every evaluation).
 */
public final class KnnMonitor {
    private final ProbeImages images;
    private final int[] trainLabels, testLabels;
    private final int k;
    private final double temperature;
    private final KnnFeatures features;

    public KnnMonitor(ImageDataset train, ImageDataset test, int maxTrain, int maxTest, int size, float[] mean, float[] std,
                      int k, double temperature) {
        this(train, test, maxTrain, maxTest, size, mean, std, k, temperature, KnnFeatures.CLS);
    }

    public KnnMonitor(ImageDataset train, ImageDataset test, int maxTrain, int maxTest, int size, float[] mean, float[] std,
                      int k, double temperature, KnnFeatures features) {
        images = new ProbeImages(train, test, maxTrain, maxTest, size, mean, std);
        trainLabels = images.trainLabels();
        testLabels = images.testLabels();
        this.k = k;
        this.temperature = temperature;
        this.features = features;
    }

    /** The protocol in one line, e.g. "k = 20, T = 0.07, cosine; 8000 reference / 2000 query images". */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "k = %d, T = %.2f, cosine; %d reference / %d query images%s", k, temperature,
                trainLabels.length, testLabels.length, features == KnnFeatures.CLS ? "" : "; features " + features.cliName);
    }

    public KnnFeatures features() { return features; }

    /** Top-1 k-NN accuracy of a ViT being trained (evaluated in eval mode, restored after). */
    public double evaluate(DinoVisionTransformer backbone) {
        boolean wasTraining = backbone.isTraining();
        backbone.eval();
        try {
            return evaluate((Backbone) backbone);
        } finally {
            backbone.train(wasTraining);
        }
    }

    /** Top-1 k-NN accuracy of a backbone already in eval mode (e.g. loaded from a checkpoint). */
    public double evaluate(Backbone backbone) {
        Tensor tr = images.embedTrain(backbone, features), te = images.embedTest(backbone, features);
        return Knn.accuracy(tr, trainLabels, te, testLabels, k, temperature);
    }
}
