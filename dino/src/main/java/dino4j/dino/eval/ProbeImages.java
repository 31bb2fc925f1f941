package dino4j.dino.eval;

import dino4j.dino.data.ImageDataset;
import dino4j.dino.model.Backbone;
import dino4j.tensor.Tensor;

/** The labelled reference (train) and query (test) images of a frozen-feature probe (k-NN, linear). */
public final class ProbeImages {
    private final ImageSample train, test;

    public ProbeImages(ImageDataset train, ImageDataset test, int maxTrain, int maxTest, int size, float[] mean, float[] std) {
        if (!train.hasLabels() || !test.hasLabels()) throw new IllegalArgumentException("a feature probe needs labelled data");
        this.train = new ImageSample(train, maxTrain, size, mean, std);
        this.test = new ImageSample(test, maxTest, size, mean, std);
    }

    public int trainCount() { return train.size(); }
    public int testCount() { return test.size(); }
    public int[] trainLabels() { return train.labels(); }
    public int[] testLabels() { return test.labels(); }

    /** The reference images' feature vectors, [N, features.width(D)], of a backbone in eval mode. */
    public Tensor embedTrain(Backbone m, KnnFeatures features) { return train.embed(m, features); }

    /** The query images' feature vectors, [N, features.width(D)], of a backbone in eval mode. */
    public Tensor embedTest(Backbone m, KnnFeatures features) { return test.embed(m, features); }
}
