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
 * The first n images of a dataset, resized to one square size (bicubic, antialias) and normalised once, with
 * their labels when the dataset has them; embedded by a backbone in no-grad batches whenever an evaluation asks,
 * so a run's periodic evaluations decode and resize the images only once.
 */
public final class ImageSample {
    private final Tensor images;
    private final int[] labels;   // null: unlabelled

    public ImageSample(ImageDataset d, int max, int size, float[] mean, float[] std) {
        int n = Math.min(max, d.size()), per = 3 * size * size;
        float[] data = new float[n * per];
        labels = d.hasLabels() ? new int[n] : null;
        for (int i = 0; i < n; i++) {
            Image img = d.get(i);
            if (img.h() != size || img.w() != size) img = Augment.resize(img, size, size);
            img = Augment.normalize(img.toChannels(3), mean, std);
            System.arraycopy(img.chw(), 0, data, i * per, per);
            if (labels != null) labels[i] = d.label(i);
        }
        images = Tensor.of(data, n, 3, size, size);
    }

    public int size() { return images.size(0); }

    public boolean hasLabels() { return labels != null; }

    /** A copy of the labels; fails on an unlabelled sample. */
    public int[] labels() {
        if (labels == null) throw new IllegalStateException("this image sample has no labels");
        return labels.clone();
    }

    /** The images' feature vectors, [N, features.width(D)], of a backbone in eval mode. */
    public Tensor embed(Backbone m, KnnFeatures features) {
        int n = size(), bs = 256, w = features.width(m.embedDim());
        float[] out = new float[n * w];
        try (var g = Grad.noGrad()) {
            for (int from = 0; from < n; from += bs) {
                int to = Math.min(n, from + bs);
                try (var arena = StepArena.open("evaluation batch")) {   // frees the batch's activations (device memory) now, not at the next GC
                    features.write(m.forwardFeatures(Var.constant(images.slice(0, from, to).contiguous())), out, from);
                }
            }
        }
        return Tensor.of(out, n, w);
    }
}
