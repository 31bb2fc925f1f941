package dino4j.dino.eval;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.Augment;
import dino4j.dino.data.Image;
import dino4j.dino.data.ImageDataset;
import dino4j.dino.model.Backbone;
import dino4j.tensor.StepArena;
import dino4j.tensor.Tensor;

/**
 * The labelled reference (train) and query (test) images of a frozen-feature probe (k-NN, linear): resized to
 * one square size (bicubic, antialias) and normalised once, then embedded by a backbone in no-grad batches
 * whenever a probe asks, so a run's periodic evaluations decode and resize the images only once.
 */
public final class ProbeImages {
    private final Tensor trainImages, testImages;
    private final int[] trainLabels, testLabels;

    public ProbeImages(ImageDataset train, ImageDataset test, int maxTrain, int maxTest, int size, float[] mean, float[] std) {
        if (!train.hasLabels() || !test.hasLabels()) throw new IllegalArgumentException("a feature probe needs labelled data");
        int nTr = Math.min(maxTrain, train.size()), nTe = Math.min(maxTest, test.size());
        trainLabels = new int[nTr];
        testLabels = new int[nTe];
        trainImages = load(train, nTr, size, mean, std, trainLabels);
        testImages = load(test, nTe, size, mean, std, testLabels);
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

    public int trainCount() { return trainLabels.length; }
    public int testCount() { return testLabels.length; }
    public int[] trainLabels() { return trainLabels.clone(); }
    public int[] testLabels() { return testLabels.clone(); }

    /** The reference images' feature vectors, [N, features.width(D)], of a backbone in eval mode. */
    public Tensor embedTrain(Backbone m, KnnFeatures features) { return embed(m, trainImages, features); }

    /** The query images' feature vectors, [N, features.width(D)], of a backbone in eval mode. */
    public Tensor embedTest(Backbone m, KnnFeatures features) { return embed(m, testImages, features); }

    private static Tensor embed(Backbone m, Tensor images, KnnFeatures features) {
        int n = images.size(0), bs = 256, w = features.width(m.embedDim());
        float[] out = new float[n * w];
        try (var g = Grad.noGrad()) {
            for (int from = 0; from < n; from += bs) {
                int to = Math.min(n, from + bs);
                try (var arena = StepArena.open("probe batch")) {   // frees the batch's activations (device memory) now, not at the next GC
                    features.write(m.forwardFeatures(Var.constant(images.slice(0, from, to).contiguous())), out, from);
                }
            }
        }
        return Tensor.of(out, n, w);
    }
}
