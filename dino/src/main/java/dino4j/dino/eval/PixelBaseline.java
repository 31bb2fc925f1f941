package dino4j.dino.eval;

import dino4j.autograd.Var;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Features;
import dino4j.tensor.Tensor;

/**
 * The baseline a learned backbone should beat: the raw pixels as the feature vector. It undoes the probe's
 * mean/std normalisation, so the features are the resized image's values in [0, 1], channel-major (a grayscale
 * image gives three equal copies, which changes neither cosine similarity nor a linear probe). The whole image is
 * one "patch", so the CLS and the mean patch token are the same pixels and every {@link KnnFeatures} choice reads
 * them. Only the probes use it: there are no storage tokens and no pre-norm sequence.
 */
public final class PixelBaseline implements Backbone {
    private final int side;
    private final float[] mean, std;

    public PixelBaseline(int side, float[] mean, float[] std) {
        if (side < 1) throw new IllegalArgumentException("pixel baseline: image side must be positive, got " + side);
        this.side = side;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    @Override public Features forwardFeatures(Var x) {
        Tensor t = x.data().contiguous();
        if (t.dim() != 4 || t.size(1) != 3 || t.size(2) != side || t.size(3) != side)
            throw new IllegalArgumentException("pixel baseline: expected images [B, 3, " + side + ", " + side + "], got " + java.util.Arrays.toString(t.shape()));
        int b = t.size(0), hw = side * side, d = 3 * hw;
        float[] in = t.f32(), out = new float[b * d];
        for (int i = 0; i < b; i++)
            for (int c = 0; c < 3; c++)
                for (int j = 0; j < hw; j++) {
                    int o = i * d + c * hw + j;
                    out[o] = in[t.offset() + o] * std[c] + mean[c];
                }
        Tensor cls = Tensor.of(out, b, d);
        return new Features(Var.constant(cls), null, Var.constant(cls.reshape(b, 1, d)), null, 1, 1);
    }

    @Override public int embedDim() { return 3 * side * side; }

    /** The whole image is one token. */
    @Override public int patchSize() { return side; }

    @Override public String describe() { return "raw pixels (" + side + "×" + side + "×3, " + embedDim() + " values)"; }
}
