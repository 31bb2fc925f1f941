package dino4j.dino.eval;

import dino4j.autograd.Var;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Features;
import dino4j.tensor.Tensor;

/**
 * The baseline a learned backbone should beat: the image's values themselves as the feature vector, channel-major.
 * Fed images without mean/std normalisation (the probes do that for {@code --weights pixels}) it reads the raw pixels
 * in [0, 1]; a grayscale image gives three equal copies, which changes neither cosine similarity nor a linear probe.
 * The whole image is one "patch", so the CLS and the mean patch token are the same pixels and every
 * {@link KnnFeatures} choice reads them. Only the probes use it: there are no storage tokens and no pre-norm sequence.
 */
public final class PixelBaseline implements Backbone {
    private final int side;

    public PixelBaseline(int side) {
        if (side < 1) throw new IllegalArgumentException("pixel baseline: image side must be positive, got " + side);
        this.side = side;
    }

    @Override public Features forwardFeatures(Var x) {
        Tensor t = x.data();
        if (t.dim() != 4 || t.size(1) != 3 || t.size(2) != side || t.size(3) != side)
            throw new IllegalArgumentException("pixel baseline: expected images [B, 3, " + side + ", " + side + "], got " + java.util.Arrays.toString(t.shape()));
        int b = t.size(0), d = embedDim();
        Tensor cls = t.contiguous().reshape(b, d);
        return new Features(Var.constant(cls), null, Var.constant(cls.reshape(b, 1, d)), null, 1, 1);
    }

    @Override public int embedDim() { return 3 * side * side; }

    /** The whole image is one token. */
    @Override public int patchSize() { return side; }

    @Override public String describe() { return "raw pixels (" + side + "×" + side + "×3, " + embedDim() + " values)"; }
}
