package dino4j.dino.ssl;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.Augment;
import dino4j.dino.data.Image;
import dino4j.dino.data.ImageDataset;
import dino4j.dino.eval.Knn;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.tensor.StepArena;
import dino4j.tensor.Tensor;

/**
 * k-NN probe of a backbone's CLS features (DINO protocol, spec §6.1) on a labelled train/test pair:
 * images resized to the global crop size (bicubic, antialias) and normalised once, then embedded in
 * no-grad batches at every evaluation.
 */
public final class KnnMonitor {
    private final Tensor trainImages, testImages;
    private final int[] trainLabels, testLabels;
    private final int k;
    private final double temperature;

    public KnnMonitor(ImageDataset train, ImageDataset test, int maxTrain, int maxTest, int size, float[] mean, float[] std,
                      int k, double temperature) {
        if (!train.hasLabels() || !test.hasLabels()) throw new IllegalArgumentException("k-NN evaluation needs labelled data");
        int nTr = Math.min(maxTrain, train.size()), nTe = Math.min(maxTest, test.size());
        trainLabels = new int[nTr];
        testLabels = new int[nTe];
        trainImages = load(train, nTr, size, mean, std, trainLabels);
        testImages = load(test, nTe, size, mean, std, testLabels);
        this.k = k;
        this.temperature = temperature;
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
        return String.format(java.util.Locale.ROOT, "k = %d, T = %.2f, cosine; %d reference / %d query images", k, temperature,
                trainLabels.length, testLabels.length);
    }

    /** Top-1 k-NN accuracy of the backbone's normed CLS token (evaluated in eval mode, restored after). */
    public double evaluate(DinoVisionTransformer backbone) {
        boolean wasTraining = backbone.isTraining();
        backbone.eval();
        try (var g = Grad.noGrad()) {
            Tensor tr = embed(backbone, trainImages), te = embed(backbone, testImages);
            return Knn.accuracy(tr, trainLabels, te, testLabels, k, temperature);
        } finally {
            backbone.train(wasTraining);
        }
    }

    private static Tensor embed(DinoVisionTransformer m, Tensor images) {
        int n = images.size(0), bs = 256, d = m.config.embedDim();
        float[] out = new float[n * d];
        for (int from = 0; from < n; from += bs) {
            int to = Math.min(n, from + bs);
            try (var arena = StepArena.open("k-NN batch")) {   // frees the batch's activations (device memory) now, not at the next GC
                Tensor cls = m.forwardFeatures(Var.constant(images.slice(0, from, to).contiguous())).clsToken().data().contiguous();
                System.arraycopy(cls.f32(), cls.offset(), out, from * d, (to - from) * d);
            }
        }
        return Tensor.of(out, n, d);
    }
}
