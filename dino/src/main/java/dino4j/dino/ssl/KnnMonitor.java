package dino4j.dino.ssl;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.Augment;
import dino4j.dino.data.Image;
import dino4j.dino.data.ImageDataset;
import dino4j.dino.eval.Knn;
import dino4j.dino.eval.KnnFeatures;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.tensor.StepArena;
import dino4j.tensor.Tensor;

/**
 * k-NN probe of a backbone's features (DINO protocol, spec §6.1: the CLS token; {@link KnnFeatures} offers the
 * mean patch token too) on a labelled train/test pair: images resized to the given size (bicubic, antialias) and
 * normalised once, then embedded in no-grad batches at every evaluation.
 */
public final class KnnMonitor {
    private final Tensor trainImages, testImages;
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
        if (!train.hasLabels() || !test.hasLabels()) throw new IllegalArgumentException("k-NN evaluation needs labelled data");
        int nTr = Math.min(maxTrain, train.size()), nTe = Math.min(maxTest, test.size());
        trainLabels = new int[nTr];
        testLabels = new int[nTe];
        trainImages = load(train, nTr, size, mean, std, trainLabels);
        testImages = load(test, nTe, size, mean, std, testLabels);
        this.k = k;
        this.temperature = temperature;
        this.features = features;
    }

    private static Tensor load(ImageDataset d, int n, int size, float[] mean, float[] std, int[] labels) {
        int per = 3 * size * size;
        float[] data = new float[n * per];
        for (int i = 0; i < n; i++) {
            Image img = d.get(i);
            if (img.h() != size || img.w() != size) img = Augment.resize(img, size, size);
            img = Augment.normalize(img.toChannels(3), mean, std);
            System.arraycopy(img.chw(), 0, data, i * per, per);
            labels[i] = d.label(i);
        }
        return Tensor.of(data, n, 3, size, size);
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
        try (var g = Grad.noGrad()) {
            Tensor tr = embed(backbone, trainImages), te = embed(backbone, testImages);
            return Knn.accuracy(tr, trainLabels, te, testLabels, k, temperature);
        }
    }

    private Tensor embed(Backbone m, Tensor images) {
        int n = images.size(0), bs = 256, w = features.width(m.embedDim());
        float[] out = new float[n * w];
        for (int from = 0; from < n; from += bs) {
            int to = Math.min(n, from + bs);
            try (var arena = StepArena.open("k-NN batch")) {   // frees the batch's activations (device memory) now, not at the next GC
                features.write(m.forwardFeatures(Var.constant(images.slice(0, from, to).contiguous())), out, from);
            }
        }
        return Tensor.of(out, n, w);
    }
}
